import Synchronization

/// A value shared by a test and the threads it starts: read and changed under a lock.
public final class Locked<Value: Sendable>: Sendable {
  private let mutex: Mutex<Value>

  public init(_ value: Value) { mutex = Mutex(value) }

  /// The value now.
  public var value: Value { mutex.withLock { $0 } }

  /// Changes the value under the lock.
  @discardableResult
  public func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}
