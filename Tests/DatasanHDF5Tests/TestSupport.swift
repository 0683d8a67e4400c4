import DatasanCore
@testable import DatasanHDF5
import Foundation
import Testing
import DatasanTestSupport

/// Paths of the committed fixtures (made by Fixtures/make_hdf5_fixtures.py).
enum Fixture {
  /// The package root, found from this file's path.
  static let root: URL = {
    var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
      url = url.deletingLastPathComponent()
    }
    return url
  }()

  /// `Fixtures/hdf5/<name>`.
  static func hdf5(_ name: String) -> String { root.appendingPathComponent("Fixtures/hdf5/\(name)").path }
  /// `Fixtures/demo/<name>`.
  static func demo(_ name: String) -> String { root.appendingPathComponent("Fixtures/demo/\(name)").path }
}

/// Everything a reader yielded, flattened.
struct ReadResult {
  var info: DatasetInfo
  var values: [Double] = []
  var labels: [Double]? = nil
  /// Problems by absolute sample index.
  var problems: [Int: ReaderProblem] = [:]
  var batchCounts: [Int] = []
  /// Runs of rows without values (`.unreadable` batches): their rows and problem.
  var runs: [(rows: Range<Int>, problem: ReaderProblem)] = []
  var batchElementTypes: Set<ElementType> = []
}

/// The values of a batch as Double (exact for every type but 64-bit integers beyond 2^53).
func doubles(_ batch: SampleBatch) -> [Double] {
  func convert<T: FeatureElement>(_: T.Type) -> [Double] { batch.withValues(as: T.self) { $0.map(\.doubleValue) } }
  switch batch.elementType {
  case .uint8: return convert(UInt8.self)
  case .int8: return convert(Int8.self)
  case .uint16: return convert(UInt16.self)
  case .int16: return convert(Int16.self)
  case .uint32: return convert(UInt32.self)
  case .int32: return convert(Int32.self)
  case .uint64: return convert(UInt64.self)
  case .int64: return convert(Int64.self)
  case .float32: return convert(Float.self)
  case .float64: return convert(Double.self)
  }
}

/// Opens `path` and reads every batch.
func readAll(_ path: String, dataset: String = "data", labels: String? = nil, batchBytes: Int? = nil) throws -> ReadResult {
  var options = ReadOptions()
  options.dataset = dataset
  options.labels = labels
  if let batchBytes { options.batchBytes = batchBytes }
  let reader = try HDF5Reader(path: path, options: options)
  var result = ReadResult(info: reader.info)
  var expectedIndex = 0
  while let batch = try reader.nextBatch() {
    #expect(batch.firstIndex == expectedIndex)
    expectedIndex += batch.count
    result.batchCounts.append(batch.count)
    result.batchElementTypes.insert(batch.elementType)
    if case .unreadable(let problem) = batch.values {
      result.runs.append((batch.firstIndex..<(batch.firstIndex + batch.count), problem))
    } else {
      result.values += doubles(batch)
    }
    if let labels = batch.labels {
      #expect(labels.count == batch.count)
      result.labels = (result.labels ?? []) + labels
    }
    for (position, problem) in batch.problems { result.problems[batch.firstIndex + position] = problem }
  }
  return result
}

/// A fresh temporary directory, removed by the caller.
func temporaryDirectory() throws -> URL {
  URL(fileURLWithPath: try TestTemporaryDirectory.make("datasan-hdf5"))
}
