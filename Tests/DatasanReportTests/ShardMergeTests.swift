import Datasan
import DatasanCSV
import DatasanReports
import DatasanTestSupport
import Foundation
import Testing

/// The shards of a dataset scanned through the library (``Formats/shardRange``, ``Pipeline/scanState``),
/// their partial scans through JSON, merged (``Pipeline/mergeScan``): the JSON report equals that of one
/// scan over the whole dataset. In-process, so every N crosses every boundary of the shard fixtures
/// (Fixtures/make_shard_fixtures.py: 42 samples, defects on both sides of every boundary of N = 2, 3, 7)
/// in every format for little time (about 1.5 s of CPU in a debug build); ShardCLITests runs the
/// `datasan scan --shard` / `datasan merge` commands once per format.
@Suite struct ShardMergeTests {
  static let datasets = ["shards/boundaries.h5", "shards/boundaries.csv", "shards/boundaries.lmdb", "shards/boundaries_png"]

  /// The JSON report with what differs between runs (time, bytes read) set equal.
  static func json(_ report: ScanReport) -> String {
    var report = report
    report.seconds = 0
    report.bytesRead = 0
    return JSONReport.value(of: report, version: "test").serialized()
  }

  /// Nil when the reports' JSON is equal, numbers within 1e-9 relative (the merged moments are
  /// added in another order); else the first difference's path.
  static func difference(_ a: String, _ b: String) throws -> String? {
    func parse(_ s: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(s.utf8)) }
    return JSONDifference.first(try parse(a), try parse(b))
  }

  /// The merged report of `config`'s dataset scanned in `n` shards, as `scan --shard` and `merge` do.
  static func merged(_ config: ScanConfiguration, _ n: Int) throws -> ScanReport {
    let formats = Formats()
    let pipeline = Pipeline(backend: formats)
    var parts: [PartialScan] = []
    for i in 0..<n {
      let shard = Shard(index: i, count: n)
      var part = config
      let (range, samples) = try formats.shardRange(shard, format: config.format, path: config.input, options: config.read)
      part.read.sampleRange = range
      let state = try pipeline.scanState(part)
      var local = false
      if case .bytes = range { local = true }
      let run = ShardRun(
        input: config.input, path: config.input, format: config.format.rawValue, bytes: nil, samples: samples,
        directory: "/", arguments: [])
      // Through JSON, as the partial reports go.
      let data = try JSONEncoder().encode(PartialScan(version: "test", shard: shard, run: run, localIndices: local, state: state))
      parts.append(try JSONDecoder().decode(PartialScan.self, from: data))
    }
    return try pipeline.mergeScan(config, parts: parts, seconds: 0)
  }

  static func config(_ relative: String) throws -> ScanConfiguration {
    let path = Fixture.path(relative)
    var config = ScanConfiguration(input: path, format: try Formats().detectFormat(path: path))
    config.checks.numClasses = 10
    return config
  }

  @Test(arguments: datasets) func everyShardingMergesToTheSingleRun(_ name: String) throws {
    let config = try Self.config(name)
    let single = Self.json(try Pipeline(backend: Formats()).scan(config))
    for n in [1, 2, 3, 7] {
      let merged = Self.json(try Self.merged(config, n))
      let d = try Self.difference(single, merged)
      #expect(d == nil, "\(name) N=\(n): \(d ?? "")")
    }
  }

  /// The CSV reader's counts over the whole stream (the `mixed_column` findings' rows, the first later
  /// text of a numeric column with its line) are merged: the real Titanic table's '?' placeholders
  /// (age, ticket, boat, body) and its one late '?' in fare (line 1227).
  @Test func theCSVReadersCountsAreMerged() throws {
    var config = try Self.config("tables/titanic_openml.csv")
    config.checks.numClasses = nil
    config.read[CSVReadOptions.self].labelColumn = "survived"
    let report = try Pipeline(backend: Formats()).scan(config)
    let mixed = report.datasetFindings.filter { $0.kind.rawValue == "mixed_column" }
    #expect(mixed.contains { $0.field == "fare" && $0.detail.contains("(line 1227)") })
    #expect(mixed.contains { $0.field == "age" && $0.detail.contains("263 rows hold") })
    let single = Self.json(report)
    for n in [2, 3, 4, 7] {
      let merged = Self.json(try Self.merged(config, n))
      let d = try Self.difference(single, merged)
      #expect(d == nil, "titanic N=\(n): \(d ?? "")")
    }
  }
}
