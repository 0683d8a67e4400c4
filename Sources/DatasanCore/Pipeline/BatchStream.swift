import Foundation

/// Reads batches on a background thread, a couple ahead of the consumer, so that reading
/// (I/O, HDF5, parsing) overlaps with checking on the other core. Order is preserved.
final class BatchStream {
  private let reader: SampleReader
  private let depth: Int
  private let condition = NSCondition()
  private var queue: [SampleBatch] = []
  private var finished = false
  private var failure: Error?
  private var cancelled = false
  private var thread: Thread?

  init(reader: SampleReader, depth: Int = 3) {
    self.reader = reader
    self.depth = depth
    let thread = Thread { [unowned self] in self.produce() }
    thread.stackSize = 8 << 20
    thread.name = "datasan-reader"
    self.thread = thread
    thread.start()
  }

  private func produce() {
    while true {
      condition.lock()
      while queue.count >= depth && !cancelled { condition.wait() }
      if cancelled { finished = true; condition.broadcast(); condition.unlock(); return }
      condition.unlock()
      let result: Result<SampleBatch?, Error> = Result { try reader.nextBatch() }
      condition.lock()
      switch result {
      case .success(let batch?): queue.append(batch)
      case .success(nil): finished = true
      case .failure(let error):
        failure = error
        finished = true
      }
      condition.broadcast()
      let done = finished
      condition.unlock()
      if done { return }
    }
  }

  /// The next batch in stream order, nil at the end; rethrows the reader's error.
  func next() throws -> SampleBatch? {
    condition.lock()
    defer { condition.unlock() }
    while queue.isEmpty && !finished { condition.wait() }
    if !queue.isEmpty {
      let batch = queue.removeFirst()
      condition.broadcast()
      return batch
    }
    if let failure { throw failure }
    return nil
  }

  /// Up to `count` next batches (fewer at the end of the stream, none after it).
  func next(upTo count: Int) throws -> [SampleBatch] {
    var batches: [SampleBatch] = []
    while batches.count < count, let batch = try next() { batches.append(batch) }
    return batches
  }

  /// Stops the background reader and waits for it to let go of the reader.
  func close() {
    condition.lock()
    cancelled = true
    condition.broadcast()
    while !finished { condition.wait() }
    condition.unlock()
  }

  deinit { close() }
}
