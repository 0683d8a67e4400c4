import DatasanCore
import Foundation
import Testing

@testable import DatasanCSV
import DatasanTestSupport

/// The path of a committed fixture in Fixtures/csv.
func fixture(_ name: String) -> String {
  URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures/csv/\(name)").path
}

/// A fresh temporary directory, removed by the caller with `cleanup`.
func temporaryDirectory() throws -> URL {
  URL(fileURLWithPath: try TestTemporaryDirectory.make("datasan-csv"))
}

/// Everything a reader yields, gathered.
struct ReadResult {
  var reader: CSVReader
  var rows: [[Double]] = []
  var labels: [Double]? = nil
  var keys: [Int] = []
  /// Problems by stream index.
  var problems: [Int: ReaderProblem] = [:]
  var originals: [[UInt8]] = []
  var batchSizes: [Int] = []
  var batches: [SampleBatch] = []

  var info: DatasetInfo { reader.info }
  var layout: CSVLayout { reader.layout }
  var count: Int { rows.count }
  func column(_ g: Int) -> [Double] { rows.map { $0[g] } }
  func original(_ i: Int) -> String { String(decoding: originals[i], as: UTF8.self) }
}

func options(_ configure: (inout ReadOptions) -> Void = { _ in }) -> ReadOptions {
  var o = ReadOptions()
  configure(&o)
  return o
}

func readAll(_ path: String, keepBatches: Bool = false, _ configure: (inout ReadOptions) -> Void = { _ in }) throws
  -> ReadResult
{
  let reader = try CSVReader(path: path, options: options(configure))
  var result = ReadResult(reader: reader)
  let hasLabels = reader.info.labelName != nil
  if hasLabels { result.labels = [] }
  while let batch = try reader.nextBatch() {
    #expect(batch.firstIndex == result.rows.count)
    #expect(batch.elementType == .float64)
    #expect(batch.shape == reader.info.sampleShape)
    #expect((batch.labels != nil) == hasLabels)
    result.batchSizes.append(batch.count)
    batch.withValues(as: Double.self) { v in
      for i in 0..<batch.count { result.rows.append(Array(v[batch.elementRange(of: i)])) }
    }
    if let l = batch.labels {
      #expect(l.count == batch.count)
      result.labels!.append(contentsOf: l)
    }
    guard case .numbers(let keys) = batch.keys else {
      Issue.record("CSV keys must be line numbers")
      continue
    }
    #expect(keys.count == batch.count)
    result.keys.append(contentsOf: keys)
    for (p, problem) in batch.problems { result.problems[batch.firstIndex + p] = problem }
    if let o = batch.originals {
      #expect(o.ends.count == batch.count)
      for i in 0..<batch.count { result.originals.append(Array(o.record(i))) }
    } else {
      Issue.record("CSV batches must carry originals")
    }
    if keepBatches { result.batches.append(batch) }
  }
  #expect(try reader.nextBatch() == nil)
  return result
}

/// The same double, NaN equal to NaN and -0 distinct from +0.
func same(_ a: Double, _ b: Double) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }

/// Splits the lines of a simple (unquoted) file to cross-check values.
func naiveRows(_ path: String, delimiter: Character) throws -> [[String]] {
  var text = try String(contentsOfFile: path, encoding: .utf8)
  if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
  return text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
    .map { $0.split(separator: delimiter, omittingEmptySubsequences: false).map(String.init) }
}

// The sources of other formats that a CSV output is written from, by name (this test target
// builds without their targets).
extension DataFormat {
  static let hdf5 = DataFormat(rawValue: "hdf5")
  static let lmdb = DataFormat(rawValue: "lmdb")
  static let png = DataFormat(rawValue: "png")
}
