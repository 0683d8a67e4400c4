import Foundation
import Testing
@testable import DatasanCore
import DatasanTestSupport

/// An in-memory format: samples of shape [2] float32, keys "k0", "k1", ...
final class MemoryReader: SampleReader {
  let samples: [[Float]]
  let labels: [Double]
  var position = 0
  let batchSize: Int
  var info: DatasetInfo

  init(samples: [[Float]], labels: [Double], batchSize: Int = 3) {
    self.samples = samples
    self.labels = labels
    self.batchSize = batchSize
    info = DatasetInfo(
      format: .csv, path: "mem", sampleCount: samples.count, elementType: .float32, sampleShape: [2],
      featureName: "features", labelName: "label", groupNames: ["a", "b"])
  }

  /// 8 bytes a sample (two float32), counted as the batches are read.
  var bytesRead: Int { position * 8 }

  func nextBatch() throws -> SampleBatch? {
    guard position < samples.count else { return nil }
    let end = min(samples.count, position + batchSize)
    var b = floatBatch(first: position, Array(samples[position..<end]), shape: [2], labels: Array(labels[position..<end]))
    b.keys = .strings((position..<end).map { "k\($0)" })
    position = end
    return b
  }
}

/// Writes one line per sample: key and values, so tests can read outputs back.
final class MemoryWriter: SampleWriter {
  let handle: FileHandle
  let failAfter: Int?
  var appended = 0

  init(path: String, failAfter: Int?) throws {
    FileManager.default.createFile(atPath: path, contents: nil)
    handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    self.failAfter = failAfter
  }

  func append(_ batch: SampleBatch) throws {
    appended += 1
    if let failAfter, appended > failAfter { throw DatasanError(path: "mem", "disk full (simulated)") }
    let values = batch.storage.typed(Float.self, count: batch.elementCount)
    for i in 0..<batch.count {
      let v = batch.elementRange(of: i).map { String(values[$0]) }.joined(separator: " ")
      handle.write("\(batch.key(of: i)) \(v)\n".data(using: .utf8)!)
    }
  }
  func finish() throws { try handle.close() }
  func abort() { try? handle.close() }
}

struct MemoryBackend: FormatBackend {
  let samples: [[Float]]
  let labels: [Double]
  var failAfter: Int? = nil
  func detectFormat(path: String) throws -> DataFormat { .csv }
  func openReader(format: DataFormat, path: String, options: ReadOptions) throws -> SampleReader {
    MemoryReader(samples: samples, labels: labels)
  }
  func makeWriter(format: DataFormat, path: String, request: WriterRequest) throws -> SampleWriter {
    try MemoryWriter(path: path, failAfter: request.role == .clean ? failAfter : nil)
  }
  func writesDirectory(_ format: DataFormat) -> Bool { false }
}

@Suite struct PipelineTests {
  let samples: [[Float]] = [[0, 10], [1, .nan], [2, 20], [3, 30], [.infinity, 1], [4, 40], [5, 50], [6, 60]]
  let labels: [Double] = [0, 1, 1, -1, 0, 1, 0, 1]

  func tempDir() throws -> String {
    try TestTemporaryDirectory.make("datasan-core")
  }

  func lines(_ path: String) throws -> [String] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
  }

  @Test func scanCountsEveryKind() throws {
    let pipeline = Pipeline(backend: MemoryBackend(samples: samples, labels: labels))
    let report = try pipeline.scan(ScanConfiguration(input: "mem", format: .csv))
    #expect(report.total == 8 && report.flagged == 3 && report.clean == 5)
    #expect(report.counts[.nanValue] == 1 && report.counts[.infValue] == 1 && report.counts[.labelOutOfDomain] == 1)
    #expect(!report.passed)
    #expect(report.groupStats.map(\.name) == ["a", "b"])
    #expect(report.groupStats[1].values.max == 60)
  }

  /// Records what a pass reports (on the pipeline's thread).
  final class RecordingProgress: ProgressObserver {
    var updates: [(pass: String, samples: Int, bytes: Int)] = []
    func update(pass: String, samples: Int, expected: Int?, bytes: Int) { updates.append((pass, samples, bytes)) }
    func finish() {}
  }

  /// The bytes read that progress shows are those of the batches the pass has consumed, published
  /// by the reader's thread with each batch (BatchStream), never the reader's own count read while
  /// that thread runs (a data race, and ahead of the samples shown by up to the read-ahead).
  @Test func progressShowsTheBytesOfTheBatchesConsumed() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let progress = RecordingProgress()
    let pipeline = Pipeline(backend: MemoryBackend(samples: samples, labels: labels), progress: progress)
    let report = try pipeline.scan(ScanConfiguration(input: "mem", format: .csv))
    #expect(report.bytesRead == 64)
    var config = CleanConfiguration(
      scan: ScanConfiguration(input: "mem", format: .csv), output: dir + "/out.csv", outputFormat: .csv,
      quarantine: dir + "/out.quarantine.csv")
    config.normalize = .none  // one pass: the clean pass makes the report
    let result = try pipeline.clean(config)
    #expect(result.report.bytesRead == 64)
    #expect(Set(progress.updates.map(\.pass)) == ["scan", "clean"])
    for update in progress.updates { #expect(update.bytes == update.samples * 8, "\(update)") }
    #expect(progress.updates.last?.samples == 8)
  }

  @Test func cleanKeepsEverySampleOnceInOrder() throws {
    let dir = try tempDir()
    let pipeline = Pipeline(backend: MemoryBackend(samples: samples, labels: labels))
    var config = CleanConfiguration(
      scan: ScanConfiguration(input: "mem", format: .csv), output: dir + "/out.csv", outputFormat: .csv,
      quarantine: dir + "/out.quarantine.csv")
    config.statsOut = dir + "/stats.json"
    let result = try pipeline.clean(config)
    #expect(result.written == 5 && result.quarantined == 3)
    let clean = try lines(dir + "/out.csv")
    let rejected = try lines(dir + "/out.quarantine.csv")
    let keys = (clean + rejected).map { String($0.split(separator: " ")[0]) }
    #expect(Set(keys) == Set((0..<8).map { "k\($0)" }) && keys.count == 8)
    #expect(clean.map { String($0.split(separator: " ")[0]) } == ["k0", "k2", "k5", "k6", "k7"])
    // minmax over the clean samples: column a in [0, 6] -> [-1, 1].
    #expect(clean.first == "k0 -1.0 -1.0" && clean.last == "k7 1.0 1.0")
    let reasons = try lines(dir + "/out.quarantine.csv.reasons.jsonl")
    #expect(reasons.count == 3)
    #expect(reasons[0].hasPrefix(#"{"index":1,"key":"k1","kinds":["nan_value"]"#))
    let stats = try StatsFile.read(dir + "/stats.json")
    #expect(stats.groups.map(\.min) == [0, 10] && stats.groups.map(\.max) == [6, 60])
    // Nothing temporary left beside the outputs.
    let left = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
    #expect(left == ["out.csv", "out.quarantine.csv", "out.quarantine.csv.reasons.jsonl", "stats.json"])
  }

  @Test func statsInAppliesSavedParameters() throws {
    let dir = try tempDir()
    let saved = NormalizationParameters(
      method: .minmax, range: (0, 1), channelAxis: .first,
      stats: [GroupStats(name: "a"), GroupStats(name: "b")].enumerated().map { i, g in
        var g = g
        g.values.add(0)
        g.values.add(i == 0 ? 10 : 100)
        return g
      })
    var config = CleanConfiguration(
      scan: ScanConfiguration(input: "mem", format: .csv), output: dir + "/o.csv", outputFormat: .csv,
      quarantine: dir + "/q.csv")
    config.statsIn = saved
    _ = try Pipeline(backend: MemoryBackend(samples: samples, labels: labels)).clean(config)
    #expect(try lines(dir + "/o.csv").last == "k7 0.6 0.6")
  }

  @Test func failedCleanLeavesNothingBehind() throws {
    let dir = try tempDir()
    var backend = MemoryBackend(samples: samples, labels: labels)
    backend.failAfter = 1
    let config = CleanConfiguration(
      scan: ScanConfiguration(input: "mem", format: .csv), output: dir + "/out.csv", outputFormat: .csv,
      quarantine: dir + "/q.csv")
    #expect(throws: DatasanError.self) { try Pipeline(backend: backend).clean(config) }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
  }

  @Test func subsetKeepsKeysLabelsAndOriginals() {
    var b = floatBatch(first: 10, [[1, 2], [3, 4], [5, 6]], shape: [2], labels: [7, 8, 9])
    var originals = OriginalRecords()
    ["x", "yy", "zzz"].forEach { originals.append(Array($0.utf8)) }
    b.originals = originals
    let s = b.subset([0, 2])
    #expect(s.count == 2 && s.key(of: 0) == "10" && s.key(of: 1) == "12")
    #expect(s.labels == [7, 9])
    #expect(Array(s.storage.typed(Float.self, count: 4)) == [1, 2, 5, 6])
    #expect(Array(s.originals!.record(1)) == Array("zzz".utf8))
  }
}
