import Foundation
import Testing

/// Fixtures/png/train (Fixtures/make_png_fixtures.py): an ImageFolder of cat / dog / zebra, 8 RGB 8x8
/// images each; dog/dog_03.png is truncated, zebra/zebra_05.png has a flipped IDAT byte,
/// cat/cat_07.png is 8x6 (shape_mismatch), readme.txt is skipped.
@Suite struct PNGCLITests {
  let train = CLI.fixture("png/train")
  let flagged = ["cat/cat_07.png", "dog/dog_03.png", "zebra/zebra_05.png"]

  func files(under root: String) throws -> [String] {
    let e = FileManager.default.enumerator(atPath: root)
    var out: [String] = []
    while let p = e?.nextObject() as? String {
      var isDir: ObjCBool = false
      FileManager.default.fileExists(atPath: root + "/" + p, isDirectory: &isDir)
      if !isDir.boolValue { out.append(p) }
    }
    return out.sorted()
  }

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
    #expect(try files(under: quarantine) == flagged)
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
    let copied = try files(under: dir + "/copy")
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
