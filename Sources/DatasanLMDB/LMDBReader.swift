import CDatasanLMDBGuard
import CLMDB
import DatasanCore
import DatasanPNG

/// Reads a Caffe-style LMDB (one Datum message per record) as a stream of samples, in key order.
///
/// Opening is read-only and defensive, because a damaged data file must never crash datasan:
///
/// 1. Before liblmdb sees the file, both meta pages are parsed here (magic, version, page size,
///    last page) and the file must hold every page the meta pages name: liblmdb maps the file and
///    would die of SIGBUS on a truncated one. Not an LMDB, truncated -> a thrown ``DatasanError``.
/// 2. The environment is opened `MDB_RDONLY | MDB_NOTLS` (the transaction lives on the reader
///    thread of the pipeline, not the opening one); when the lock file cannot be created or opened
///    (read-only folder, a lock file owned by someone else) it is reopened with `MDB_NOLOCK`.
///    A read-only file system needs nothing: liblmdb then skips the lock itself. The data file is
///    opened `O_RDONLY` by liblmdb and never written.
/// 3. The walk is one read transaction (a consistent snapshot even while another process writes)
///    and one cursor. Every liblmdb call that reads the map (opening the environment, beginning the
///    transaction, every cursor step) and every copy out of it runs under the fault guard of the
///    CDatasanLMDBGuard target (sigsetjmp + a chained SIGSEGV/SIGBUS handler + liblmdb's assert
///    callback, all in C), so a corrupt page that makes liblmdb read past the map, or a data file
///    truncated under the reader, becomes an error, not a crash. Each
///    value must also lie inside the data file, keys must ascend, and the walk may not yield more
///    records than the environment declares. Any of these failing, or liblmdb reporting
///    MDB_CORRUPTED / MDB_PAGE_NOTFOUND, stops the scan with "corrupt LMDB environment ... after
///    key K" (exit 2): the B-tree itself is broken, so records may be missing.
/// 4. Values are copied out (they are valid only inside the transaction) into the batch's
///    `originals`, and decoded from there. A value that is not a usable Datum is an `unreadable`
///    sample with the reason; the scan goes on.
///
/// Samples: raw `data` -> uint8 [C, H, W] (or [H, W, C] with `channelAxis == .last`); `float_data`
/// when `data` is empty -> float32; `encoded` -> the image (PNG or JPEG) decoded by DatasanPNG's codecs (uint8 or uint16).
/// The first readable record fixes the dataset's element type. A later record of another type is
/// widened when that is lossless (uint8 or uint16 values in a float32 dataset). A record's storage is
/// not its shape: a `float_data` record in a uint8 dataset is a sample like any other, its values
/// checked (a NaN is `nan_value`): stored as uint8 when every value is one (0...255, integral), else
/// its batch is float32 (the uint8 records widened). Other type changes (a 16-bit encoded image in a
/// uint8 dataset) are `shape_mismatch` with no values.
///
/// With ``ReadOptions/sampleRange`` `.samples(a..<b)` the reader fixes the type and shape from the
/// first readable record as always, steps over the first `a` records reading their keys only (their
/// values are not copied), and stops after record `b - 1`.
///
/// The parts: ``LMDBEnvironment`` (opening, the transaction), ``LMDBRecordWalk`` (the cursor walk and
/// its checks), ``DatumPlanner`` (what a value holds), the general batch path here and in
/// LMDBBatchAssembly.swift, the raw fast path in LMDBRawBatches.swift.
public final class LMDBReader: SampleReader {
  public private(set) var info: DatasetInfo
  /// Bytes of keys and values copied out of the map so far.
  public var bytesRead: Int { walk.keyWalk.bytesRead }

  /// Whether the environment had to be opened without its lock file (MDB_NOLOCK).
  public var openedWithoutLock: Bool { environment.openedWithoutLock }

  let options: ReadOptions
  let environment: LMDBEnvironment
  let walk: LMDBRecordWalk
  var planner: DatumPlanner
  var finished = false
  let maxRecordsPerBatch = 65_536
  /// Samples delivered so far plus the first one of the range (the stream index of the next
  /// batch's first sample).
  var delivered = 0
  /// The reused buffer of a scan's values (when originals are not kept).
  var staging: [UInt8] = []
  /// channels, height, width of a scan of raw uint8 C x H x W records, for ``nextRawBatch``.
  var rawShape: (UInt64, UInt64, UInt64)?
  /// Set when the raw fast path stopped before a record it cannot hold: the next batch is general.
  var generalNext = false
  /// The places of the records of the raw batch being read.
  var rawKeys: [MDB_val] = []
  var rawValues: [MDB_val] = []

  /// Opens the LMDB environment at `path` (a directory holding data.mdb, or the data file itself).
  ///
  /// - Throws: ``DatasanError`` naming the path: not an LMDB, truncated, unreadable, corrupt.
  public init(path: String, options: ReadOptions) throws {
    self.options = options
    environment = try LMDBEnvironment(path: path)
    walk = LMDBRecordWalk(environment)
    planner = DatumPlanner(options: options)
    info = DatasetInfo(
      format: .lmdb, path: path, sampleCount: environment.entries, elementType: .uint8, sampleShape: nil,
      featureName: "data", labelName: "label")
    info.labelSource = "the Datums' label field"
    info.samplesAreImages = true
    if let size = options.resize { info.layout = LMDBSourceLayout(resizedTo: size) }

    // The first readable record fixes the element type and the sample shape.
    do {
      if let first = try probeFirstReadable() {
        info.elementType = first.type
        info.sampleShape = first.shape
        if first.raw && !options.keepOriginals && options.channelAxis == .first && first.shape.count == 3
          && options.resize == nil
        {
          rawShape = (UInt64(first.shape[0]), UInt64(first.shape[1]), UInt64(first.shape[2]))
        }
      }
      if let range = options.sampleRange {
        guard let records = range.samples(clampedTo: environment.entries) else {
          throw DatasanError(path: path, "an LMDB environment is read by record ranges, not byte ranges")
        }
        info.sampleCount = records.count
        delivered = records.lowerBound
        walk.stop(after: records.upperBound)
        if try !walk.skip(records.lowerBound) || records.isEmpty { finished = true }
      }
    } catch {
      close()
      throw error
    }
  }

  deinit { close() }

  /// Ends the transaction and closes the environment (also done when the reader goes away).
  public func close() {
    environment.close()
    finished = true
  }

  /// Walks from the first record until one is readable; the walk is then rewound.
  private func probeFirstReadable() throws -> (type: ElementType, shape: [Int], raw: Bool)? {
    defer { walk.rewind() }
    while true {
      guard let (key, value) = try walk.fetch() else { return nil }
      let bytes = try [UInt8](unsafeUninitializedCapacity: value.mv_size) { buffer, initialized in
        if value.mv_size > 0 { _ = try walk.consume(key: key, value: value, into: buffer.baseAddress!) } else {
          var none: UInt8 = 0
          _ = try walk.consume(key: key, value: value, into: &none)
        }
        initialized = value.mv_size
      }
      let p = bytes.withUnsafeBytes { planner.plan($0) }
      if case .unreadable = p.content { continue }
      if case .image(let header) = p.content {
        // The header read; the image must decode too to count as readable.
        let ok = bytes.withUnsafeBytes { all -> Bool in
          let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: max(header.byteCount, 1), alignment: 16)
          defer { scratch.deallocate() }
          if case .success = planner.decodeImage(p, in: all, into: scratch) { return true }
          return false
        }
        if !ok { continue }
      }
      if case .raw = p.content { return (p.type, p.shape, true) }
      return (p.type, p.shape, false)
    }
  }

  // MARK: Batches

  public func nextBatch() throws -> SampleBatch? {
    guard !finished, environment.cursor != nil else { return nil }
    if let (c, h, w) = rawShape, !generalNext {
      if let batch = try nextRawBatch(channels: c, height: h, width: w) { return batch }
      if finished { return nil }
      // The next record needs the general path (a float, encoded or other-shaped record).
    }
    generalNext = false
    let datasetType = info.elementType
    // Raw values are about as large as their features; one record larger than that gets a buffer of its own.
    var capacity = max(min(options.batchBytes + options.batchBytes / 4, 1 << 30), 1 << 16)
    while true {
      var ends: [Int] = []
      var keys: [String] = []
      var plans: [DatumPlan] = []
      var previousShape: [Int] = []
      var tooLarge = 0
      // Walk: copy records out of the map into the originals buffer (no zero-fill, no regrowth) and
      // plan each one (Datum decoded, image headers read). A scan keeps no originals: it reuses one
      // staging buffer instead of allocating (and faulting in) a new one per batch.
      func copyOut(into buffer: UnsafeMutableBufferPointer<UInt8>) throws -> Int {
        var used = 0
        var estimate = 0
        while estimate < options.batchBytes && keys.count < maxRecordsPerBatch {
          guard let (key, value) = try walk.fetch() else {
            finished = true
            break
          }
          if value.mv_size > capacity - used {
            // Read it again as the first record of the next batch (or of a larger buffer).
            walk.carry([(key, value)])
            tooLarge = value.mv_size
            break
          }
          keys.append(try walk.consume(key: key, value: value, into: buffer.baseAddress! + used))
          let start = used
          used += value.mv_size
          ends.append(used)
          var p = planner.plan(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[start..<used]))
          if p.problem?.kind != .unreadable && !DatumPlanner.holds(p, in: datasetType) {
            p.problem = ReaderProblem(
              .shapeMismatch,
              "\(p.contentDescription) (\(p.type.rawValue)) in a \(datasetType.rawValue) dataset "
                + "(the first readable record fixes the type)")
            p.content = .unreadable
            p.shape = [0]
            p.elements = 0
          }
          if p.shape == previousShape { p.shape = previousShape } else { previousShape = p.shape }  // share storage
          estimate += max(p.elements * datasetType.size, value.mv_size)
          plans.append(p)
        }
        return used
      }
      let values: [UInt8]
      if options.keepOriginals {
        values = try [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
          initialized = try copyOut(into: buffer)
        }
      } else {
        if staging.count < capacity { staging = [UInt8](repeating: 0, count: capacity) }
        _ = try staging.withUnsafeMutableBufferPointer { try copyOut(into: $0) }
        values = []
      }
      if keys.isEmpty {
        if tooLarge > 0 {
          capacity = tooLarge
          continue
        }
        return nil
      }
      return assemble(
        firstIndex: delivered, keys: keys, values: options.keepOriginals ? values : staging, ends: ends, plans: plans)
    }
  }
}
