/// An owned, 64-byte aligned, zero-initialized block of memory holding the values of a batch.
///
/// A class so that batches can be passed between threads and subset without copying
/// the storage until they are changed; its memory is freed when the last batch goes.
public final class ByteStorage: @unchecked Sendable {
  /// The memory. Valid for the lifetime of this object.
  public let bytes: UnsafeMutableRawBufferPointer
  @usableFromInline let base: UnsafeMutableRawPointer

  /// Allocates `byteCount` zeroed bytes.
  public init(byteCount: Int) {
    base = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(byteCount, 1), alignment: 64)
    base.initializeMemory(as: UInt8.self, repeating: 0, count: Swift.max(byteCount, 1))
    bytes = UnsafeMutableRawBufferPointer(start: base, count: byteCount)
  }

  deinit { base.deallocate() }

  /// The values as a typed buffer of `count` elements of `T`.
  @inlinable
  public func typed<T>(_: T.Type, count: Int) -> UnsafeMutableBufferPointer<T> {
    precondition(count * MemoryLayout<T>.stride <= bytes.count, "typed view larger than the storage")
    return UnsafeMutableBufferPointer(start: base.assumingMemoryBound(to: T.self), count: count)
  }
}
