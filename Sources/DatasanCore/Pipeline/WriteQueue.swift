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

/// Runs write jobs one after the other, in submission order, on a background thread, so that
/// writing the outputs overlaps with reading and checking the next batches. Bounded: `submit`
/// waits while `depth` jobs are pending. The first error stops the queue and is rethrown by
/// the next `submit` or by `finish`.
///
/// The thread shares only ``State`` with the queue (see ``BatchStream``): the queue may be
/// released by an error before its thread has started. ``cancel()`` (also called by `deinit`)
/// drops the pending jobs and returns once the job running, if any, has ended and the thread
/// holds nothing: only then may the caller abort the writers and remove their files.
final class WriteQueue {
  /// `@unchecked Sendable`: every `var` is read and written under `condition`'s lock (the compiler
  /// cannot tie the fields to the lock: Synchronization's `Mutex` has no condition to wait on), and a
  /// job runs on the queue's thread only: what it captures (the writers), the submitting thread
  /// touches again only after ``finish()`` or ``cancel()`` has waited for that thread.
  private final class State: @unchecked Sendable {
    let condition = Condition()
    var jobs: [() throws -> Void] = []
    var failure: Error?
    var closing = false
    var running = true
    let depth: Int

    init(depth: Int) { self.depth = depth }

    func work() {
      while true {
        condition.lock()
        while jobs.isEmpty && !closing { condition.wait() }
        if jobs.isEmpty {
          running = false
          condition.broadcast()
          condition.unlock()
          return
        }
        let skip = failure != nil
        let job = jobs.removeFirst()
        condition.broadcast()
        condition.unlock()
        if skip { continue }
        do {
          TestHooks.reached(.writeBatch)
          try job()
        } catch {
          condition.lock()
          failure = failure ?? error
          condition.broadcast()
          condition.unlock()
        }
      }
    }
  }

  private let state: State

  init(depth: Int = 2) {
    let state = State(depth: depth)
    self.state = state
    startThread(name: "datasan-writer", stackSize: 8 << 20) { state.work() }
  }

  /// Queues `job`; rethrows an earlier job's error.
  func submit(_ job: @escaping () throws -> Void) throws {
    let s = state
    s.condition.lock()
    defer { s.condition.unlock() }
    while s.jobs.count >= s.depth && s.failure == nil && !s.closing { s.condition.wait() }
    if let failure = s.failure { throw failure }
    precondition(!s.closing, "a job submitted to a finished write queue")
    s.jobs.append(job)
    s.condition.broadcast()
  }

  /// Waits for every queued job; rethrows the first error.
  func finish() throws {
    try stop(dropping: false)
  }

  /// Drops the jobs not started and waits for the thread to end. Safe to call more than once.
  func cancel() {
    try? stop(dropping: true)
  }

  private func stop(dropping: Bool) throws {
    let s = state
    s.condition.lock()
    if dropping { s.jobs.removeAll() }
    s.closing = true
    s.condition.broadcast()
    while s.running { s.condition.wait() }
    let failure = s.failure
    s.condition.unlock()
    if let failure { throw failure }
  }

  deinit { cancel() }
}
