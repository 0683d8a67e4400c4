import DatasanTestSupport
import Foundation
import Testing

/// Fixtures/png/train (Fixtures/make_png_fixtures.py): an ImageFolder of cat / dog / zebra, 8 RGB 8x8
/// images each; dog/dog_03.png is truncated, zebra/zebra_05.png has a flipped IDAT byte,
/// cat/cat_07.png is 8x6 (shape_mismatch), readme.txt is skipped.
@Suite struct PNGCLITests {
  let train = CLI.fixture("png/train")
  let flagged = ["cat/cat_07.png", "dog/dog_03.png", "zebra/zebra_05.png"]

  @Test func scanReportsBrokenImagesAndSkippedFiles() throws {
    let dir = try makeTempDir()
    let r = try CLI.run(["scan", train, "--report", dir + "/r.json"])
    #expect(r.status == 1)
    let report = try Report.load(dir + "/r.json")
    #expect(report.input.format == "png")
    #expect(report.samples.total == 24 && report.samples.flagged == 3)
    #expect(report.count("unreadable") == 2 && report.count("shape_mismatch") == 1)
    #expect(report.count("skipped_files") == 1)
    #expect(Set(report.issues.filter { $0.severity == "error" }.compactMap(\.key)) == Set(flagged))
    #expect(report.stats.labels?.histogram == ["0": 7, "1": 7, "2": 7])
  }

  @Test func cleanToHDF5KeepsOriginalFilesInQuarantine() throws {
    let dir = try makeTempDir()
    let r = try CLI.run(["clean", train, "-o", dir + "/train.h5"])
    #expect(r.status == 0, "\(r.stderr)")
    let data = try #require(HDF5ReadBack.read(dir + "/train.h5", "data"))
    #expect(data.dims == [21, 3, 8, 8] && data.typeClass == "float" && data.typeSize == 4)
    let label = try #require(HDF5ReadBack.read(dir + "/train.h5", "label"))
    #expect(label.typeClass == "integer" && label.typeSize == 8)
    #expect(label.values == [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2])
    let quarantine = dir + "/train.quarantine"
    #expect(CLI.files(under: quarantine) == flagged)
    for f in flagged {
      #expect(FileManager.default.contentsEqual(atPath: quarantine + "/" + f, andPath: train + "/" + f))
    }
    #expect(try Reason.load(quarantine + ".reasons.jsonl").map(\.key) == flagged)
  }

  @Test func channelLastWritesHWC() throws {
    let dir = try makeTempDir()
    let r = try CLI.run(["clean", train, "-o", dir + "/t.h5", "--channel-axis", "last"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(HDF5ReadBack.read(dir + "/t.h5", "data")?.dims == [21, 8, 8, 3])
  }

  @Test func pngFolderCopyNeedsNormalizeNone() throws {
    let dir = try makeTempDir()
    let refused = try CLI.run(["clean", train, "-o", dir + "/copy", "--output-format", "png"])
    #expect(refused.status == 2 && refused.stderr.contains("--normalize none"))
    #expect(!FileManager.default.fileExists(atPath: dir + "/copy"))
    let r = try CLI.run(["clean", train, "-o", dir + "/copy", "--output-format", "png", "--normalize", "none"])
    #expect(r.status == 0, "\(r.stderr)")
    let copied = CLI.files(under: dir + "/copy")
    #expect(copied.count == 21 && Set(copied).isDisjoint(with: flagged))
    for f in copied { #expect(FileManager.default.contentsEqual(atPath: dir + "/copy/" + f, andPath: train + "/" + f)) }
  }

  @Test func hiddenClassFolderAndMaxPixels() throws {
    let dir = try makeTempDir()
    _ = try CLI.run(["scan", CLI.fixture("png/imagefolder"), "--report", dir + "/r.json"])
    let report = try Report.load(dir + "/r.json")
    #expect(report.count("hidden_class_folder") == 1)
    #expect(report.issues.contains { $0.kind == "hidden_class_folder" && $0.detail.contains(".hidden_class") })
    let bomb = try CLI.run(["scan", train, "--max-pixels", "32", "--report", dir + "/b.json"])
    #expect(bomb.status == 1)
    #expect(try Report.load(dir + "/b.json").count("unreadable") == 24)
  }
}

@Suite struct HTMLCLITests {
  @Test func htmlReportOfAnImageFolder() throws {
    let dir = try makeTempDir()
    let r = try CLI.run(["scan", CLI.fixture("png/train"), "--html", dir + "/r.html"])
    #expect(r.status == 1)
    let page = try String(contentsOfFile: dir + "/r.html", encoding: .utf8)
    #expect(page.hasPrefix("<!DOCTYPE html>") || page.lowercased().hasPrefix("<!doctype html>"))
    for key in ["cat/cat_07.png", "dog/dog_03.png", "zebra/zebra_05.png"] { #expect(page.contains(key)) }
    #expect(page.contains("FAIL"))
    #expect(page.contains("<svg"))
    #expect(page.contains("data:image/png;base64,"))
    #expect(!page.contains("http://") && !page.contains("https://") || page.contains("Content-Security-Policy"))
  }
}

/// Nothing outside an image folder is read, and nothing of it lands in the outputs (issue 10).
@Suite struct PNGContainmentCLITests {
  @Test func listEntriesAndLinksOutsideTheRootAreUnreadableAndNotCopied() throws {
    let dir = try makeTempDir()
    let root = dir + "/images"
    let fm = FileManager.default
    try fm.createDirectory(atPath: root + "/img", withIntermediateDirectories: true)
    try fm.copyItem(atPath: CLI.fixture("png/train/cat/cat_00.png"), toPath: root + "/img/a.png")
    try fm.copyItem(atPath: CLI.fixture("png/train/cat/cat_01.png"), toPath: dir + "/secret.png")
    try fm.createSymbolicLink(atPath: root + "/img/leak.png", withDestinationPath: dir + "/secret.png")
    let list = dir + "/list.txt"
    try "img/a.png 0\n../../../../etc/passwd 1\n/etc/hostname 1\nimg/../../secret.png 1\nimg/leak.png 1\n"
      .write(toFile: list, atomically: false, encoding: .utf8)
    let scan = try CLI.run(["scan", root, "--list", list, "--report", dir + "/r.json"])
    #expect(scan.status == 1, "\(scan.stderr)")
    let report = try Report.load(dir + "/r.json")
    #expect(report.samples.total == 5 && report.count("unreadable") == 4)
    let clean = try CLI.run(["clean", root, "--list", list, "-o", dir + "/out", "--normalize", "none"])
    #expect(clean.status == 0, "\(clean.stderr)")
    // The clean output holds the one good image; the quarantine copies nothing from outside.
    #expect(fm.contentsEqual(atPath: dir + "/out/img/a.png", andPath: root + "/img/a.png"))
    let quarantined = fm.enumerator(atPath: dir + "/out.quarantine")?.compactMap { $0 as? String } ?? []
    #expect(quarantined.filter { $0.hasSuffix(".png") || $0.contains("passwd") || $0.contains("hostname") }.isEmpty)
    #expect(try Reason.load(dir + "/out.quarantine.reasons.jsonl").count == 4)
    #expect(!fm.fileExists(atPath: dir + "/etc"))
  }

  /// A folder that declares a huge image in a small file (here 10000 x 10000 16-bit RGBA whose IDAT
  /// holds 1,000 bytes): refused from its header, at once, and the rest of the folder scanned.
  @Test func hugeDeclaredImageInASmallFileIsUnreadableAtOnce() throws {
    let dir = try makeTempDir()
    try FileManager.default.copyItem(atPath: CLI.fixture("png/train/cat/cat_00.png"), toPath: dir + "/a.png")
    try Data(shortDataPNG(width: 10_000, height: 10_000)).write(to: URL(fileURLWithPath: dir + "/b.png"))
    let start = Date()
    let r = try CLI.run(["scan", dir, "--report", dir + "/r.json"])
    #expect(Date().timeIntervalSince(start) < 20)
    #expect(r.status == 1, "\(r.stderr)")
    let report = try Report.load(dir + "/r.json")
    #expect(report.count("unreadable") == 1)
    #expect(report.issues.first { $0.kind == "unreadable" }?.detail.hasPrefix("Not enough image data") == true)
  }

  /// A 16-bit RGBA PNG of `width` x `height` whose IDAT is 1,000 zero bytes stored in zlib.
  func shortDataPNG(width: Int, height: Int) -> [UInt8] { PNGBytes.shortData(width: width, height: height) }
}
