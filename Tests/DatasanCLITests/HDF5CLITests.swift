import DatasanTestSupport
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// Fixtures/hdf5/dirty.h5 (Fixtures/make_hdf5_fixtures.py): data float32 (40,3,4,4) in [0,255];
/// sample 3 has 2 NaN, sample 7 one +Inf, sample 11 one -Inf; label int64 0..4 with
/// sample 5 = -1 and sample 9 = 7.
@Suite struct HDF5CLITests {
  let dirty = CLI.fixture("hdf5/dirty.h5")

  @Test func scanDirtyFindsEverySampleProblem() throws {
    let dir = try makeTempDir()
    let r = try CLI.run(["scan", dirty, "--num-classes", "5", "--report", dir + "/r.json", "--junit", dir + "/j.xml"])
    #expect(r.status == 1, "\(r.stderr)")
    #expect(r.stdout.contains("FAIL"))
    let report = try Report.load(dir + "/r.json")
    #expect(report.schema == "datasan-report/1")
    #expect(report.input.format == "hdf5")
    #expect(report.samples.total == 40 && report.samples.flagged == 5 && report.samples.clean == 35)
    #expect(report.count("nan_value") == 1)
    #expect(report.count("inf_value") == 2)
    #expect(report.count("label_out_of_domain") == 2)
    #expect(report.count("unnormalized_scale") == 3)
    let flaggedKeys = Set(report.issues.filter { $0.severity == "error" }.compactMap(\.key))
    #expect(flaggedKeys == ["3", "5", "7", "9", "11"])
    #expect(report.issues.first { $0.key == "3" }?.detail.hasPrefix("2 NaN values") == true)
    #expect(report.stats.groups.map(\.name) == ["data[0]", "data[1]", "data[2]"])
    #expect(!report.passed)
  }

  /// Chunks stored without filters but shorter than their values (Fixtures/make_hdf5_fuzz_fixtures.py):
  /// through the whole pipeline, their rows go to the quarantine as `unreadable`, the rest to the
  /// output; together they hold every input row exactly once, in order, and the input is unchanged.
  @Test func cleanQuarantinesRowsOfShortUnfilteredChunks() throws {
    let input = CLI.fixture("hdf5/unfiltered_short_chunks.h5")
    let dir = try makeTempDir()
    let before = try Data(contentsOf: URL(fileURLWithPath: input))
    let r = try CLI.run(["clean", input, "-o", dir + "/out.h5", "--normalize", "none"])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == before)
    let clean = try #require(HDF5ReadBack.read(dir + "/out.h5", "data"))
    let quarantine = try #require(HDF5ReadBack.read(dir + "/out.quarantine.h5", "data"))
    #expect(clean.dims.first == 10 && quarantine.dims.first == 30)
    let reasons = try Reason.load(dir + "/out.quarantine.h5.reasons.jsonl")
    #expect(reasons.map(\.index) == Array(10..<40))
    #expect(reasons.allSatisfy { $0.kinds == ["unreadable"] && $0.detail.contains("without filters") })
  }

  @Test func cleanFixtureScanPasses() throws {
    let r = try CLI.run(["scan", CLI.fixture("hdf5/clean_small.h5")])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout.contains("PASS"))
  }

  @Test func strictPromotesWarnings() throws {
    let dir = try makeTempDir()
    let r = try CLI.run(["scan", CLI.fixture("hdf5/constant.h5"), "--strict", "--report", dir + "/r.json"])
    #expect(r.status == 1)
    let report = try Report.load(dir + "/r.json")
    #expect(report.samples.flagged == 0)
    #expect(report.count("constant_feature") == 1)
    #expect(report.issues.contains { $0.kind == "constant_feature" && $0.severity == "error" })
    #expect(try CLI.run(["scan", CLI.fixture("hdf5/constant.h5")]).status == 0)
  }

  @Test func maxIssuesTruncatesListNotCounts() throws {
    let dir = try makeTempDir()
    _ = try CLI.run(["scan", dirty, "--num-classes", "5", "--max-issues", "2", "--report", dir + "/r.json"])
    let report = try Report.load(dir + "/r.json")
    #expect(report.issues.count == 2 && report.issues_truncated)
    #expect(report.samples.flagged == 5 && report.count("inf_value") == 2)
  }

  @Test func cleanWritesNormalizedOutputAndQuarantine() throws {
    let dir = try makeTempDir()
    let out = dir + "/out.h5"
    let before = try Data(contentsOf: URL(fileURLWithPath: dirty))
    let r = try CLI.run(["clean", dirty, "-o", out, "--num-classes", "5", "--stats-out", dir + "/stats.json"])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: dirty)) == before)

    let data = try #require(HDF5ReadBack.read(out, "data"))
    #expect(data.dims == [35, 3, 4, 4])
    #expect(data.typeClass == "float" && data.typeSize == 4)
    #expect(data.values.allSatisfy { $0 >= -1 && $0 <= 1 })
    #expect(data.values.contains(-1) && data.values.contains(1))
    let label = try #require(HDF5ReadBack.read(out, "label"))
    #expect(label.dims == [35] && label.typeClass == "integer" && label.typeSize == 8)
    #expect(HDF5ReadBack.hasAttribute(out, "data", "datasan_normalize"))

    let quarantine = try #require(HDF5ReadBack.read(dir + "/out.quarantine.h5", "data"))
    #expect(quarantine.dims == [5, 3, 4, 4])
    #expect(quarantine.values.filter(\.isNaN).count == 2)  // sample 3's NaN kept as they were
    let qlabels = try #require(HDF5ReadBack.read(dir + "/out.quarantine.h5", "label"))
    #expect(qlabels.values[1] == -1 && qlabels.values[3] == 7)

    let reasons = try Reason.load(dir + "/out.quarantine.h5.reasons.jsonl")
    #expect(reasons.map(\.index) == [3, 5, 7, 9, 11])
    #expect(reasons[0].kinds == ["nan_value"] && reasons[1].kinds == ["label_out_of_domain"])

    // Nothing lost: the clean labels plus the quarantined labels are the input's, in order.
    let input = try #require(HDF5ReadBack.read(dirty, "label"))
    var merged: [Double] = []
    var c = 0
    var q = 0
    let flagged: Set = [3, 5, 7, 9, 11]
    for i in 0..<40 {
      if flagged.contains(i) { merged.append(qlabels.values[q]); q += 1 } else { merged.append(label.values[c]); c += 1 }
    }
    #expect(merged == input.values)
    let stats = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/stats.json"))) as? [String: Any]
    #expect((stats?["groups"] as? [Any])?.count == 3)
  }

  @Test func existingOutputNeedsForceAndInputIsNeverOutput() throws {
    let dir = try makeTempDir()
    let out = dir + "/out.h5"
    #expect(try CLI.run(["clean", dirty, "-o", out]).status == 0)
    let again = try CLI.run(["clean", dirty, "-o", out])
    #expect(again.status == 2 && again.stderr.contains("--force"))
    #expect(try CLI.run(["clean", dirty, "-o", out, "--force"]).status == 0)
    let copy = dir + "/in.h5"
    try FileManager.default.copyItem(atPath: dirty, toPath: copy)
    let same = try CLI.run(["clean", copy, "-o", copy, "--force"])
    #expect(same.status == 2 && same.stderr.contains("input"))
  }

  @Test func existingQuarantineIsRefusedAndNothingIsWritten() throws {
    let dir = try makeTempDir()
    try Data("keep me".utf8).write(to: URL(fileURLWithPath: dir + "/out.quarantine.h5"))
    let r = try CLI.run(["clean", dirty, "-o", dir + "/out.h5"])
    #expect(r.status == 2 && r.stderr.contains("out.quarantine.h5"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.quarantine.h5"])
    #expect(try String(contentsOfFile: dir + "/out.quarantine.h5", encoding: .utf8) == "keep me")
  }

  @Test func junitIsWellFormedWithOneCasePerKind() throws {
    let dir = try makeTempDir()
    _ = try CLI.run(["scan", dirty, "--num-classes", "5", "--junit", dir + "/j.xml"])
    let xml = try Data(contentsOf: URL(fileURLWithPath: dir + "/j.xml"))
    let counter = JUnitCounter()
    let parser = XMLParser(data: xml)
    parser.delegate = counter
    #expect(parser.parse())
    #expect(counter.testcases == 18)  // one per kind of the catalog
    #expect(counter.failures == 3)  // nan_value, inf_value, label_out_of_domain
  }
}

final class JUnitCounter: NSObject, XMLParserDelegate {
  var testcases = 0
  var failures = 0
  func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
    if name == "testcase" { testcases += 1 }
    if name == "failure" { failures += 1 }
  }
}

/// Issue 10 (hardening): never-written rows, declared sizes, inputs outside the folder, FIFOs.
@Suite struct HDF5HardeningCLITests {
  /// The reasons file's lines as JSON objects.
  func reasonLines(_ path: String) throws -> [[String: Any]] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
      try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
  }

  /// huge.h5 declares 2^40 rows of 4000 bytes and holds none: exact counts in well under a second
  /// (it ran for hours when every row was read as a fill value).
  @Test func hugeNeverWrittenScansAndCleansAtOnce() throws {
    let dir = try makeTempDir()
    let huge = CLI.fixture("hdf5/huge.h5")
    let started = Date()
    let scan = try CLI.run(["scan", huge, "--report", dir + "/r.json"])
    #expect(Date().timeIntervalSince(started) < 2 * Sanitizer.slowdown)
    #expect(scan.status == 1, "\(scan.stderr)")
    let report = try Report.load(dir + "/r.json")
    #expect(report.samples.total == 1 << 40 && report.samples.flagged == 1 << 40)
    #expect(report.count("unreadable") == 1 << 40)

    let clean = try CLI.run(["clean", huge, "-o", dir + "/out.h5"])
    #expect(clean.status == 0, "\(clean.stderr)")
    let lines = try reasonLines(dir + "/out.quarantine.h5.reasons.jsonl")
    #expect(lines.count == 1)
    #expect(lines.first?["count"] as? Int == 1 << 40 && lines.first?["index"] as? Int == 0)
    // The quarantine holds the 2^40 rows unallocated, as the input did.
    let size = try #require(try FileManager.default.attributesOfItem(atPath: dir + "/out.quarantine.h5")[.size] as? Int)
    #expect(size < 100_000)
    #expect(Date().timeIntervalSince(started) < 5 * Sanitizer.slowdown)
  }

  /// "The conversion script died at 60%": the written rows are cleaned, the others quarantined
  /// with their labels, as two runs.
  @Test func partlyWrittenFileIsCleanedWithoutLosingLabels() throws {
    let dir = try makeTempDir()
    let input = CLI.fixture("hdf5/partial.h5")
    let r = try CLI.run(["clean", input, "-o", dir + "/out.h5", "--normalize", "none"])
    #expect(r.status == 0, "\(r.stderr)")
    let out = try #require(HDF5ReadBack.read(dir + "/out.h5", "data"))
    #expect(out.dims == [50, 3, 4])
    let kept = Array(0..<40) + Array(50..<60)
    #expect(out.values == kept.flatMap { [Double](repeating: Double($0), count: 12) })
    let quarantine = try #require(HDF5ReadBack.read(dir + "/out.quarantine.h5", "data"))
    #expect(quarantine.dims == [50, 3, 4])
    let qlabels = try #require(HDF5ReadBack.read(dir + "/out.quarantine.h5", "label"))
    #expect(qlabels.values == (Array(40..<50) + Array(60..<100)).map { Double($0 % 7) })
    let lines = try reasonLines(dir + "/out.quarantine.h5.reasons.jsonl")
    #expect(lines.map { $0["index"] as? Int } == [40, 60])
    #expect(lines.map { $0["count"] as? Int } == [10, 40])
    #expect(lines.allSatisfy { ($0["detail"] as? String)?.hasSuffix("never written") == true })
  }

  @Test(arguments: [
    ("ext_devzero.h5", "/dev/zero"), ("ext_hostname.h5", "/etc/hostname"), ("ext_climb.h5", "make_hdf5_fixtures.py"),
    ("elink_outside.h5", "/etc/hostname"), ("vds_outside.h5", "/etc/hostname"),
    ("vds_self_external.h5", "/dev/zero"), ("zero_width.h5", "samples of 0 values"), ("big_sample.h5", "more than a file of"),
  ])
  func refusedWithOneLine(file: String, names: String) throws {
    let dir = try makeTempDir()
    let input = CLI.fixture("hdf5/" + file)
    for arguments in [["scan", input], ["clean", input, "-o", dir + "/out.h5"]] {
      let r = try CLI.run(arguments)
      #expect(r.status == 2, "\(file): \(r.stdout)\(r.stderr)")
      let lines = r.stderr.split(separator: "\n")
      #expect(lines.count == 1 && lines.first?.contains(input) == true && lines.first?.contains(names) == true, "\(r.stderr)")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
  }

  @Test func siblingsInTheFolderAreScanned() throws {
    for file in ["ext_sibling.h5", "elink.h5", "vds.h5"] {
      let r = try CLI.run(["scan", CLI.fixture("hdf5/" + file)])
      #expect(r.status == 0, "\(file): \(r.stderr)")
    }
  }

  /// A FIFO as input: exit 2 at once, with or without --format (opening it would block).
  @Test func fifoInputDoesNotBlock() throws {
    let dir = try makeTempDir()
    let fifo = dir + "/in.h5"
    try #require(mkfifo(fifo, 0o600) == 0)
    for extra in [[], ["--format", "hdf5"]] {
      let started = Date()
      let r = try CLI.run(["scan", fifo] + extra)
      #expect(r.status == 2 && r.stderr.split(separator: "\n").count == 1 && r.stderr.contains(fifo), "\(r.stderr)")
      #expect(Date().timeIntervalSince(started) < 5)
    }
  }
}
