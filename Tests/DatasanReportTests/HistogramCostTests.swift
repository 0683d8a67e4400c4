import Foundation
import DatasanHDF5
import DatasanTestSupport
import Testing

@testable import DatasanCore

/// What collecting histograms costs the checker (`DATASAN_BENCH=1`, meaningful in release:
/// `swift test -c release --filter HistogramCost`). Prints the times; asserts only that the
/// statistics are the same with and without.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["DATASAN_BENCH"] == "1", "set DATASAN_BENCH=1 to time histogram collection"))
struct HistogramCostTests {
  static func batches(_ type: ElementType, shape: [Int], count: Int, perBatch: Int) -> [SampleBatch] {
    var rng = SplitMix(state: 5)
    return (0..<count).map { b in
      var batch = SampleBatch.uniform(
        firstIndex: b * perBatch, count: perBatch, elementType: type, shape: shape, labels: [Double](repeating: 1, count: perBatch))
      let n = batch.elementCount
      switch type {
      case .uint8:
        let p = batch.storage.typed(UInt8.self, count: n)
        for i in 0..<n { p[i] = UInt8(truncatingIfNeeded: rng.next()) }
      default:
        let p = batch.storage.typed(Float.self, count: n)
        for i in 0..<n { p[i] = Float(rng.next() % 100_000) / 1000 }
      }
      batch.keys = .index
      return batch
    }
  }

  func time(_ batches: [SampleBatch], shape: [Int], histograms: Bool) -> (Double, [GroupStats]) {
    var options = CheckOptions()
    options.histograms = histograms
    let info = DatasetInfo(
      format: .hdf5, path: "bench", sampleCount: nil, elementType: batches[0].elementType, sampleShape: shape,
      featureName: "data", labelName: "label")
    var best = Double.infinity
    var stats: [GroupStats] = []
    for _ in 0..<3 {
      let checker = SampleChecker(options: options, info: info)
      let start = Date()
      for k in stride(from: 0, to: batches.count, by: 2) { _ = checker.check(batches: Array(batches[k..<Swift.min(k + 2, batches.count)])) }
      best = Swift.min(best, Date().timeIntervalSince(start))
      stats = checker.groupStats
    }
    return (best, stats)
  }

  @Test(arguments: [(ElementType.uint8, [3, 64, 64]), (ElementType.float32, [3, 64, 64]), (ElementType.float32, [16])])
  func cost(type: ElementType, shape: [Int]) {
    let values = 64 * 1024 * 1024 / type.size
    let perSample = shape.reduce(1, *)
    let batches = Self.batches(type, shape: shape, count: 32, perBatch: Swift.max(1, values / perSample / 32))
    let (off, a) = time(batches, shape: shape, histograms: false)
    let (on, b) = time(batches, shape: shape, histograms: true)
    let mb = Double(values * type.size) / 1e6
    print(String(format: "histograms %@ %@: off %.3f s (%.0f MB/s), on %.3f s (%.0f MB/s), x%.2f", type.rawValue, "\(shape)", off, mb / off, on, mb / on, on / off))
    for (x, y) in zip(a, b) { #expect(x.values == y.values) }
  }
}
