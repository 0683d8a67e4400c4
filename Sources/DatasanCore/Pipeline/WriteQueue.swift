import Foundation

/// Runs write jobs one after the other, in submission order, on a background thread, so that
/// writing the outputs overlaps with reading and checking the next batches. Bounded: `submit`
/// waits while `depth` jobs are pending. The first error stops the queue and is rethrown by
/// the next `submit` or by `finish`.
final class WriteQueue {
  private let condition = NSCondition()
  private var jobs: [() throws -> Void] = []
  private var failure: Error?
  private var closing = false
  private var running = false
  private let depth: Int

  init(depth: Int = 2) {
    self.depth = depth
    let thread = Thread { [unowned self] in self.work() }
    thread.name = "datasan-writer"
    thread.stackSize = 8 << 20
    running = true
    thread.start()
  }

  private func work() {
    while true {
      condition.lock()
      while jobs.isEmpty && !closing { condition.wait() }
      if jobs.isEmpty {
        running = false
        condition.broadcast()
        condition.unlock()
        return
      }
      let job = jobs.removeFirst()
      let skip = failure != nil
      condition.broadcast()
      condition.unlock()
      if skip { continue }
      do { try job() } catch {
        condition.lock()
        failure = failure ?? error
        condition.unlock()
      }
    }
  }

  /// Queues `job`; rethrows an earlier job's error.
  func submit(_ job: @escaping () throws -> Void) throws {
    condition.lock()
    defer { condition.unlock() }
    while jobs.count >= depth && failure == nil { condition.wait() }
    if let failure { throw failure }
    jobs.append(job)
    condition.broadcast()
  }

  /// Waits for every queued job; rethrows the first error.
  func finish() throws {
    condition.lock()
    closing = true
    condition.broadcast()
    while running { condition.wait() }
    let failure = self.failure
    condition.unlock()
    if let failure { throw failure }
  }

  deinit {
    condition.lock()
    closing = true
    condition.broadcast()
    while running { condition.wait() }
    condition.unlock()
  }
}
