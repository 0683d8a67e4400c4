#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads batches on a background thread, a couple ahead of the consumer, so that reading
/// (I/O, HDF5, parsing) overlaps with checking on the other core. Order is preserved.
///
/// The thread shares only ``State`` with the stream, never the stream itself: an error thrown
/// by the consumer may release the stream before its thread has even started, and the thread
/// must still find everything it uses alive. ``close()`` (also called by `deinit`) returns only
/// once the thread has let go of the reader, so the caller may close files and exit after it.
///
/// The reader belongs to the thread from `init` to ``close()``: the consumer reads what it needs of
/// it before (its ``SampleReader/info``) or after (its layout findings), never while the thread
/// runs. The bytes read, which progress needs meanwhile, the thread publishes with each batch
/// (``bytesRead``).
final class BatchStream {
  /// `@unchecked Sendable`: every `var` is read and written under `condition`'s lock, and the reader
  /// is called only by the stream's thread (until it sets `reader` to nil); the compiler cannot tie
  /// the fields to the lock (Synchronization's `Mutex` has no condition to wait on).
  private final class State: @unchecked Sendable {
    let condition = Condition()
    /// Set to nil by the thread when it stops: it no longer touches the reader after that.
    var reader: SampleReader?
    let depth: Int
    /// The batches read ahead, each with the reader's ``SampleReader/bytesRead`` just after it.
    var queue: [(batch: SampleBatch, bytesRead: Int)] = []
    /// The reader's bytes read when it stopped (at the end, or at its error).
    var finalBytesRead = 0
    /// The bytes read as of the batches handed out (the consumer's side).
    var consumedBytes = 0
    var finished = false
    var failure: Error?
    var cancelled = false
    var exited = false

    init(reader: SampleReader, depth: Int) {
      self.reader = reader
      self.depth = depth
    }

    func produce() {
      do {
        let reader = self.reader!
        read(reader)
      }
      // This thread's local reference is gone; dropping this last one may close the file, which
      // happens here, before the thread says it has stopped.
      condition.lock()
      self.reader = nil
      finished = true
      exited = true
      condition.broadcast()
      condition.unlock()
    }

    private func read(_ reader: SampleReader) {
      while true {
        condition.lock()
        while queue.count >= depth && !cancelled { condition.wait() }
        let stop = cancelled
        condition.unlock()
        if stop { break }
        TestHooks.reached(.readBatch)
        let result: Result<SampleBatch?, Error> = Result { try reader.nextBatch() }
        let bytesRead = reader.bytesRead
        condition.lock()
        switch result {
        case .success(let batch?): queue.append((batch, bytesRead))
        case .success(nil):
          finished = true
          finalBytesRead = bytesRead
        case .failure(let error):
          failure = error
          finished = true
          finalBytesRead = bytesRead
        }
        condition.broadcast()
        let done = finished
        condition.unlock()
        if done { break }
      }
    }
  }

  private let state: State

  init(reader: SampleReader, depth: Int = 3) {
    let state = State(reader: reader, depth: depth)
    self.state = state
    startThread(name: "datasan-reader", stackSize: 8 << 20) { state.produce() }
  }

  /// The next batch in stream order, nil at the end; rethrows the reader's error.
  func next() throws -> SampleBatch? {
    let s = state
    s.condition.lock()
    defer { s.condition.unlock() }
    while s.queue.isEmpty && !s.finished { s.condition.wait() }
    if !s.queue.isEmpty {
      let (batch, bytesRead) = s.queue.removeFirst()
      s.consumedBytes = bytesRead
      s.condition.broadcast()
      return batch
    }
    s.consumedBytes = s.finalBytesRead
    if let failure = s.failure { throw failure }
    return nil
  }

  /// The reader's bytes of input consumed, as of the batches ``next()`` has returned (all of them
  /// once it has returned nil): what a progress bar or the report shows.
  var bytesRead: Int {
    let s = state
    s.condition.lock()
    defer { s.condition.unlock() }
    return s.consumedBytes
  }

  /// Up to `count` next batches (fewer at the end of the stream, none after it).
  func next(upTo count: Int) throws -> [SampleBatch] {
    var batches: [SampleBatch] = []
    while batches.count < count, let batch = try next() { batches.append(batch) }
    return batches
  }

  /// Stops the background reader (after the batch it is reading, if any) and waits until it
  /// has let go of the reader. Safe to call more than once.
  func close() {
    let s = state
    s.condition.lock()
    s.cancelled = true
    s.condition.broadcast()
    while !s.exited { s.condition.wait() }
    s.queue.removeAll()
    s.condition.unlock()
  }

  deinit { close() }
}
