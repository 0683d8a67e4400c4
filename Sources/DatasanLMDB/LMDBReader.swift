#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import CDatasanLMDBGuard
import CLMDB
import DatasanCore
import DatasanPNG
import Dispatch

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
/// when `data` is empty -> float32; `encoded` -> the PNG decoded by DatasanPNG (uint8 or uint16).
/// The first readable record fixes the dataset's element type. A later record of another type is
/// widened when that is lossless (uint8 or uint16 values in a float32 dataset); otherwise it is a
/// `shape_mismatch` ("float_data record in a uint8 dataset") with no values.
public final class LMDBReader: SampleReader {
  public private(set) var info: DatasetInfo
  /// Bytes of keys and values copied out of the map so far.
  public var bytesRead: Int { keyWalk.bytesRead }

  /// Whether the environment had to be opened without its lock file (MDB_NOLOCK).
  public let openedWithoutLock: Bool

  private let location: LMDBLocation
  private let options: ReadOptions
  private var env: OpaquePointer?
  private var txn: OpaquePointer?
  private var cursor: OpaquePointer?
  private let entries: Int
  private let checksKeyOrder: Bool
  private let allowsEqualKeys: Bool
  /// Where the data file is mapped (its file-backed part), when the guard found the map.
  private let mapped: Range<UInt>?
  /// The data file's size when the transaction began.
  private let dataFileSize: Int
  private var nextOp = MDB_FIRST
  private var finished = false
  /// The records consumed so far: their keys checked and counted.
  private var keyWalk: KeyWalk
  private let maxRecordsPerBatch = 65_536

  /// Opens the LMDB environment at `path` (a directory holding data.mdb, or the data file itself).
  ///
  /// - Throws: ``DatasanError`` naming the path: not an LMDB, truncated, unreadable, corrupt.
  public init(path: String, options: ReadOptions) throws {
    self.options = options
    location = try LMDBLocation.validate(path: path)
    var flags = UInt32(MDB_RDONLY | MDB_NOTLS) | (location.isFile ? UInt32(MDB_NOSUBDIR) : 0)
    var noLock = false
    var env: OpaquePointer?
    do {
      env = try LMDBReader.openEnvironment(location, flags: flags)
    } catch let first where first.isSystemError {
      // The lock file could not be created or opened (read-only folder, foreign lock file): read
      // without it. Readers then do not register, so a concurrent writer may recycle pages.
      flags |= UInt32(MDB_NOLOCK)
      noLock = true
      do {
        env = try LMDBReader.openEnvironment(location, flags: flags)
      } catch {
        throw DatasanError(path: path, "cannot open the LMDB environment: \(first)")
      }
    } catch {
      throw LMDBReader.openError(error, path: path)
    }
    self.env = env
    openedWithoutLock = noLock

    // The transaction, the main database, its record count, and where the map is.
    var txn: OpaquePointer?
    var cursor: OpaquePointer?
    var dbStat = MDB_stat()
    var envInfo = MDB_envinfo()
    var flagsOfDB: UInt32 = 0
    let rc = datasan_mdb_guarded_begin(env, &txn, &cursor, &dbStat, &flagsOfDB, &envInfo)
    self.txn = txn
    self.cursor = cursor
    entries = Int(dbStat.ms_entries)
    checksKeyOrder = flagsOfDB & UInt32(MDB_REVERSEKEY | MDB_INTEGERKEY) == 0
    allowsEqualKeys = flagsOfDB & UInt32(MDB_DUPSORT) != 0
    keyWalk = KeyWalk(entries: entries, checksOrder: checksKeyOrder, allowsEqual: allowsEqualKeys)
    // Values must lie in the part of the map that the data file backs.
    var fd: Int32 = -1
    var fileSize = location.fileSize
    if mdb_env_get_fd(env, &fd) == MDB_SUCCESS {
      var st = stat()
      if fstat(fd, &st) == 0 { fileSize = Int(st.st_size) }
    }
    var mapStart: UnsafeRawPointer?
    var mapLength = 0
    if datasan_mdb_reader_map(env, &mapStart, &mapLength) == 0, let mapStart {
      let start = UInt(bitPattern: mapStart)
      mapped = start..<(start + UInt(min(mapLength, fileSize)))
    } else {
      mapped = nil
    }
    dataFileSize = fileSize
    info = DatasetInfo(
      format: .lmdb, path: path, sampleCount: entries, elementType: .uint8, sampleShape: nil, featureName: "data",
      labelName: "label")
    info.samplesAreImages = true
    if rc == DATASAN_MDB_FAULT {
      close()
      throw corrupt(faultDescription())
    }
    if rc != MDB_SUCCESS {
      close()
      throw DatasanError(path: path, "cannot read the LMDB environment: \(MDBError(rc))")
    }
    let neededPages = (envInfo.me_last_pgno + 1) * location.meta.pageSize
    if fileSize < neededPages {
      close()
      throw DatasanError(
        path: location.dataFile,
        "truncated LMDB data file: \(fileSize) bytes, but its meta page names \(envInfo.me_last_pgno + 1) pages of "
          + "\(location.meta.pageSize) bytes (\(neededPages) bytes)")
    }
    // The B-tree, before the cursor walks it: liblmdb trusts its pages, and some damage makes its
    // cursor fault outside the map, where the guard does not (and must not) recover.
    var why = [CChar](repeating: 0, count: 160)
    let tree = datasan_mdb_guarded_check_tree(env, txn, &why, why.count)
    if tree != MDB_SUCCESS {
      close()
      if tree == DATASAN_MDB_FAULT { throw corrupt(faultDescription()) }
      let problem = tree == DATASAN_MDB_CORRUPT ? String(cString: why) : "\(MDBError(tree))"
      throw DatasanError(path: path, "corrupt LMDB environment: \(problem)")
    }

    // The first readable record fixes the element type and the sample shape.
    do {
      if let first = try probeFirstReadable() {
        info.elementType = first.type
        info.sampleShape = first.shape
        if first.raw && !options.keepOriginals && options.channelAxis == .first && first.shape.count == 3 {
          rawShape = (UInt64(first.shape[0]), UInt64(first.shape[1]), UInt64(first.shape[2]))
        }
      }
    } catch {
      close()
      throw error
    }
  }

  deinit { close() }

  /// Ends the transaction and closes the environment (also done when the reader goes away).
  public func close() {
    if let cursor { mdb_cursor_close(cursor) }
    cursor = nil
    if let txn { mdb_txn_abort(txn) }
    txn = nil
    if let env { datasan_mdb_reader_close(env) }
    env = nil
    finished = true
  }

  private static func openEnvironment(_ location: LMDBLocation, flags: UInt32) throws(MDBError) -> OpaquePointer? {
    var env: OpaquePointer?
    try mdbCheck(datasan_mdb_reader_open(location.path, flags, &env))
    return env
  }

  private static func openError(_ error: Error, path: String) -> DatasanError {
    if let e = error as? MDBError {
      switch e.code {
      case MDB_INVALID: return DatasanError(path: path, "not an LMDB environment")
      case MDB_VERSION_MISMATCH: return DatasanError(path: path, "LMDB environment of an unsupported version")
      case DATASAN_MDB_FAULT:
        return DatasanError(path: path, "corrupt LMDB environment: \(faultDescription()), while opening it")
      default: return DatasanError(path: path, "cannot open the LMDB environment: \(e)")
      }
    }
    return DatasanError(path: path, "cannot open the LMDB environment: \(error)")
  }

  // MARK: Walking

  /// Positions the cursor on the next record (or, after a batch that ended before a record that
  /// did not fit, on the same one again); nil at the end. Structural problems throw.
  /// The returned values point into the map: valid until the next cursor call.
  private func fetch() throws -> (key: MDB_val, value: MDB_val)? {
    if carryStart < carried.count {
      defer {
        carryStart += 1
        if carryStart == carried.count { carried.removeAll(keepingCapacity: true); carryStart = 0 }
      }
      return carried[carryStart]
    }
    var key = MDB_val()
    var value = MDB_val()
    let rc = datasan_mdb_guarded_cursor_get(cursor, &key, &value, nextOp)
    nextOp = MDB_NEXT
    if rc == MDB_NOTFOUND {
      if fetchedFromCursor != entries {
        throw corrupt("the walk found \(fetchedFromCursor) records, but the environment declares \(entries)")
      }
      return nil
    }
    if rc == DATASAN_MDB_FAULT { throw corrupt(faultDescription()) }
    guard rc == MDB_SUCCESS else {
      if rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_CURSOR_FULL || rc == MDB_BAD_VALSIZE {
        throw corrupt("liblmdb: \(MDBError(rc))")
      }
      throw DatasanError(
        path: location.path,
        "cannot read the LMDB environment after key '\(LMDBReader.abbreviated(keyWalk.lastGoodKeyText))': \(MDBError(rc))")
    }
    try checkInsideFile(key, what: "key")
    try checkInsideFile(value, what: "value")
    fetchedFromCursor += 1
    return (key, value)
  }

  /// Records fetched but not consumed, handed out again by ``fetch()`` before the cursor moves on
  /// (their pointers into the map stay valid for the whole read transaction).
  private var carried: [(key: MDB_val, value: MDB_val)] = []
  private var carryStart = 0
  /// Records the cursor has yielded (each once, whether consumed yet or not).
  private var fetchedFromCursor = 0

  /// Hands `records` (fetched, not consumed, in order) back to ``fetch()``.
  private func carry<S: Sequence>(_ records: S) where S.Element == (key: MDB_val, value: MDB_val) {
    var rest = Array(records)
    rest.append(contentsOf: carried[carryStart...])
    carried = rest
    carryStart = 0
  }

  /// Checks the fetched record (count, key: not empty, ascending), copies its value to
  /// `destination` (at least `value.mv_size` bytes) and returns its key as users see it.
  private func consume(key: MDB_val, value: MDB_val, into destination: UnsafeMutableRawPointer) throws -> String {
    let text: String
    do {
      text = try keyWalk.consume(key)
    } catch let failure as KeyWalk.Failure {
      throw corrupt(failure.reason(faultDescription))
    }
    if datasan_mdb_guarded_copy(destination, value.mv_data, value.mv_size) != 0 { throw corrupt(faultDescription()) }
    keyWalk.copied(text, valueSize: value.mv_size)
    return text
  }

  /// The key checks of ``consume(key:value:into:)`` and the count of the values for the raw
  /// records `run` (already read by the raw decoder), appending their keys to `keys`: on a local
  /// copy of the walk, stored back once.
  private func consumeRawRun(_ run: Range<Int>, into keys: inout [String]) throws {
    var walk = keyWalk
    let recordKeys = rawKeys
    let recordValues = rawValues
    do {
      for r in run {
        let text = try walk.consume(recordKeys[r])
        walk.copied(text, valueSize: recordValues[r].mv_size)
        keys.append(text)
      }
      keyWalk = walk
    } catch let failure as KeyWalk.Failure {
      keyWalk = walk
      throw corrupt(failure.reason(faultDescription))
    }
  }

  /// A value or key that does not lie inside the data file means a corrupt page (checked when the
  /// map's address is known; the guarded copy catches the rest).
  private func checkInsideFile(_ v: MDB_val, what: String) throws {
    guard v.mv_size > 0 else { return }
    guard let mapped else {
      if v.mv_size > dataFileSize {
        throw corrupt("a record's \(what) claims \(v.mv_size) bytes, more than the data file holds")
      }
      return
    }
    let start = UInt(bitPattern: v.mv_data)
    if start < mapped.lowerBound || start > mapped.upperBound || UInt(v.mv_size) > mapped.upperBound - start {
      throw corrupt("a record's \(what) (\(v.mv_size) bytes) lies outside the data file")
    }
  }

  /// A key for an error message: at most 80 characters.
  static func abbreviated(_ key: String) -> String {
    key.count <= 80 ? key : String(key.prefix(77)) + "..."
  }

  private func corrupt(_ why: String) -> DatasanError {
    let copied = keyWalk.copied
    let position =
      copied == 0 ? "at the first record" : "after key '\(LMDBReader.abbreviated(keyWalk.lastGoodKeyText))' (record \(copied))"
    let lock = openedWithoutLock ? "; opened without its lock file, so a concurrent writer may also cause this" : ""
    return DatasanError(path: location.path, "corrupt LMDB environment: \(why), \(position)\(lock)")
  }

  // MARK: Decoding

  /// What a record holds, decided before any value is written to the batch.
  private enum Content {
    case raw  // data bytes, uint8
    case floats  // float_data
    case image(PNGImageHeader)  // encoded PNG
    case unreadable
  }

  private struct Plan {
    var content: Content = .unreadable
    var datum = Datum()
    /// The label, NaN when the value is not a Datum at all.
    var label: Double { hasLabel ? Double(datum.label) : .nan }
    var hasLabel = true
    func withoutLabel() -> Plan {
      var p = self
      p.hasLabel = false
      return p
    }
    var shape: [Int] = [0]
    var elements = 0
    var type: ElementType = .uint8
    var problem: ReaderProblem? = nil
  }

  /// Decodes the Datum of one value and decides its shape and type (no pixel is decoded).
  private func plan(_ value: UnsafeRawBufferPointer) -> Plan {
    var p = Plan()
    func unreadable(_ why: String) -> Plan {
      var u = Plan()
      u.datum = p.datum
      u.problem = ReaderProblem(.unreadable, why)
      return u
    }
    if value.count == 0 { return unreadable("empty value").withoutLabel() }
    do {
      p.datum = try Datum.decode(value)
    } catch {
      return unreadable(error.description).withoutLabel()
    }
    let d = p.datum
    var dims: String { "channels=\(d.channels), height=\(d.height), width=\(d.width)" }  // for messages only
    if d.encoded {
      guard !d.data.isEmpty else { return unreadable("encoded Datum with empty data") }
      let image = UnsafeRawBufferPointer(rebasing: value[d.data])
      switch PNGDecoder.readHeader(image, maxPixels: options.maxPixels) {
      case .failure(let e):
        return unreadable(LMDBReader.imageProblem(e, image))
      case .success(let header):
        p.content = .image(header)
        p.shape = shapes.shape(
          channels: header.channels, height: header.height, width: header.width, axis: options.channelAxis)
        p.elements = header.elementCount
        p.type = header.elementType
        // Caffe leaves channels/height/width at 0 for encoded images; set ones must match the image.
        func differs(_ declared: Int32, _ actual: Int) -> Bool { declared != 0 && Int(declared) != actual }
        if differs(d.channels, header.channels) || differs(d.height, header.height) || differs(d.width, header.width) {
          p.problem = ReaderProblem(
            .shapeMismatch,
            "encoded image is \(header.channels)x\(header.height)x\(header.width) (CxHxW), the Datum says \(dims)")
        }
        return p
      }
    }
    guard let count = d.elementCount else {
      return unreadable(d.channels < 0 || d.height < 0 || d.width < 0 ? "negative dimension (\(dims))" : "dimensions too large (\(dims))")
    }
    let shape = shapes.shape(
      channels: Int(d.channels), height: Int(d.height), width: Int(d.width), axis: options.channelAxis)
    if !d.data.isEmpty {
      guard d.data.count == count else {
        return unreadable("data is \(d.data.count) bytes, channels*height*width = \(count) (\(dims))")
      }
      p.content = .raw
      p.type = .uint8
    } else if d.floatCount > 0 {
      guard d.floatCount == count else {
        return unreadable("float_data has \(d.floatCount) values, channels*height*width = \(count) (\(dims))")
      }
      p.content = .floats
      p.type = .float32
    } else {
      return unreadable("neither data nor float_data (\(dims))")
    }
    p.shape = shape
    p.elements = count
    return p
  }

  /// Records of one shape share one shape array.
  private var shapes = ImageShapes()

  private static func imageProblem(_ error: PNGDecodeError, _ image: UnsafeRawBufferPointer) -> String {
    if image.count >= 3 && image[0] == 0xFF && image[1] == 0xD8 && image[2] == 0xFF {
      return "encoded image is a JPEG (datasan decodes encoded PNG only)"
    }
    if error.reason == .tooLarge { return "encoded image: \(error.message)" }
    return "encoded image does not decode: \(error.message)"
  }

  private static func describe(_ content: Content, _ type: ElementType) -> String {
    switch content {
    case .raw: return "uint8 data record"
    case .floats: return "float_data record"
    case .image(let h): return "\(h.bitDepth)-bit encoded image"
    case .unreadable: return "\(type.rawValue) record"
    }
  }

  /// Whether values of `from` can be stored as `to` without loss.
  private static func widens(_ from: ElementType, to: ElementType) -> Bool {
    from == to || (to == .float32 && (from == .uint8 || from == .uint16))
  }

  /// Walks from the first record until one is readable; the cursor is then rewound.
  private func probeFirstReadable() throws -> (type: ElementType, shape: [Int], raw: Bool)? {
    defer {
      nextOp = MDB_FIRST
      fetchedFromCursor = 0
      keyWalk = KeyWalk(entries: entries, checksOrder: checksKeyOrder, allowsEqual: allowsEqualKeys)
    }
    while true {
      guard let (key, value) = try fetch() else { return nil }
      let bytes = try [UInt8](unsafeUninitializedCapacity: value.mv_size) { buffer, initialized in
        if value.mv_size > 0 { _ = try consume(key: key, value: value, into: buffer.baseAddress!) } else {
          var none: UInt8 = 0
          _ = try consume(key: key, value: value, into: &none)
        }
        initialized = value.mv_size
      }
      let p = bytes.withUnsafeBytes { plan($0) }
      if case .unreadable = p.content { continue }
      if case .image(let header) = p.content {
        // The header read; the image must decode too to count as readable.
        let ok = bytes.withUnsafeBytes { all -> Bool in
          let image = UnsafeRawBufferPointer(rebasing: all[p.datum.data])
          let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: max(header.byteCount, 1), alignment: 16)
          defer { scratch.deallocate() }
          if case .success = PNGDecoder.decode(image, maxPixels: options.maxPixels, channelAxis: options.channelAxis, into: scratch) {
            return true
          }
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
    guard !finished, cursor != nil else { return nil }
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
      var plans: [Plan] = []
      var previousShape: [Int] = []
      var tooLarge = 0
      // Walk: copy records out of the map into the originals buffer (no zero-fill, no regrowth) and
      // plan each one (Datum decoded, image headers read). A scan keeps no originals: it reuses one
      // staging buffer instead of allocating (and faulting in) a new one per batch.
      func walk(into buffer: UnsafeMutableBufferPointer<UInt8>) throws -> Int {
        var used = 0
        var estimate = 0
        while estimate < options.batchBytes && keys.count < maxRecordsPerBatch {
          guard let (key, value) = try fetch() else {
            finished = true
            break
          }
          if value.mv_size > capacity - used {
            // Read it again as the first record of the next batch (or of a larger buffer).
            carry([(key, value)])
            tooLarge = value.mv_size
            break
          }
          keys.append(try consume(key: key, value: value, into: buffer.baseAddress! + used))
          let start = used
          used += value.mv_size
          ends.append(used)
          var p = plan(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[start..<used]))
          if p.problem?.kind != .unreadable && !LMDBReader.widens(p.type, to: datasetType) {
            p.problem = ReaderProblem(
              .shapeMismatch,
              "\(LMDBReader.describe(p.content, p.type)) (\(p.type.rawValue)) in a \(datasetType.rawValue) dataset "
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
          initialized = try walk(into: buffer)
        }
      } else {
        if staging.count < capacity { staging = [UInt8](repeating: 0, count: capacity) }
        _ = try staging.withUnsafeMutableBufferPointer { try walk(into: $0) }
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

  // MARK: The raw fast path

  /// channels, height, width of a scan of raw uint8 C x H x W records, for ``nextRawBatch``.
  private var rawShape: (UInt64, UInt64, UInt64)?
  /// Set when the raw fast path stopped before a record it cannot hold: the next batch is general.
  private var generalNext = false

  /// A uniform batch of raw C x H x W uint8 samples, for a scan (no originals kept).
  ///
  /// Each canonical raw Datum is parsed and measured in the map (`datasan_mdb_guarded_raw_datums`,
  /// under the fault guard) and, unless the scan needs no values, its data copied once, straight
  /// into the batch. Any other record is copied out and planned as by the general path: an
  /// unreadable one keeps zeros in its slot; a record the uniform layout cannot hold (float_data,
  /// an encoded image, another shape) ends the batch and is read again by the general path. Nil
  /// when no record was taken.
  private func nextRawBatch(channels c: UInt64, height h: UInt64, width w: UInt64) throws -> SampleBatch? {
    let sampleBytes = Int(c * h * w)
    let capacity = max(1, min(maxRecordsPerBatch, options.batchBytes / max(sampleBytes, 1)))
    // 1. Walk: the records' places in the map (the cursor reads leaf pages only, not the values).
    rawKeys.removeAll(keepingCapacity: true)
    rawValues.removeAll(keepingCapacity: true)
    while rawKeys.count < capacity, let (key, value) = try fetch() {
      rawKeys.append(key)
      rawValues.append(value)
    }
    let n = rawKeys.count
    if n < capacity { finished = true }  // fetch() found the end (and nothing carried is left)
    guard n > 0 else { return nil }
    // 2. Decode in order: runs of canonical records in C, the others one by one here.
    // A scan that reads no values (only the moments measured here) gets none: the records are
    // measured in the map, under the guard, and not copied at all.
    let omit = !options.valuesNeeded
    let storage = ByteStorage(byteCount: omit ? 0 : n * sampleBytes, zeroed: false)
    let base: UnsafeMutablePointer<UInt8>? = omit ? nil : storage.bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
    var keys: [String] = []
    keys.reserveCapacity(n)
    var labels = [Double](repeating: 0, count: n)
    var rawLabels = [Int32](repeating: 0, count: n)
    var problems: [Int: ReaderProblem] = [:]
    // The batch in segments, decoded on all cores at once (the C decoder stops at the first record
    // of a segment it does not take; the loop below goes on from there).
    let segments = n >= 512 ? min(Machine.cores, 4) : 1
    let bounds = (0...segments).map { $0 * n / segments }
    var first = [(rc: Int32, at: Int, fault: String)](repeating: (0, 0, ""), count: segments)
    // The checker's per-channel moments, measured record by record as each arrives in cache.
    let measured = MeasuredBlocks(samples: n, blocksPerSample: Int(c), blockLength: Int(h * w))
    let moments = measured.cTable
    rawValues.withUnsafeBufferPointer { values in
      rawLabels.withUnsafeMutableBufferPointer { labels in
        first.withUnsafeMutableBufferPointer { results in
          let values = values.baseAddress, labels = labels.baseAddress, results = results.baseAddress!
          let decode = { (k: Int) in
            var at = bounds[k]
            let rc = datasan_mdb_guarded_raw_datums(
              values, bounds[k], bounds[k + 1], c, h, w, base, labels, moments, &at)
            // The fault's description lives in thread-local state of the thread that faulted.
            results[k] = (rc, at, rc == DATASAN_MDB_FAULT ? faultDescription() : "")
          }
          if segments > 1 { DispatchQueue.concurrentPerform(iterations: segments, execute: decode) } else { decode(0) }
        }
      }
    }
    var i = 0
    while i < n {
      let k = bounds.lastIndex { $0 <= i }!
      var at = i
      let rc: Int32
      var fault = ""
      if bounds[k] == i {
        (rc, at, fault) = first[k]
      } else {
        rc = rawValues.withUnsafeBufferPointer { values in
          rawLabels.withUnsafeMutableBufferPointer { labels in
            datasan_mdb_guarded_raw_datums(
              values.baseAddress, i, bounds[k + 1], c, h, w, base, labels.baseAddress, moments, &at)
          }
        }
      }
      let done = rc == DATASAN_MDB_FAULT ? at : Int(rc)
      try consumeRawRun(i..<done, into: &keys)
      for r in i..<done { labels[r] = Double(rawLabels[r]) }
      if rc == DATASAN_MDB_FAULT { throw corrupt(fault.isEmpty ? faultDescription() : fault) }
      if done == bounds[k + 1] {
        i = done
        continue
      }
      // Record `done` is not canonical: copy it out and let the full decoder decide.
      let value = rawValues[done]
      if staging.count < value.mv_size { staging = [UInt8](repeating: 0, count: max(value.mv_size, 2 * staging.count)) }
      let p = try staging.withUnsafeMutableBytes { buffer -> Plan in
        if datasan_mdb_guarded_copy(buffer.baseAddress, value.mv_data, value.mv_size) != 0 {
          throw corrupt(faultDescription())
        }
        let p = plan(UnsafeRawBufferPointer(rebasing: buffer[0..<value.mv_size]))
        if case .raw = p.content, p.shape == info.sampleShape {
          let data = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self) + p.datum.data.lowerBound
          base.map { ($0 + done * sampleBytes).update(from: data, count: sampleBytes) }
          measured.measure(sample: done, values: data)
        }
        return p
      }
      switch p.content {
      case .raw where p.shape == info.sampleShape:
        break
      case .unreadable:
        base.map { ($0 + done * sampleBytes).initialize(repeating: 0, count: sampleBytes) }
        problems[done] = p.problem
      default:
        // The uniform layout cannot hold it: this batch ends here, the general path reads the rest.
        carry(zip(rawKeys[done...], rawValues[done...]).map { (key: $0, value: $1) })
        finished = false
        generalNext = true
        return batch(keys: keys, labels: Array(labels[0..<done]), problems: problems)
      }
      try consumeRawRun(done..<(done + 1), into: &keys)
      labels[done] = p.label
      i = done + 1
    }
    return batch(keys: keys, labels: labels, problems: problems)

    func batch(keys: [String], labels: [Double], problems: [Int: ReaderProblem]) -> SampleBatch? {
      guard !keys.isEmpty else { return nil }
      defer { delivered += keys.count }
      var batch = SampleBatch(
        firstIndex: delivered, count: keys.count, elementType: .uint8, shape: info.sampleShape ?? [0],
        storage: storage, labels: labels, keys: .strings(keys), problems: problems)
      batch.values = omit ? .momentsOnly(measured) : .stored(measured: measured)
      return batch
    }
  }

  /// The places of the records of the raw batch being read.
  private var rawKeys: [MDB_val] = []
  private var rawValues: [MDB_val] = []

  /// Samples delivered so far (the stream index of the next batch's first sample).
  private var delivered = 0
  /// The reused buffer of a scan's raw values (when originals are not kept).
  private var staging: [UInt8] = []

  /// Writes the values of every planned record into one storage buffer; decodes images in parallel.
  private func assemble(firstIndex: Int, keys: [String], values: [UInt8], ends: [Int], plans: [Plan]) -> SampleBatch {
    var plans = plans
    let frozen = plans
    let count = keys.count
    let type = info.elementType
    let size = type.size
    var offsets = [Int](repeating: 0, count: count + 1)
    for i in 0..<count { offsets[i + 1] = offsets[i] + plans[i].elements }
    let storage = ByteStorage(byteCount: offsets[count] * size)
    let axisLast = options.channelAxis == .last
    let maxPixels = options.maxPixels
    var failed = [String?](repeating: nil, count: count)

    values.withUnsafeBytes { all in
      func valueBytes(_ i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: all[(i == 0 ? 0 : ends[i - 1])..<ends[i]])
      }
      // Raw and float records: copies (and the transposition to H x W x C).
      for i in 0..<count {
        let p = plans[i]
        let destination = storage.bytes.baseAddress! + offsets[i] * size
        let message = valueBytes(i)
        switch p.content {
        case .raw:
          let data = UnsafeRawBufferPointer(rebasing: message[p.datum.data])
          let d = p.datum
          LMDBReader.store(
            data.assumingMemoryBound(to: UInt8.self), c: Int(d.channels), h: Int(d.height), w: Int(d.width),
            transpose: axisLast, as: type, into: destination)
        case .floats where type == .float32 && (!axisLast || p.datum.channels == 1):
          p.datum.floats(in: message, into: destination.assumingMemoryBound(to: Float.self))
        case .floats:
          let d = p.datum
          let floats = UnsafeMutablePointer<Float>.allocate(capacity: max(p.elements, 1))
          defer { floats.deallocate() }
          d.floats(in: message, into: floats)
          LMDBReader.store(
            UnsafeBufferPointer(start: floats, count: p.elements), c: Int(d.channels), h: Int(d.height),
            w: Int(d.width), transpose: axisLast, as: type, into: destination)
        case .image, .unreadable:
          break
        }
      }
      // Encoded images: decoded straight into the storage, several at once.
      let images = (0..<count).filter { if case .image = plans[$0].content { return true } else { return false } }
      guard !images.isEmpty else { return }
      let results = UnsafeMutableBufferPointer<String?>.allocate(capacity: images.count)
      results.initialize(repeating: nil)
      defer { results.deallocate() }
      let decodeOne = { (n: Int) in
        let i = images[n]
        let p = frozen[i]
        guard case .image(let header) = p.content else { return }
        let image = UnsafeRawBufferPointer(rebasing: valueBytes(i)[p.datum.data])
        let direct = header.elementType == type
        let byteCount = header.byteCount
        let target =
          direct
          ? UnsafeMutableRawBufferPointer(start: storage.bytes.baseAddress! + offsets[i] * size, count: byteCount)
          : UnsafeMutableRawBufferPointer.allocate(byteCount: max(byteCount, 1), alignment: 16)
        defer { if !direct { target.deallocate() } }
        switch PNGDecoder.decode(image, maxPixels: maxPixels, channelAxis: axisLast ? .last : .first, into: target) {
        case .failure(let e):
          results[n] = LMDBReader.imageProblem(e, image)
        case .success:
          if !direct {
            let out = (storage.bytes.baseAddress! + offsets[i] * size).assumingMemoryBound(to: Float.self)
            if header.elementType == .uint8 {
              let src = target.assumingMemoryBound(to: UInt8.self)
              for e in 0..<p.elements { out[e] = Float(src[e]) }
            } else {
              let src = target.baseAddress!.assumingMemoryBound(to: UInt16.self)
              for e in 0..<p.elements { out[e] = Float(src[e]) }
            }
          }
        }
      }
      if images.count > 1 && Machine.cores > 1 {
        DispatchQueue.concurrentPerform(iterations: images.count, execute: decodeOne)
      } else {
        for n in 0..<images.count { decodeOne(n) }
      }
      for n in 0..<images.count { if let why = results[n] { failed[images[n]] = why } }
    }

    // Images that failed to decode become unreadable with no values: close their gaps.
    var storageOut = storage
    if failed.contains(where: { $0 != nil }) {
      var newOffsets = [Int](repeating: 0, count: count + 1)
      for i in 0..<count {
        if let why = failed[i] {
          plans[i].problem = ReaderProblem(.unreadable, why)
          plans[i].shape = [0]
          plans[i].elements = 0
        }
        newOffsets[i + 1] = newOffsets[i] + plans[i].elements
      }
      let compact = ByteStorage(byteCount: newOffsets[count] * size)
      for i in 0..<count where plans[i].elements > 0 {
        (compact.bytes.baseAddress! + newOffsets[i] * size).copyMemory(
          from: storage.bytes.baseAddress! + offsets[i] * size, byteCount: plans[i].elements * size)
      }
      offsets = newOffsets
      storageOut = compact
    }

    var problems: [Int: ReaderProblem] = [:]
    var labels = [Double](repeating: 0, count: count)
    var shapes = [[Int]]()
    shapes.reserveCapacity(count)
    for i in 0..<count {
      let p = plans[i]
      if let problem = p.problem { problems[i] = problem }
      labels[i] = p.label
      shapes.append(p.shape)
    }
    let batch = SampleBatch(
      firstIndex: firstIndex, count: count, elementType: type, shape: info.sampleShape ?? [0], shapes: shapes,
      offsets: offsets, storage: storageOut, labels: labels, keys: .strings(keys), problems: problems,
      originals: options.keepOriginals ? OriginalRecords(bytes: values, ends: ends) : nil)
    delivered += count
    return batch
  }

  /// Stores C x H x W values as `type` (the same, or widened to float32), as C x H x W or H x W x C.
  private static func store<T: FeatureElement>(
    _ source: UnsafeBufferPointer<T>, c: Int, h: Int, w: Int, transpose: Bool, as type: ElementType,
    into destination: UnsafeMutableRawPointer
  ) {
    let n = c * h * w
    if type == T.elementType && (!transpose || c == 1) {
      destination.copyMemory(from: source.baseAddress!, byteCount: n * MemoryLayout<T>.stride)
      return
    }
    if type == T.elementType {
      let out = destination.assumingMemoryBound(to: T.self)
      let plane = h * w
      for ch in 0..<c {
        for p in 0..<plane { out[p * c + ch] = source[ch * plane + p] }
      }
      return
    }
    // Widen to float32 (the only conversion a plan allows).
    let out = destination.assumingMemoryBound(to: Float.self)
    let plane = h * w
    if !transpose || c == 1 {
      for e in 0..<n { out[e] = Float(source[e].doubleValue) }
    } else {
      for ch in 0..<c {
        for p in 0..<plane { out[p * c + ch] = Float(source[ch * plane + p].doubleValue) }
      }
    }
  }
}

/// What interrupted this thread's last guarded liblmdb call.
private func faultDescription() -> String {
  switch datasan_mdb_last_fault_signal() {
  case SIGSEGV: return "liblmdb read outside the memory map (SIGSEGV caught)"
  case SIGBUS: return "liblmdb read past the end of the data file (SIGBUS caught)"
  default: return "liblmdb assertion failed (\(String(cString: datasan_mdb_last_fault_message())))"
  }
}

/// The walk's bookkeeping of the records consumed: each key copied out of the map under the fault
/// guard, checked (not empty, ascending, no more records than the environment declares) and made
/// into the text users see; the bytes copied; the last good key for error messages. A value, so
/// that a batch's loop works on a local copy, free of the per-access exclusivity checks and
/// reference counting of a class's properties, and stores it back once.
struct KeyWalk {
  /// Why a record cannot be consumed (the reader adds where, and the fault's description).
  enum Failure: Error {
    case corrupt(String)
    case fault

    func reason(_ faultDescription: () -> String) -> String {
      switch self {
      case .corrupt(let why): return why
      case .fault: return faultDescription()
      }
    }
  }

  let entries: Int
  let checksOrder: Bool
  let allowsEqual: Bool
  /// Records whose key was consumed, and whose value was copied out completely.
  private(set) var walked = 0
  private(set) var copied = 0
  /// Bytes of keys and values copied out.
  private(set) var bytesRead = 0
  /// The key of the last record copied out completely.
  private(set) var lastGoodKeyText = ""
  /// The previous key (its first `lastLength` bytes), and the buffer the next one is copied into;
  /// swapped after each key instead of copied.
  private var last: [UInt8] = []
  private var lastLength = 0
  private var scratch: [UInt8] = []

  init(entries: Int, checksOrder: Bool, allowsEqual: Bool) {
    self.entries = entries
    self.checksOrder = checksOrder
    self.allowsEqual = allowsEqual
  }

  /// Counts the record, checks its key and returns it as users see it.
  mutating func consume(_ key: MDB_val) throws -> String {
    walked += 1
    if walked > entries {
      throw Failure.corrupt("the walk finds more records than the \(entries) the environment declares")
    }
    let n = key.mv_size
    if n == 0 { throw Failure.corrupt("a record has an empty key") }
    if scratch.count < n { scratch = [UInt8](repeating: 0, count: max(n, 2 * scratch.count, 64)) }
    let text: String = try scratch.withUnsafeMutableBytes { buffer in
      if datasan_mdb_guarded_copy(buffer.baseAddress, key.mv_data, n) != 0 { throw Failure.fault }
      return LMDBKey.display(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
    }
    if checksOrder && walked > 1 {
      let order = scratch.withUnsafeBytes { current in
        last.withUnsafeBytes { previous in
          LMDBWriter.compare(
            UnsafeRawBufferPointer(rebasing: current[0..<n]), UnsafeRawBufferPointer(rebasing: previous[0..<lastLength]))
        }
      }
      if order < 0 || (order == 0 && !allowsEqual) {
        throw Failure.corrupt("key '\(LMDBReader.abbreviated(text))' does not sort after the previous key")
      }
    }
    swap(&last, &scratch)
    lastLength = n
    bytesRead += n
    return text
  }

  /// Counts a record whose value is completely out of the map.
  mutating func copied(_ key: String, valueSize: Int) {
    bytesRead += valueSize
    copied += 1
    lastGoodKeyText = key
  }
}
