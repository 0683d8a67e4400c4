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
import Synchronization

/// An owned, 64-byte aligned, zero-initialized block of memory holding the values of a batch.
///
/// A class so that batches can be passed between threads and subset without copying
/// the storage until they are changed. Large blocks are recycled through a small pool when
/// their last batch goes: a scan allocates a handful of batch buffers once instead of
/// mapping (and having the kernel zero) fresh pages for every batch.
///
/// `@unchecked Sendable`: it holds a raw pointer, which is not Sendable. The memory is written by
/// the reader that fills a batch, then only read once the batch is handed to other threads (code that
/// changes values copies the storage first); the compiler cannot follow that hand-over.
public final class ByteStorage: @unchecked Sendable {
  /// The memory. Valid for the lifetime of this object.
  public let bytes: UnsafeMutableRawBufferPointer
  @usableFromInline let base: UnsafeMutableRawPointer
  private let capacity: Int

  /// Allocates `byteCount` bytes, zeroed unless `zeroed` is false (for a reader that
  /// overwrites every byte, and zeroes itself what it cannot read).
  public init(byteCount: Int, zeroed: Bool = true) {
    let (pointer, capacity) = StoragePool.shared.take(byteCount: Swift.max(byteCount, 1))
    base = pointer
    self.capacity = capacity
    if zeroed { base.initializeMemory(as: UInt8.self, repeating: 0, count: Swift.max(byteCount, 1)) }
    bytes = UnsafeMutableRawBufferPointer(start: base, count: byteCount)
  }

  deinit { StoragePool.shared.give(base, capacity: capacity) }

  /// The values as a typed buffer of `count` elements of `T`.
  @inlinable
  public func typed<T>(_: T.Type, count: Int) -> UnsafeMutableBufferPointer<T> {
    precondition(count * MemoryLayout<T>.stride <= bytes.count, "typed view larger than the storage")
    return UnsafeMutableBufferPointer(start: base.assumingMemoryBound(to: T.self), count: count)
  }
}

/// Keeps a few large freed buffers for reuse. Bounded: at most `maxCached` buffers.
final class StoragePool: Sendable {
  static let shared = StoragePool()
  /// Blocks smaller than this go straight to malloc and back.
  static let minimumPooled = 256 << 10
  static let maxCached = 6
  /// The cached blocks by address: owned by the pool, no one else holds them.
  private let cached = Mutex<[(address: Int, capacity: Int)]>([])

  func take(byteCount: Int) -> (UnsafeMutableRawPointer, Int) {
    if byteCount >= StoragePool.minimumPooled {
      let reused = cached.withLock { cached -> (address: Int, capacity: Int)? in
        // The smallest cached buffer that fits, and is not wastefully large.
        var best: Int? = nil
        for (i, c) in cached.enumerated() where c.capacity >= byteCount && c.capacity <= 2 * byteCount + (1 << 20) {
          if best == nil || c.capacity < cached[best!].capacity { best = i }
        }
        guard let best else { return nil }
        return cached.remove(at: best)
      }
      if let reused, let pointer = UnsafeMutableRawPointer(bitPattern: reused.address) { return (pointer, reused.capacity) }
    }
    guard byteCount >= StoragePool.minimumPooled else {
      return (UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64), byteCount)
    }
    // Large blocks are mapped and unmapped here, not taken from malloc: a freed block then goes
    // back to the system at once instead of staying in one of malloc's per-thread arenas, so the
    // resident memory is what is in use plus this pool, however threads hand blocks around.
    let capacity = (byteCount + (1 << 20) - 1) & ~((1 << 20) - 1)
    return (StoragePool.map(capacity), capacity)
  }

  /// Transparent huge pages: a batch buffer of 2 MiB and more is aligned to 2 MiB and marked
  /// MADV_HUGEPAGE, so that its first touch costs one fault per 2 MiB instead of one per 4 KiB
  /// (where the system leaves huge pages to madvise, as Debian does).
  static let hugePage = 2 << 20

  /// `capacity` bytes of fresh anonymous memory.
  private static func map(_ capacity: Int) -> UnsafeMutableRawPointer {
    let huge = capacity >= hugePage
    let length = huge ? capacity + hugePage : capacity
    // Out of address space, like a failed allocation, ends the process (with a message, not a fault).
    guard let mapped = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
      mapped != MAP_FAILED
    else { fatalError("out of memory: cannot map \(capacity) bytes for a batch") }
    guard huge else { return mapped }
    // Keep the 2 MiB-aligned part; give back the head and the tail around it.
    let address = Int(bitPattern: mapped)
    let aligned = (address + hugePage - 1) & ~(hugePage - 1)
    let head = aligned - address
    if head > 0 { munmap(mapped, head) }
    let tail = length - head - capacity
    if tail > 0 { munmap(UnsafeMutableRawPointer(bitPattern: aligned + capacity), tail) }
    let base = UnsafeMutableRawPointer(bitPattern: aligned)!
    #if os(Linux)
      _ = madvise(base, capacity, MADV_HUGEPAGE)  // advisory
    #endif
    return base
  }

  private static func release(_ pointer: UnsafeMutableRawPointer, capacity: Int) {
    if capacity >= StoragePool.minimumPooled {
      munmap(pointer, capacity)
    } else {
      pointer.deallocate()
    }
  }

  func give(_ pointer: UnsafeMutableRawPointer, capacity: Int) {
    // What goes back to the system: the block given, a smaller cached one it replaces, or nothing.
    let given = (address: Int(bitPattern: pointer), capacity: capacity)
    var release: (address: Int, capacity: Int)? = given
    if capacity >= StoragePool.minimumPooled {
      release = cached.withLock { cached in
        if cached.count < StoragePool.maxCached {
          cached.append(given)
          return nil
        }
        // Keep the larger buffers: they satisfy more requests.
        if let smallest = cached.indices.min(by: { cached[$0].capacity < cached[$1].capacity }),
          cached[smallest].capacity < capacity
        {
          let evicted = cached[smallest]
          cached[smallest] = given
          return evicted
        }
        return given
      }
    }
    if let release, let pointer = UnsafeMutableRawPointer(bitPattern: release.address) {
      StoragePool.release(pointer, capacity: release.capacity)
    }
  }
}
