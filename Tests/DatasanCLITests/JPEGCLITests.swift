import DatasanTestSupport
import Foundation
import Testing

/// JPEG across the pipeline (Fixtures/make_jpeg_fixtures.py). Fixtures/jpeg/mixed is an ImageFolder of
/// JPEG and PNG files of one size (RGB 16 x 12): cat/c0.jpg, c1.png, c2.JPEG (a PNG), c3.jpeg
/// (progressive), c4.jpg (CMYK); dog/d0.png, d1.JPG, d2.jpg (truncated), d3.png (a JPEG), d4.jpg (gray);
/// notes.txt is skipped. Every image is a sample: 8 clean, 2 flagged.
@Suite struct JPEGCLITests {
  let mixed = CLI.fixture("jpeg/mixed")
  let flagged = ["dog/d2.jpg", "dog/d4.jpg"]
  let clean = ["cat/c0.jpg", "cat/c1.png", "cat/c2.JPEG", "cat/c3.jpeg", "cat/c4.jpg", "dog/d0.png", "dog/d1.JPG", "dog/d3.png"]

  @Test func scanOfAMixedFolderTakesEveryImage() throws {
    let dir = try makeTempDir()
    let r = try CLI.run(["scan", mixed, "--report", dir + "/r.json", "--junit", dir + "/j.xml", "--html", dir + "/r.html"])
    #expect(r.status == 1, "\(r.stderr)")
    let report = try Report.load(dir + "/r.json")
    #expect(report.samples.total == 10 && report.samples.clean == 8 && report.samples.flagged == 2)
    #expect(report.count("unreadable") == 1 && report.count("shape_mismatch") == 1)
    #expect(report.count("skipped_files") == 1 && report.count("extension_mismatch") == 1 && report.count("cmyk_image") == 1)
    let errors = report.issues.filter { $0.severity == "error" }
    #expect(errors.compactMap(\.key) == flagged)
    #expect(errors.first?.detail == "Premature end of JPEG file")
    #expect(errors.last?.detail == "shape [1, 12, 16] differs from the dataset's [3, 12, 16]")
    let mismatch = try #require(report.issues.first { $0.kind == "extension_mismatch" })
    #expect(mismatch.severity == "warning")
    #expect(mismatch.detail.hasPrefix(
      "2 files hold one image format under another's extension: cat/c2.JPEG (PNG named JPEG), dog/d3.png (JPEG named PNG); "))
    let cmyk = try #require(report.issues.first { $0.kind == "cmyk_image" })
    #expect(cmyk.detail.hasPrefix("1 image is stored as CMYK: cat/c4.jpg (CMYK); "))
    let skipped = try #require(report.issues.first { $0.kind == "skipped_files" })
    #expect(skipped.detail == "1 file is not .png, .jpg or .jpeg and was skipped: notes.txt")
    #expect(report.stats.labels?.histogram == ["0": 5, "1": 3])
    // The reports pick the new kinds up from the catalog: a JUnit test case each, the HTML table.
    let junit = try String(contentsOfFile: dir + "/j.xml", encoding: .utf8)
    #expect(junit.contains("name=\"datasan.extension_mismatch\"") && junit.contains("name=\"datasan.cmyk_image\""))
    let html = try String(contentsOfFile: dir + "/r.html", encoding: .utf8)
    #expect(html.contains("extension_mismatch") && html.contains("cmyk_image"))
    // The text summary names the files.
    #expect(r.stdout.contains("extension_mismatch (warning): 2 files"))
    #expect(r.stdout.contains("cmyk_image (warning): 1 image is stored as CMYK: cat/c4.jpg"))
  }

  /// The policy knows the kinds by name: fail_on promotes them, ignore drops them.
  @Test func policyNamesTheNewKinds() throws {
    let dir = try makeTempDir()
    let ignored = try CLI.run(["scan", mixed, "--ignore", "extension_mismatch,cmyk_image", "--report", dir + "/r.json"])
    #expect(ignored.status == 1, "\(ignored.stderr)")
    let report = try Report.load(dir + "/r.json")
    #expect(report.count("extension_mismatch") == 0 && report.count("cmyk_image") == 0)
    // Only the folder's JPEG and PNG files that are fine: the CMYK warning alone fails the gate when promoted.
    let good = dir + "/good"
    try FileManager.default.createDirectory(atPath: good, withIntermediateDirectories: true)
    for f in ["cat/c0.jpg", "cat/c4.jpg"] {
      try FileManager.default.copyItem(atPath: mixed + "/" + f, toPath: good + "/" + URL(fileURLWithPath: f).lastPathComponent)
    }
    #expect(try CLI.run(["scan", good, "--scale-limit", "1000"]).status == 0)
    let promoted = try CLI.run(["scan", good, "--scale-limit", "1000", "--fail-on", "cmyk_image"])
    #expect(promoted.status == 1, "\(promoted.stdout)")
  }

  /// clean of the mixed folder to every output datasan writes: 8 samples out, 2 in the quarantine
  /// (the original files, byte for byte), none lost.
  @Test(arguments: ["out.h5", "out.lmdb", "out.csv", "folder"])
  func cleanOfAMixedFolderAccountsForEveryFile(_ output: String) throws {
    let dir = try makeTempDir()
    let out = dir + "/" + output
    var args = ["clean", mixed, "-o", out]
    if output == "folder" { args += ["--normalize", "none"] }
    let r = try CLI.run(args)
    #expect(r.status == 0, "\(r.stderr)")
    let quarantine = dir + "/" + (output as NSString).deletingPathExtension + ".quarantine"
    #expect(CLI.files(under: quarantine) == flagged)
    for f in flagged {
      #expect(FileManager.default.contentsEqual(atPath: quarantine + "/" + f, andPath: mixed + "/" + f))
    }
    #expect(try Reason.load(quarantine + ".reasons.jsonl").map(\.key) == flagged)
    switch output {
    case "out.h5":
      #expect(HDF5ReadBack.read(out, "data")?.dims == [8, 3, 12, 16])
      #expect(HDF5ReadBack.read(out, "label")?.values == [0, 0, 0, 0, 0, 1, 1, 1])
    case "out.lmdb":
      let records = try #require(LMDBReadBack.records(out))
      #expect(records.count == 8)
      #expect(records.compactMap { LMDBReadBack.decode($0.value)?.label } == [0, 0, 0, 0, 0, 1, 1, 1])
    case "out.csv":
      let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
      #expect(lines.count == 9)  // a header and 8 rows
    default:
      #expect(CLI.files(under: out) == clean)
      for f in clean { #expect(FileManager.default.contentsEqual(atPath: out + "/" + f, andPath: mixed + "/" + f)) }
    }
  }

  /// The values datasan writes for the JPEGs are Pillow's (`--normalize none` keeps them as decoded).
  @Test func cleanWritesPillowsValues() throws {
    let dir = try makeTempDir()
    let kinds = dir + "/kinds"
    try FileManager.default.createDirectory(atPath: kinds, withIntermediateDirectories: true)
    let names = ["baseline_420.jpg", "baseline_444.jpg", "cmyk.jpg", "exif.jpg", "optimized.jpg", "progressive.jpg", "ycck.jpg"]
    for n in names { try FileManager.default.copyItem(atPath: CLI.fixture("jpeg/kinds/" + n), toPath: kinds + "/" + n) }
    let r = try CLI.run(["clean", kinds, "-o", dir + "/k.h5", "--normalize", "none"])
    #expect(r.status == 0, "\(r.stderr)")
    let data = try #require(HDF5ReadBack.read(dir + "/k.h5", "data"))
    #expect(data.dims == [7, 3, 12, 16])
    let expected = try JPEGExpected.load()
    let per = 3 * 12 * 16
    for (i, n) in names.enumerated() {
      let got = data.values[(i * per)..<((i + 1) * per)].map { Int($0) }
      #expect(got == expected[n], "\(n)")
    }
  }

  /// An encoded-JPEG LMDB (convert_imageset --encoded's layout): every record planned and decoded
  /// through the codecs; broken JPEGs are unreadable with libjpeg's message, the bomb is refused from its
  /// header, CMYK / YCCK records are named.
  @Test func encodedJPEGLMDB() throws {
    let dir = try makeTempDir()
    let input = dir + "/e.lmdb"
    try FileManager.default.copyItem(atPath: CLI.fixture("lmdb/encoded_jpeg.lmdb"), toPath: input)
    let r = try CLI.run(["scan", input, "--report", dir + "/r.json"])
    #expect(r.status == 1, "\(r.stderr)")
    let report = try Report.load(dir + "/r.json")
    #expect(report.samples.total == 11 && report.samples.flagged == 4)
    let byKey = Dictionary(uniqueKeysWithValues: report.issues.compactMap { i in i.key.map { ($0, i) } })
    #expect(byKey["00000007_truncated"]?.detail == "encoded image does not decode: Premature end of JPEG file")
    #expect(byKey["00000008_corrupt_entropy"]?.detail
      == "encoded image does not decode: Corrupt JPEG data: 64 extraneous bytes before marker 0xd9")
    #expect(byKey["00000009_bomb"]?.detail
      == "encoded image: image of 60000 x 60000 = 3600000000 pixels exceeds --max-pixels 100000000")
    #expect(byKey["00000006_gray"]?.kind == "shape_mismatch")
    let cmyk = try #require(report.issues.first { $0.kind == "cmyk_image" })
    #expect(cmyk.detail.hasPrefix("2 images are stored as CMYK: 00000004_cmyk (CMYK), 00000005_ycck (YCCK); "))
    #expect(report.count("extension_mismatch") == 0)

    // The decoded values are Pillow's, in RGB or (Caffe's view of encoded colour Datums) BGR order.
    let c = try CLI.run(["clean", input, "-o", dir + "/e.h5", "--normalize", "none"])
    #expect(c.status == 0, "\(c.stderr)")
    let data = try #require(HDF5ReadBack.read(dir + "/e.h5", "data"))
    #expect(data.dims == [7, 3, 12, 16])
    let expected = try JPEGExpected.load()
    let plane = 12 * 16
    let clean = ["baseline_420.jpg", "baseline_444.jpg", "progressive.jpg", nil, "cmyk.jpg", "ycck.jpg", "exif.jpg"]
    for (i, name) in clean.enumerated() {
      guard let name, let want = expected[name] else { continue }
      let got = data.values[(i * 3 * plane)..<((i + 1) * 3 * plane)].map { Int($0) }
      let bgr = Array(want[(2 * plane)...] + want[plane..<(2 * plane)] + want[..<plane])
      #expect(got == want || got == bgr, "\(name)")
    }
  }

  /// A declared size above --max-pixels is refused from the header: a folder of the two bombs (a
  /// 60000 x 60000 progressive JPEG, whose coefficient buffers would take 10 GB, and a 20000 x 20000
  /// baseline one) scans in a few megabytes.
  @Test func bombsAreRefusedBeforeDecoding() throws {
    let dir = try makeTempDir()
    for n in ["bomb.jpg", "bomb_baseline.jpg", "ok.jpg"] {
      try FileManager.default.copyItem(atPath: CLI.fixture("jpeg/broken/" + n), toPath: dir + "/" + n)
    }
    let r = try CLI.run(["scan", dir, "--report", dir + "/../bombs.json"])
    #expect(r.status == 1, "\(r.stderr)")
    let report = try Report.load(dir + "/../bombs.json")
    #expect(report.samples.total == 3 && report.samples.flagged == 2)
    #expect(report.issues.filter { $0.kind == "unreadable" }.map(\.detail) == [
      "image of 60000 x 60000 = 3600000000 pixels exceeds --max-pixels 100000000",
      "image of 20000 x 20000 = 400000000 pixels exceeds --max-pixels 100000000",
    ])
    let small = try CLI.run(["scan", dir, "--max-pixels", "100", "--report", dir + "/../small.json"])
    #expect(small.status == 1)
    #expect(try Report.load(dir + "/../small.json").samples.flagged == 3)
    // Peak memory, where /usr/bin/time can tell it.
    if FileManager.default.isExecutableFile(atPath: "/usr/bin/time") {
      let timed = try CLI.run(["-f", "%M", CLI.binary, "scan", dir, "--quiet"], binary: "/usr/bin/time")
      let kb = Int(timed.stderr.split(separator: "\n").last.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? "")
      #expect(kb != nil && kb! < 200_000, "peak RSS \(kb ?? -1) KB")
    }
  }
}

/// Fixtures/jpeg/kinds/expected.json: what Pillow decodes, C x H x W, by file name.
enum JPEGExpected {
  static func load() throws -> [String: [Int]] {
    let data = try Data(contentsOf: URL(fileURLWithPath: CLI.fixture("jpeg/kinds/expected.json")))
    let object = try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]] ?? [:]
    return object.compactMapValues { $0["values"] as? [Int] }
  }
}
