import Foundation
import Testing

/// Fixtures/lmdb/train.lmdb (Fixtures/make_lmdb_fixtures.py): a Caffe-style LMDB of 40 encoded PNG
/// Datum records (3x8x8), keys "%08d_<class>/<name>.png"; records 7 and 19 are corrupt PNGs, records
/// 11, 23 and 31 have label -1.
@Suite struct LMDBCLITests {
  let train = CLI.fixture("lmdb/train.lmdb")
  let flagged = [7, 11, 19, 23, 31]

  /// A plain scan of raw records measures them in the map and copies no values; with --html the
  /// values are read (histograms, thumbnails). Both must report the same.
  @Test(arguments: ["raw.lmdb", "many.lmdb", "defects.lmdb"])
  func scanWithoutValuesReportsWhatAScanWithValuesReports(name: String) throws {
    let dir = try makeTempDir()
    let input = dir + "/" + name
    try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: false)
    try FileManager.default.copyItem(atPath: CLI.fixture("lmdb/\(name)/data.mdb"), toPath: input + "/data.mdb")
    let lean = try CLI.run(["scan", input, "--report", dir + "/lean.json"])
    let full = try CLI.run(["scan", input, "--report", dir + "/full.json", "--html", dir + "/r.html"])
    #expect(lean.status == full.status && lean.status != 2, "\(lean.stderr)")
    let report = { (path: String) throws -> String in try String(contentsOfFile: path, encoding: .utf8) }
    #expect(try report(dir + "/lean.json") == report(dir + "/full.json"))
  }

  /// The single-file environment (images of fewer than 16 values per channel) and `--shape` right
  /// and wrong on raw records: a scan without values gives the verdict a scan with values gives.
  @Test(arguments: [
    ("nosubdir.mdb", ["--format", "lmdb"]), ("raw.lmdb", ["--shape", "1,2,2"]), ("raw.lmdb", ["--shape", "3,8,8"]),
    ("nosubdir.mdb", ["--format", "lmdb", "--shape", "3,1,1"]),
  ])
  func leanScansOfAnyImageSize(name: String, options: [String]) throws {
    let dir = try makeTempDir()
    let input = CLI.fixture("lmdb/" + name)
    let lean = try CLI.run(["scan", input, "--report", dir + "/lean.json"] + options)
    let full = try CLI.run(["scan", input, "--report", dir + "/full.json", "--html", dir + "/r.html"] + options)
    #expect([0, 1].contains(lean.status) && lean.status == full.status, "\(lean.stderr)")
    let a = try Report.load(dir + "/lean.json"), b = try Report.load(dir + "/full.json")
    #expect(a.samples.total == b.samples.total && a.samples.flagged == b.samples.flagged && a.samples.total > 0)
    #expect(a.counts == b.counts && a.passed == b.passed)
    #expect(a.issues.map(\.kind) == b.issues.map(\.kind) && a.issues.map(\.key) == b.issues.map(\.key))
    #expect(a.stats.groups.map(\.count) == b.stats.groups.map(\.count))
    for (x, y) in zip(a.stats.groups, b.stats.groups) {
      #expect(x.min == y.min && x.max == y.max)
      #expect(Swift.abs((x.mean ?? 0) - (y.mean ?? 0)) <= 1e-9 * Swift.abs(x.mean ?? 1))
      #expect(Swift.abs((x.std ?? 0) - (y.std ?? 0)) <= 1e-9 * Swift.abs(x.std ?? 1))
    }
  }

  @Test func scanFindsTheFiveBadRecords() throws {
    let dir = try makeTempDir()
    let r = try CLI.run(["scan", train, "--report", dir + "/r.json"])
    #expect(r.status == 1)
    let report = try Report.load(dir + "/r.json")
    #expect(report.input.format == "lmdb")
    #expect(report.samples.total == 40 && report.samples.flagged == 5)
    #expect(report.count("unreadable") == 2 && report.count("label_out_of_domain") == 3)
    #expect(report.count("unnormalized_scale") == 3)
    #expect(report.issues.filter { $0.severity == "error" }.compactMap(\.index) == flagged)
    #expect(report.issues.first { $0.index == 7 }?.key == "00000007_owl/img_007.png")
  }

  @Test func rebuildACleanLMDB() throws {
    let dir = try makeTempDir()
    let out = dir + "/clean.lmdb"
    let r = try CLI.run(["clean", train, "-o", out, "--caffe-mean", dir + "/mean.binaryproto"])
    #expect(r.status == 0, "\(r.stderr)")
    let input = try #require(LMDBReadBack.records(train))
    let clean = try #require(LMDBReadBack.records(out))
    let quarantine = try #require(LMDBReadBack.records(dir + "/clean.quarantine.lmdb"))
    // Nothing lost: keys of clean + quarantine are the input keys, each once, in order.
    #expect(clean.count == 35 && quarantine.count == 5)
    #expect(quarantine.map(\.key) == flagged.map { input[$0].key })
    #expect((clean + quarantine).map(\.key).sorted() == input.map(\.key))
    // The quarantine holds the original values byte for byte.
    for (n, i) in flagged.enumerated() { #expect(quarantine[n].value == input[i].value) }
    // Normalized records are float_data Datum 3x8x8 in [-1, 1] with the original labels.
    for (key, value) in clean {
      let d = try #require(LMDBReadBack.decode(value))
      #expect(d.channels == 3 && d.height == 8 && d.width == 8 && !d.encoded)
      #expect(d.floats.count == 192 && d.floats.allSatisfy { $0 >= -1 && $0 <= 1 })
      let source = try #require(input.first { $0.key == key })
      let original = try #require(LMDBReadBack.decode(source.value))
      #expect(d.label == original.label)
    }
    let reasons = try Reason.load(dir + "/clean.quarantine.lmdb.reasons.jsonl")
    #expect(reasons.map(\.index) == flagged)
    #expect(reasons.map(\.kinds) == [["unreadable"], ["label_out_of_domain"], ["unreadable"], ["label_out_of_domain"], ["label_out_of_domain"]])
    // The mean image: a BlobProto num=1, 3x8x8, 192 floats.
    let blob = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/mean.binaryproto")))
    #expect(Array(blob.prefix(8)) == [0x08, 1, 0x10, 3, 0x18, 8, 0x20, 8])
    #expect(blob.count == 8 + 3 + 192 * 4)
  }

  @Test func normalizeNoneCopiesValueBytes() throws {
    let dir = try makeTempDir()
    let r = try CLI.run(["clean", train, "-o", dir + "/copy.lmdb", "--normalize", "none"])
    #expect(r.status == 0, "\(r.stderr)")
    let input = try #require(LMDBReadBack.records(train))
    let copy = try #require(LMDBReadBack.records(dir + "/copy.lmdb"))
    let kept = input.enumerated().filter { !flagged.contains($0.offset) }.map(\.element)
    #expect(copy.map(\.key) == kept.map(\.key))
    #expect(copy.map(\.value) == kept.map(\.value))
  }

  @Test func lmdbToHDF5() throws {
    let dir = try makeTempDir()
    let r = try CLI.run(["clean", train, "-o", dir + "/train.h5"])
    #expect(r.status == 0, "\(r.stderr)")
    let data = try #require(HDF5ReadBack.read(dir + "/train.h5", "data"))
    #expect(data.dims == [35, 3, 8, 8])
    let label = try #require(HDF5ReadBack.read(dir + "/train.h5", "label"))
    #expect(label.dims == [35] && label.values.allSatisfy { $0 >= 0 && $0 <= 3 })
  }

  /// A scan reads raw Datums through its single-copy path, `clean` through the general one: on
  /// Fixtures/lmdb/defects.lmdb (one good record, then one planted defect per record) both must flag
  /// the same records, and clean + quarantine must hold every input record.
  @Test func rawScanAndCleanFlagTheSameRecords() throws {
    let dir = try makeTempDir()
    let defects = CLI.fixture("lmdb/defects.lmdb")
    let scan = try CLI.run(["scan", defects, "--report", dir + "/r.json"])
    #expect(scan.status == 1, "\(scan.stderr)")
    let report = try Report.load(dir + "/r.json")
    let input = try #require(LMDBReadBack.records(defects))
    // d10_float_record (float_data 0.5 in a uint8 LMDB) is a sample like any other: not flagged.
    #expect(report.samples.total == input.count && report.samples.flagged == 9)
    let flaggedKeys = Set(report.issues.filter { $0.severity == "error" }.compactMap(\.key))
    #expect(
      flaggedKeys.count == 9 && !flaggedKeys.contains("d00_good") && !flaggedKeys.contains("d09_unknown")
        && !flaggedKeys.contains("d10_float_record"))
    let out = dir + "/clean.lmdb"
    let clean = try CLI.run(["clean", defects, "-o", out])
    #expect(clean.status == 0, "\(clean.stderr)")
    let kept = try #require(LMDBReadBack.records(out)).map(\.key)
    let quarantined = try #require(LMDBReadBack.records(dir + "/clean.quarantine.lmdb")).map(\.key)
    #expect(Set(quarantined) == flaggedKeys)
    #expect(kept == ["d00_good", "d09_unknown", "d10_float_record"])
    #expect((kept + quarantined).sorted() == input.map(\.key))
  }

  @Test func damagedEnvironmentsExit2WithOneLine() throws {
    for name in ["truncated.lmdb", "garbage_page.lmdb", "not_lmdb.lmdb"] {
      let r = try CLI.run(["scan", CLI.fixture("lmdb/" + name)])
      #expect(r.status == 2, "\(name): \(r.status) \(r.stderr)")
      #expect(r.stderr.split(separator: "\n").count == 1, "\(name): \(r.stderr)")
      #expect(r.stderr.contains(name))
    }
  }
}
