import Foundation
import DatasanTestSupport
import Testing
@testable import DatasanCore

/// The pipeline's threads stop in order whenever the consumer gives up, even before they started.
@Suite struct TeardownTests {
  /// A reader whose batches take a moment, so that the stream is often dropped mid-read.
  final class SlowReader: SampleReader {
    let inner: MemoryReader
    init() { inner = MemoryReader(samples: (0..<64).map { [Float($0), 1] }, labels: Array(repeating: 0, count: 64)) }
    var info: DatasetInfo { inner.info }
    func nextBatch() throws -> SampleBatch? {
      usleep(50)
      return try inner.nextBatch()
    }
  }

  /// Dropped at once, a write queue used to trap ("attempted to read an unowned reference but
  /// object was already destroyed") when its thread started after the queue's deinit began.
  @Test func writeQueueDroppedAtOnce() throws {
    for k in 0..<2000 {
      let queue = WriteQueue(depth: 1)
      if k % 2 == 0 { try queue.submit { throw DatasanError("failed") } }
    }
  }

  /// A job's error stops the queue: later jobs are skipped and `finish` rethrows the first error.
  @Test func writeQueueStopsAtTheFirstError() throws {
    let queue = WriteQueue(depth: 1)
    let ran = Locked(0)
    try queue.submit { throw DatasanError("first") }
    for _ in 0..<3 { try? queue.submit { ran.withLock { $0 += 1 } } }
    #expect(throws: DatasanError("first")) { try queue.finish() }
    #expect(ran.value == 0)
  }

  /// Closing (or dropping) a stream returns only once its thread has let go of the reader.
  @Test func streamLetsGoOfTheReaderWhenClosed() throws {
    for k in 0..<500 {
      weak var watched: SlowReader?
      do {
        let reader = SlowReader()
        watched = reader
        let stream = BatchStream(reader: reader, depth: 2)
        if k % 3 == 1 { _ = try stream.next() }
        if k % 3 == 2 { stream.close() }
      }
      #expect(watched == nil)
    }
  }

  /// `--stats-in` parameters for other feature groups are refused before any output is created,
  /// and nothing is left behind.
  @Test func statsInForOtherDataIsRefused() throws {
    let dir = try TestTemporaryDirectory.make("datasan-core")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let backend = MemoryBackend(samples: (0..<20).map { [Float($0), 2] }, labels: Array(repeating: 0, count: 20))
    let group = NormalizationParameters.Group(name: "g", min: 0, max: 1, mean: 0, std: 1, scale: 1, offset: 0)
    var config = CleanConfiguration(
      scan: ScanConfiguration(input: "mem", format: .csv), output: dir + "/out.csv", outputFormat: .csv,
      quarantine: dir + "/q.csv")
    config.statsIn = NormalizationParameters(method: .minmax, range: [-1, 1], channelAxis: .first, groups: [group, group, group])
    config.statsInPath = "stats.json"
    // The input names its groups (a, b): the file's are matched by name, and both sides listed.
    let message =
      "its feature groups are not mem's (matched by name): no statistics for 2 groups ('a', 'b') of mem; "
      + "statistics for 3 groups ('g', 'g', 'g'), not in mem"
    #expect(throws: DatasanError(path: "stats.json", message)) {
      _ = try Pipeline(backend: backend).clean(config)
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
  }
}
