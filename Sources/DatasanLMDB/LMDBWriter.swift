#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import CLMDB
import DatasanCore

/// Writes samples as a new LMDB environment of Caffe Datum records (`data.mdb` + `lock.mdb` in the
/// directory `path`).
///
/// - Keys: the batch's keys in the order given. A key shown as `0x...` hex is written as the bytes
///   it stands for (``LMDBKey/bytes(of:)``), so LMDB keys round-trip; `.index` and `.numbers` keys
///   are written as zero-padded decimals ("00000042", Caffe's convention) so that LMDB's key order
///   is the input order. Ascending keys are appended (`MDB_APPEND`, the fast path); others are
///   inserted. A duplicate key is an error (a record would otherwise be lost). With
///   `indexedKeys` (an image folder source), a key is the sample's stream index as 8 digits, `_`,
///   then its key (`00000042_cat/1.jpg`): convert_imageset's key, so that LMDB's key order is the
///   input's (a `--list` order too).
/// - Values: for `.original` content with `keepOriginalValues` and a batch that carries `originals`
///   (an LMDB source: the quarantine, `--normalize none`), the original bytes unchanged. For
///   `.original` content with `encodedImages` (an image folder source, not resized), an encoded
///   Datum as `convert_imageset --encoded` writes it: `data` = the image file's bytes (what
///   `encodedImages` returns for the sample's original record), `label`, `encoded` = true, and no
///   channels / height / width (Caffe's `ReadFileToDatum` sets none). Otherwise a Datum: uint8 samples
///   as `data` (C x H x W, then `encoded` = false, as Caffe's `CVMatToDatum` writes it), any other type as packed `float_data` (float32; exact for normalized
///   output, for 8/16-bit integers and float32 sources), channels/height/width from the shape
///   (`[C, H, W]`, or `[H, W, C]` transposed back to C x H x W with `channelAxis == .last`;
///   `[H, W]` -> 1 x H x W; `[D]` -> D x 1 x 1), and `label` = the label as int32 (rounded; Datum
///   labels are integers), left out when the dataset has no labels.
/// - Transactions: one per batch, without per-commit fsync (`MDB_NOSYNC`); ``finish()`` syncs once.
///   The map starts at 64 MiB and doubles on `MDB_MAP_FULL` (the transaction is aborted and
///   redone), so no user ever chooses a map size.
/// The bytes of the image file a sample's original record names (an image folder's relative path),
/// for encoded Datums; throws ``DatasanError`` when the file cannot be read.
public typealias EncodedImageSource = @Sendable (ArraySlice<UInt8>) throws -> [UInt8]

public final class LMDBWriter: SampleWriter {
  private let path: String
  private let content: WriteContent
  private let keepOriginalValues: Bool
  private let channelAxis: ChannelAxis
  private let encodedImages: EncodedImageSource?
  private let indexedKeys: Bool
  /// See ``SampleWriter/swapsColourChannelsOnRead``: encoded Datums of RGB images (Caffe reads BGR).
  public let swapsColourChannelsOnRead: Bool
  private var env: OpaquePointer?
  private var dbi: MDB_dbi = 0
  private(set) var mapSize: Int
  /// How many times the map was grown (for tests).
  package private(set) var mapGrowths = 0
  private var lastKey: [UInt8]? = nil
  private let maxKeySize: Int
  private var written = 0

  /// Creates the environment directory `path` (which must not exist, or be an empty directory).
  ///
  /// - Parameters:
  ///   - content: `.normalized` (float32 batches) or `.original` (batches as read).
  ///   - keepOriginalValues: write a batch's `originals` unchanged when it has them (LMDB sources).
  ///   - channelAxis: the layout of the batches' samples; nil = the normalization parameters'
  ///     axis for `.normalized`, `.first` for `.original`.
  ///   - encodedImages: with `.original` content, each sample is written as an encoded Datum of the
  ///     image file this returns for its original record (an image folder source).
  ///   - indexedKeys: keys are `%08d_<key>` of the stream index (convert_imageset's).
  ///   - swapsColourChannelsOnRead: the records are read back with red and blue swapped (encoded
  ///     Datums of RGB batches), for the `--caffe-mean` image.
  public convenience init(
    path: String, content: WriteContent, keepOriginalValues: Bool, channelAxis: ChannelAxis? = nil,
    encodedImages: EncodedImageSource? = nil, indexedKeys: Bool = false, swapsColourChannelsOnRead: Bool = false
  ) throws {
    try self.init(
      path: path, content: content, keepOriginalValues: keepOriginalValues, channelAxis: channelAxis,
      initialMapSize: 64 << 20, encodedImages: encodedImages, indexedKeys: indexedKeys,
      swapsColourChannelsOnRead: swapsColourChannelsOnRead)
  }

  /// The designated initializer; tests start with a tiny map to exercise its growth.
  package init(
    path: String, content: WriteContent, keepOriginalValues: Bool, channelAxis: ChannelAxis?, initialMapSize: Int,
    encodedImages: EncodedImageSource? = nil, indexedKeys: Bool = false, swapsColourChannelsOnRead: Bool = false
  ) throws {
    self.swapsColourChannelsOnRead = swapsColourChannelsOnRead
    self.path = path
    self.encodedImages = encodedImages
    self.indexedKeys = indexedKeys
    self.content = content
    self.keepOriginalValues = keepOriginalValues
    if let channelAxis {
      self.channelAxis = channelAxis
    } else if case .normalized(let p) = content {
      self.channelAxis = p.channelAxis
    } else {
      self.channelAxis = .first
    }
    mapSize = max(initialMapSize, 1 << 16)
    if mkdir(path, 0o755) != 0 {
      let code = errno
      var isEmptyDirectory = false
      if code == EEXIST, let dir = opendir(path) {
        isEmptyDirectory = true
        while let entry = readdir(dir) {
          let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
          if name != "." && name != ".." { isEmptyDirectory = false }
        }
        closedir(dir)
      }
      guard isEmptyDirectory else {
        throw DatasanError(path: path, code == EEXIST ? "already exists" : "cannot create the LMDB directory: \(errnoText(code))")
      }
    }
    var env: OpaquePointer?
    var rc = mdb_env_create(&env)
    if rc == MDB_SUCCESS { rc = mdb_env_set_mapsize(env, mapSize) }
    if rc == MDB_SUCCESS { rc = mdb_env_open(env, path, UInt32(MDB_NOSYNC | MDB_NOMETASYNC), 0o644) }
    guard rc == MDB_SUCCESS else {
      if let env { mdb_env_close(env) }
      throw DatasanError(path: path, "cannot create the LMDB environment: \(MDBError(rc))")
    }
    self.env = env
    maxKeySize = Int(mdb_env_get_maxkeysize(env))
    var txn: OpaquePointer?
    rc = mdb_txn_begin(env, nil, 0, &txn)
    if rc == MDB_SUCCESS { rc = mdb_dbi_open(txn, nil, 0, &dbi) }
    if rc == MDB_SUCCESS { rc = mdb_txn_commit(txn) } else if txn != nil { mdb_txn_abort(txn) }
    guard rc == MDB_SUCCESS else {
      mdb_env_close(env)
      self.env = nil
      throw DatasanError(path: path, "cannot create the LMDB environment: \(MDBError(rc))")
    }
  }

  deinit {
    if let env { mdb_env_close(env) }
  }

  // MARK: SampleWriter

  public func append(_ batch: SampleBatch) throws {
    precondition(env != nil, "LMDBWriter used after finish() or abort()")
    guard batch.count > 0 else { return }
    var keys: [UInt8] = []
    var keyEnds: [Int] = []
    var values: [UInt8] = []
    var valueEnds: [Int] = []
    if case .original = content, keepOriginalValues || encodedImages != nil, let originals = batch.originals {
      values.reserveCapacity(originals.bytes.count)
    } else {
      values.reserveCapacity(batch.elementCount * (batch.elementType == .uint8 ? 1 : 4) + batch.count * 32)
    }
    keyEnds.reserveCapacity(batch.count)
    valueEnds.reserveCapacity(batch.count)
    for i in 0..<batch.count {
      try appendKey(of: batch, i, to: &keys)
      keyEnds.append(keys.count)
      try appendValue(of: batch, i, to: &values)
      valueEnds.append(values.count)
    }
    try put(keys: keys, keyEnds: keyEnds, values: values, valueEnds: valueEnds)
  }

  public func finish() throws {
    guard let env else { return }
    let rc = mdb_env_sync(env, 1)
    mdb_env_close(env)
    self.env = nil
    if rc != MDB_SUCCESS { throw DatasanError(path: path, "cannot write the LMDB environment: \(MDBError(rc))") }
  }

  public func abort() {
    if let env { mdb_env_close(env) }
    env = nil
  }

  // MARK: Keys and values

  private func appendKey(of batch: SampleBatch, _ i: Int, to keys: inout [UInt8]) throws {
    let start = keys.count
    if indexedKeys {
      keys.append(contentsOf: LMDBWriter.paddedDecimal(batch.streamIndex(of: i)))
      keys.append(UInt8(ascii: "_"))
    }
    switch batch.keys {
    case .strings(let strings): keys.append(contentsOf: LMDBKey.bytes(of: strings[i]))
    case .numbers(let numbers): keys.append(contentsOf: LMDBWriter.paddedDecimal(numbers[i]))
    case .index: keys.append(contentsOf: LMDBWriter.paddedDecimal(batch.firstIndex + i))
    }
    let size = keys.count - start
    if size == 0 || size > maxKeySize {
      let shown = batch.key(of: i)
      throw DatasanError(
        path: path,
        size == 0 ? "cannot write an empty LMDB key" : "key '\(shown)' is \(size) bytes, over LMDB's \(maxKeySize)-byte limit")
    }
  }

  static func paddedDecimal(_ n: Int) -> [UInt8] {
    let digits = Array(String(n).utf8)
    return n >= 0 && digits.count < 8 ? [UInt8](repeating: UInt8(ascii: "0"), count: 8 - digits.count) + digits : digits
  }

  private func appendValue(of batch: SampleBatch, _ i: Int, to values: inout [UInt8]) throws {
    if case .original = content, keepOriginalValues, let originals = batch.originals {
      values.append(contentsOf: originals.record(i))
      return
    }
    if case .original = content, let encodedImages, let originals = batch.originals {
      let file = try encodedImages(originals.record(i))
      let label = batch.labels.map { LMDBWriter.datumLabel($0[i]) }
      file.withUnsafeBytes { Datum.encode(dimensions: nil, data: $0, label: label, encoded: true, into: &values) }
      return
    }
    let shape = batch.shape(of: i)
    let range = batch.elementRange(of: i)
    let (c, h, w) = LMDBWriter.dimensions(shape, channelAxis: channelAxis)
    let dims = (Int32(clamping: c), Int32(clamping: h), Int32(clamping: w))
    let label = batch.labels.map { LMDBWriter.datumLabel($0[i]) }
    let transpose = channelAxis == .last && c > 1 && range.count == c * h * w
    if batch.elementType == .uint8 {
      let source = batch.storage.typed(UInt8.self, count: batch.elementCount)
      let sample = UnsafeBufferPointer(rebasing: source[range])
      if transpose {
        let planar = LMDBWriter.planar(sample, channels: c)
        planar.withUnsafeBytes { Datum.encode(dimensions: dims, data: $0, label: label, into: &values) }
      } else {
        Datum.encode(dimensions: dims, data: UnsafeRawBufferPointer(sample), label: label, into: &values)
      }
      // `encoded = false` written out, as Caffe's CVMatToDatum does: the record is then byte for byte
      // what convert_imageset writes (still the canonical raw form of the Datum rule).
      values.append(contentsOf: [0x38, 0x00])
      return
    }
    var floats = [Float](repeating: 0, count: range.count)
    batch.elementType.withType { t in LMDBWriter.copyAsFloats(t, batch, range, into: &floats) }
    if transpose { floats = floats.withUnsafeBufferPointer { LMDBWriter.planar($0, channels: c) } }
    floats.withUnsafeBufferPointer { Datum.encode(dimensions: dims, floats: $0, label: label, into: &values) }
  }

  private static func copyAsFloats<T: FeatureElement>(_: T.Type, _ batch: SampleBatch, _ range: Range<Int>, into out: inout [Float]) {
    let source = batch.storage.typed(T.self, count: batch.elementCount)
    guard !range.isEmpty else { return }
    if T.self == Float.self {
      out.withUnsafeMutableBytes { dst in
        dst.baseAddress!.copyMemory(from: UnsafeRawPointer(source.baseAddress! + range.lowerBound), byteCount: range.count * 4)
      }
      return
    }
    for (n, e) in range.enumerated() { out[n] = Float(source[e].doubleValue) }
  }

  /// H x W x C (interleaved) values to C x H x W (planar).
  static func planar<T>(_ values: UnsafeBufferPointer<T>, channels c: Int) -> [T] {
    let plane = values.count / c
    return [T](unsafeUninitializedCapacity: values.count) { out, initialized in
      for p in 0..<plane {
        for ch in 0..<c { (out.baseAddress! + ch * plane + p).initialize(to: values[p * c + ch]) }
      }
      initialized = values.count
    }
  }

  /// Datum's channels, height, width for a sample shape.
  static func dimensions(_ shape: [Int], channelAxis: ChannelAxis) -> (Int, Int, Int) {
    switch shape.count {
    case 0: return (1, 1, 1)
    case 1: return (shape[0], 1, 1)
    case 2: return (1, shape[0], shape[1])
    default:
      if channelAxis == .last {
        return (shape[shape.count - 1], shape[0], shape[1..<(shape.count - 1)].reduce(1, *))
      }
      return (shape[0], shape[1], shape[2...].reduce(1, *))
    }
  }

  /// A label as Datum's int32: rounded to the nearest integer, clamped.
  static func datumLabel(_ label: Double) -> Int32 {
    guard label.isFinite else { return 0 }
    return Int32(clamping: Int64(max(-9.2e18, min(9.2e18, label.rounded()))))
  }

  // MARK: Transactions

  /// Writes the records in one transaction; on MDB_MAP_FULL, doubles the map and redoes it.
  private func put(keys: [UInt8], keyEnds: [Int], values: [UInt8], valueEnds: [Int]) throws {
    let count = keyEnds.count
    // Append where keys ascend (the common case), insert otherwise; decided before the transaction.
    var appendFlags = [UInt32](repeating: 0, count: count)
    var previous = lastKey
    keys.withUnsafeBytes { all in
      var largest: Range<Int>? = nil  // the largest key of this batch so far
      for i in 0..<count {
        let range = (i == 0 ? 0 : keyEnds[i - 1])..<keyEnds[i]
        let key = UnsafeRawBufferPointer(rebasing: all[range])
        let ascending: Bool
        if let largest {
          ascending = LMDBWriter.compare(key, UnsafeRawBufferPointer(rebasing: all[largest])) > 0
        } else {
          ascending = previous.map { $0.withUnsafeBytes { LMDBWriter.compare(key, $0) } > 0 } ?? true
        }
        appendFlags[i] = ascending ? UInt32(MDB_APPEND) : UInt32(MDB_NOOVERWRITE)
        if ascending { largest = range }
      }
      if let largest { previous = Array(all[largest]) }
    }
    while true {
      let rc = keys.withUnsafeBytes { k in
        values.withUnsafeBytes { v in writeTransaction(keys: k, keyEnds: keyEnds, values: v, valueEnds: valueEnds, flags: appendFlags) }
      }
      switch rc {
      case .success:
        lastKey = previous
        written += count
        return
      case .failure(let e) where e.error.code == MDB_MAP_FULL:
        guard mapSize < (1 << 46) else { throw DatasanError(path: path, "LMDB map would exceed 64 TiB") }
        mapSize *= 2
        mapGrowths += 1
        let grown = mdb_env_set_mapsize(env, mapSize)
        if grown != MDB_SUCCESS {
          throw DatasanError(path: path, "cannot grow the LMDB map to \(mapSize) bytes: \(MDBError(grown))")
        }
      case .failure(let e) where e.error.code == MDB_KEYEXIST:
        let key = keys.withUnsafeBytes { all in
          LMDBKey.display(UnsafeRawBufferPointer(rebasing: all[(e.record == 0 ? 0 : keyEnds[e.record - 1])..<keyEnds[e.record]]))
        }
        throw DatasanError(path: path, "duplicate LMDB key '\(key)'")
      case .failure(let e):
        throw DatasanError(path: path, "cannot write the LMDB environment: \(e.error)")
      }
    }
  }

  private struct PutFailure: Error {
    var error: MDBError
    var record: Int
  }

  private func writeTransaction(
    keys: UnsafeRawBufferPointer, keyEnds: [Int], values: UnsafeRawBufferPointer, valueEnds: [Int], flags: [UInt32]
  ) -> Result<Void, PutFailure> {
    var txn: OpaquePointer?
    var rc = mdb_txn_begin(env, nil, 0, &txn)
    guard rc == MDB_SUCCESS else { return .failure(PutFailure(error: MDBError(rc), record: 0)) }
    for i in 0..<keyEnds.count {
      let keyStart = i == 0 ? 0 : keyEnds[i - 1]
      let valueStart = i == 0 ? 0 : valueEnds[i - 1]
      var key = MDB_val(mv_size: keyEnds[i] - keyStart, mv_data: UnsafeMutableRawPointer(mutating: keys.baseAddress! + keyStart))
      var value = MDB_val(
        mv_size: valueEnds[i] - valueStart,
        mv_data: values.baseAddress.map { UnsafeMutableRawPointer(mutating: $0 + valueStart) })
      rc = mdb_put(txn, dbi, &key, &value, flags[i])
      if rc != MDB_SUCCESS {
        mdb_txn_abort(txn)
        return .failure(PutFailure(error: MDBError(rc), record: i))
      }
    }
    rc = mdb_txn_commit(txn)  // frees txn whatever happens
    return rc == MDB_SUCCESS ? .success(()) : .failure(PutFailure(error: MDBError(rc), record: 0))
  }

  /// LMDB's default key order: memcmp, then the shorter key first.
  static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let n = min(a.count, b.count)
    if n > 0 {
      let c = memcmp(a.baseAddress!, b.baseAddress!, n)
      if c != 0 { return Int(c) }
    }
    return a.count - b.count
  }
}
