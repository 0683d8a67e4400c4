#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Foundation's NSLock, NSCondition and Thread, as much of them as datasan uses, over pthreads: the
// core needs no full Foundation (FoundationEssentials has none of the three), and a binary without
// it starts faster (fewer conformance records for the runtime to search).

/// A mutual-exclusion lock (a pthread mutex, as NSLock).
///
/// `@unchecked Sendable`: the mutex is what makes sharing safe; it lives at a fixed address.
public final class Lock: @unchecked Sendable {
  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

  public init() {
    mutex.initialize(to: pthread_mutex_t())
    pthread_mutex_init(mutex, nil)
  }

  deinit {
    pthread_mutex_destroy(mutex)
    mutex.deallocate()
  }

  public func lock() { pthread_mutex_lock(mutex) }
  public func unlock() { pthread_mutex_unlock(mutex) }
}

/// A lock and its condition variable (as NSCondition): `wait()` with the lock held releases it
/// until `signal()` or `broadcast()`; callers wait in a loop on their own predicate.
///
/// `@unchecked Sendable`: as ``Lock``.
public final class Condition: @unchecked Sendable {
  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

  public init() {
    mutex.initialize(to: pthread_mutex_t())
    condition.initialize(to: pthread_cond_t())
    pthread_mutex_init(mutex, nil)
    pthread_cond_init(condition, nil)
  }

  deinit {
    pthread_cond_destroy(condition)
    pthread_mutex_destroy(mutex)
    condition.deallocate()
    mutex.deallocate()
  }

  public func lock() { pthread_mutex_lock(mutex) }
  public func unlock() { pthread_mutex_unlock(mutex) }
  public func wait() { pthread_cond_wait(condition, mutex) }
  public func signal() { pthread_cond_signal(condition) }
  public func broadcast() { pthread_cond_broadcast(condition) }
}

/// glibc's `pthread_setname_np`, which Swift's Glibc module does not show (a GNU extension).
private let setThreadName: (@convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32)? =
  dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pthread_setname_np").map {
    unsafeBitCast($0, to: (@convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32).self)
  }

/// Starts `body` on a new detached thread with a stack of `stackSize` bytes, named `name` (at most
/// 15 bytes show, the kernel's limit), as Foundation's `Thread` with `stackSize` and `name` set.
/// A thread that cannot be created ends the process, as Foundation's does.
public func startThread(name: String, stackSize: Int, _ body: @escaping @Sendable () -> Void) {
  final class Start {
    let name: String
    let body: @Sendable () -> Void
    init(name: String, body: @escaping @Sendable () -> Void) {
      self.name = name
      self.body = body
    }
  }
  var attributes = pthread_attr_t()
  pthread_attr_init(&attributes)
  defer { pthread_attr_destroy(&attributes) }
  pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
  pthread_attr_setstacksize(&attributes, stackSize)
  let context = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
  var thread = pthread_t()
  let status = pthread_create(
    &thread, &attributes,
    { context in
      let start = Unmanaged<Start>.fromOpaque(context!).takeRetainedValue()
      if let setName = setThreadName { _ = setName(pthread_self(), String(start.name.utf8.prefix(15))!) }
      start.body()
      return nil
    }, context)
  guard status == 0 else { fatalError("cannot start the thread \(name): error \(status)") }
}
