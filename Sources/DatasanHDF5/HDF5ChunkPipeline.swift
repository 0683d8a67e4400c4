import CDatasanHDF5Inflate
import CHDF5
import DatasanCore
import Dispatch
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

/// How the chunks of a feature dataset can be read raw and decoded without libhdf5.
///
/// Debian's libhdf5 runs every call behind one global lock and inflates chunks one at a time
/// inside `H5Dread`, so a gzip dataset reads at the speed of one core. When a dataset's
/// chunks can be decoded here, the reader thread only copies their stored bytes
/// (`H5Dread_chunk`, cheap, under the lock) and the chunks are verified, inflated and
/// un-shuffled on every core, straight into the batch's storage.
///
/// A plan exists only when decoding gives exactly what `H5Dread` gives:
/// - the layout is chunked and a chunk spans every axis but axis 0 whole (a chunk is a run of
///   whole rows), and batches hold whole chunks;
/// - the stored type is the memory type (no conversion: not big-endian, not float16);
/// - the pipeline is, in write order, an optional shuffle (of the element size), an optional
///   deflate and an optional fletcher32, at least one of them, and partial edge chunks are
///   filtered like the others.
///
/// Anything else is read with `H5Dread`, and so is any single chunk that cannot be decoded
/// here (a filter skipped for that chunk, a chunk never written, a checksum or inflate error, an
/// odd size): `H5Dread` then gives its values, its fill value or its one-line reason.
struct HDF5RawChunkPlan: Equatable {
  /// Rows per chunk (axis 0).
  var chunkRows: Int
  /// Bytes of one row (stored and in memory: the types are equal).
  var rowBytes: Int
  /// Bytes of one element, for the shuffle filter.
  var elementSize: Int
  /// `DATASAN_CHUNK_*` steps, read side.
  var steps: UInt32
  /// Bytes of one decoded chunk.
  var chunkBytes: Int { chunkRows * rowBytes }
  /// The most stored bytes a chunk may claim before it is left to `H5Dread`: deflate's worst
  /// case expansion plus the checksum, with room to spare.
  var maxStoredBytes: Int { chunkBytes + chunkBytes / 8 + 4096 }

  /// The plan for `dataset`, or nil (with the reason in `refusal`) when it must be read with `H5Dread`.
  static func make(
    dataset: HDF5Dataset, storage: HDF5Storage, dims: [UInt64], memoryType: hid_t, elementSize: Int, rowBytes: Int,
    batchRows: Int, refusal: inout String
  ) -> HDF5RawChunkPlan? {
    guard let chunks = storage.chunks, chunks.count == dims.count, let height = chunks.first, height >= 1 else {
      refusal = "not chunked"
      return nil
    }
    for axis in 1..<dims.count where UInt64(clamping: chunks[axis]) != dims[axis] {
      refusal = "chunks do not span axis \(axis)"
      return nil
    }
    guard rowBytes > 0, elementSize > 0 else {
      refusal = "empty rows"
      return nil
    }
    let (chunkBytes, overflow) = height.multipliedReportingOverflow(by: rowBytes)
    guard !overflow, chunkBytes <= Int(UInt32.max) else {
      refusal = "chunks too large"
      return nil
    }
    guard batchRows % height == 0 else {
      refusal = "batches cut chunks"
      return nil
    }
    guard !storage.filters.isEmpty else {
      refusal = "no filters (H5Dread reads straight into the batch)"
      return nil
    }
    guard !storage.partialChunksUnfiltered else {
      refusal = "partial edge chunks unfiltered"
      return nil
    }
    // Write order: shuffle, deflate, fletcher32, each optional, nothing else.
    var steps: UInt32 = 0
    var rank = 0
    for filter in storage.filters {
      let step: UInt32
      let order: Int
      switch filter.id {
      case H5Z_FILTER_SHUFFLE:
        guard filter.values.first.map(Int.init) == elementSize else {
          refusal = "shuffle of another element size"
          return nil
        }
        (step, order) = (UInt32(DATASAN_CHUNK_SHUFFLE), 1)
      case H5Z_FILTER_DEFLATE: (step, order) = (UInt32(DATASAN_CHUNK_DEFLATE), 2)
      case H5Z_FILTER_FLETCHER32: (step, order) = (UInt32(DATASAN_CHUNK_FLETCHER32), 3)
      default:
        refusal = "filter \(filter.id)"
        return nil
      }
      guard order > rank else {
        refusal = "filters in another order"
        return nil
      }
      rank = order
      steps |= step
    }
    guard let type = try? dataset.type(), HDF5.value({ H5Tequal(type.id, memoryType) }) > 0 else {
      refusal = "type conversion"
      return nil
    }
    return HDF5RawChunkPlan(chunkRows: height, rowBytes: rowBytes, elementSize: elementSize, steps: steps)
  }
}

/// Reads batches of whole chunks ahead of the consumer: the stored bytes on the calling thread
/// (libhdf5), the decoding on worker threads, a few batches in flight, handed back in order.
///
/// Memory: at most ``window`` batches in flight, each with one buffer of stored bytes; one
/// decoder (zlib state + one chunk of scratch) per worker running at a time.
final class HDF5ChunkPipeline {
  let plan: HDF5RawChunkPlan
  /// Batches in flight at most (decoding or decoded, not yet handed out).
  let window: Int
  /// Chunks decoded here, and chunks left to `H5Dread` (for tests and benchmarks).
  private(set) var decodedChunks = 0
  private(set) var fallbackChunks = 0

  private var pending: [Job] = []
  private let pools = Pools()
  private var offset: [UInt64]

  init(plan: HDF5RawChunkPlan, rank: Int, window: Int = HDF5ChunkPipeline.defaultWindow) {
    self.plan = plan
    self.window = Swift.max(1, window)
    self.offset = [UInt64](repeating: 0, count: Swift.max(1, rank))
  }

  /// One batch per core plus one queued, so that both cores stay busy while the reader
  /// thread copies chunks; capped so that memory stays a few batches.
  static let defaultWindow = Swift.min(Machine.cores + 1, 8)

  /// False when `DATASAN_HDF5_DIRECT_CHUNKS=0` is in the environment: every chunk then goes
  /// through `H5Dread` (to compare the two paths).
  static let enabledByEnvironment = Machine.environment("DATASAN_HDF5_DIRECT_CHUNKS") != "0"

  /// Whether another batch may be started.
  var hasRoom: Bool { pending.count < window }

  /// A batch in flight: its storage, the stored chunks, and which rows could not be decoded.
  ///
  /// `@unchecked Sendable`: handed over through `done`. The submitting thread fills `pieces` and
  /// `stored` before the worker starts; the worker writes `fallback`, `decoded` and the batch's values
  /// before it signals `done`; the submitting thread reads them only after waiting for it.
  final class Job: @unchecked Sendable {
    let start: Int
    let count: Int
    let batch: SampleBatch
    /// Each chunk of the batch: its first row, its rows, where its stored bytes are in
    /// `stored` (nil: left to `H5Dread`).
    fileprivate var pieces: [(row: Int, rows: Int, at: Int, bytes: Int)?] = []
    fileprivate var stored: RawBuffer?
    /// Row ranges (absolute) whose chunk must be read with `H5Dread`. Written by the worker
    /// before `done` is signalled.
    fileprivate(set) var fallback: [Range<Int>] = []
    fileprivate(set) var decoded = 0
    fileprivate let done = DispatchSemaphore(value: 0)

    fileprivate init(start: Int, count: Int, batch: SampleBatch) {
      self.start = start
      self.count = count
      self.batch = batch
    }
  }

  /// Starts decoding rows `start ..< start + count` (whole chunks from a chunk boundary) into
  /// `batch`: copies the stored chunks now, decodes them on a worker.
  func submit(dataset: HDF5Dataset, start: Int, count: Int, batch: SampleBatch) {
    let job = Job(start: start, count: count, batch: batch)
    let height = plan.chunkRows
    var total = 0
    var sizes: [(row: Int, rows: Int, bytes: Int)?] = []
    var row = start
    let end = start + count
    while row < end {
      let rows = Swift.min(height, end - row)
      offset[0] = UInt64(row)
      let bytes = offset.withUnsafeBufferPointer { o in (try? dataset.chunkStorageSize(at: o.baseAddress!)) ?? 0 }
      if bytes > 0, bytes <= UInt64(plan.maxStoredBytes) {
        sizes.append((row, rows, Int(bytes)))
        total += Int(bytes)
      } else {
        sizes.append(nil)  // never written (fill value), unknown, or absurd: H5Dread decides
      }
      row += rows
    }
    let stored = pools.takeBuffer(bytes: total)
    var at = 0
    for size in sizes {
      guard let size else {
        job.pieces.append(nil)
        continue
      }
      offset[0] = UInt64(size.row)
      let mask = offset.withUnsafeBufferPointer { o in try? dataset.readChunk(at: o.baseAddress!, into: stored.pointer + at) }
      if mask == 0 {
        job.pieces.append((size.row, size.rows, at, size.bytes))
        at += size.bytes
      } else {
        job.pieces.append(nil)  // a read error, or a filter skipped for this chunk
      }
    }
    job.stored = stored
    pending.append(job)
    let plan = self.plan
    let pools = self.pools
    DispatchQueue.global(qos: .userInitiated).async {
      HDF5ChunkPipeline.decode(job, plan: plan, pools: pools)
    }
  }

  /// Waits for the oldest batch in flight and hands it back, nil when none is.
  func next() -> Job? {
    guard !pending.isEmpty else { return nil }
    let job = pending.removeFirst()
    job.done.wait()
    decodedChunks += job.decoded
    fallbackChunks += job.fallback.count
    return job
  }

  /// Waits for every batch in flight (their workers write into memory the jobs own).
  func drain() {
    while next() != nil {}
  }

  deinit { drain() }

  /// Decodes every stored chunk of `job` into its batch (worker thread).
  private static func decode(_ job: Job, plan: HDF5RawChunkPlan, pools: Pools) {
    let decoder = pools.takeDecoder()
    let out = job.batch.storage.bytes.baseAddress
    var fallback: [Range<Int>] = []
    var decoded = 0
    var row = job.start
    for piece in job.pieces {
      guard let piece, let stored = job.stored, let out, let decoder else {
        // The piece's rows: from `row` to the next chunk boundary (or the end of the batch).
        let rows = Swift.min(plan.chunkRows, job.start + job.count - row)
        fallback.append(row..<(row + rows))
        row += rows
        continue
      }
      let status = datasan_chunk_decode(
        decoder, stored.pointer + piece.at, piece.bytes, plan.steps, plan.elementSize, plan.chunkBytes,
        out + (piece.row - job.start) * plan.rowBytes, piece.rows * plan.rowBytes)
      if status == Int32(DATASAN_CHUNK_OK) {
        decoded += 1
      } else {
        fallback.append(piece.row..<(piece.row + piece.rows))
      }
      row = piece.row + piece.rows
    }
    if let decoder { pools.giveDecoder(decoder) }
    if let stored = job.stored { pools.giveBuffer(stored) }
    job.stored = nil
    job.fallback = fallback
    job.decoded = decoded
    job.done.signal()
  }

  /// A growable block of memory for stored chunk bytes.
  ///
  /// `@unchecked Sendable`: a raw pointer. A buffer belongs to one job at a time (taken from and given
  /// back to ``Pools`` under its lock), so only one thread touches its bytes at once.
  fileprivate final class RawBuffer: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    let capacity: Int
    init(capacity: Int) {
      self.capacity = Swift.max(capacity, 64)
      pointer = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 64)
    }
    deinit { pointer.deallocate() }
  }

  /// Buffers of stored bytes and decoders, reused across batches (thread-safe).
  ///
  /// `@unchecked Sendable`: `buffers` and `decoders` (C decoder handles) are read and written under
  /// `lock` only, and a decoder is used by the one worker that took it; the compiler cannot tie the
  /// fields to the lock.
  fileprivate final class Pools: @unchecked Sendable {
    private let lock = Lock()
    private var buffers: [RawBuffer] = []
    private var decoders: [OpaquePointer] = []

    func takeBuffer(bytes: Int) -> RawBuffer {
      lock.lock()
      if let i = buffers.firstIndex(where: { $0.capacity >= bytes }) {
        let buffer = buffers.remove(at: i)
        lock.unlock()
        return buffer
      }
      // None large enough: drop the smallest (so that the pool stays as small as the window)
      // and allocate one with room to spare, so that sizes settle.
      if let i = buffers.indices.min(by: { buffers[$0].capacity < buffers[$1].capacity }) { buffers.remove(at: i) }
      lock.unlock()
      return RawBuffer(capacity: bytes + bytes / 4)
    }

    func giveBuffer(_ buffer: RawBuffer) {
      lock.lock()
      buffers.append(buffer)
      lock.unlock()
    }

    func takeDecoder() -> OpaquePointer? {
      lock.lock()
      if let decoder = decoders.popLast() {
        lock.unlock()
        return decoder
      }
      lock.unlock()
      return datasan_chunk_decoder_new()
    }

    func giveDecoder(_ decoder: OpaquePointer) {
      lock.lock()
      decoders.append(decoder)
      lock.unlock()
    }

    deinit { decoders.forEach { datasan_chunk_decoder_free($0) } }
  }
}
