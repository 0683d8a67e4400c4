import Dispatch

/// `body(k)` for every `k` in `0..<count`, on all cores (`DispatchQueue.concurrentPerform`), the
/// results in index order. One call runs inline.
public func parallelMap<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
  if count <= 1 { return (0..<count).map { body($0) } }
  return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
    let slots = DisjointSlots(base: buffer.baseAddress!)
    DispatchQueue.concurrentPerform(iterations: count) { k in slots.initialize(k, to: body(k)) }
    initialized = count
  }
}

/// The uninitialized result slots of ``parallelMap(_:_:)``, written from all cores.
///
/// `@unchecked Sendable`: iteration `k` writes only slot `k`, once, and the slots are read only after
/// `concurrentPerform` has returned (which waits for every iteration); the compiler cannot see that
/// the indices are disjoint.
private struct DisjointSlots<T>: @unchecked Sendable {
  let base: UnsafeMutablePointer<T>

  func initialize(_ k: Int, to value: T) { (base + k).initialize(to: value) }
}
