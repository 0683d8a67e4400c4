import CLMDB
import DatasanCore
import Foundation
import Testing

@testable import DatasanLMDB
import DatasanTestSupport

/// The path of a committed fixture in Fixtures/lmdb.
func fixture(_ name: String) -> String {
  URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures/lmdb/\(name)").path
}

/// A fresh temporary directory; `body` runs with its path, then it is removed.
func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
  let url = URL(fileURLWithPath: try TestTemporaryDirectory.make("datasan-lmdb"))
  defer {
    // Read-only copies must become writable again to be removed.
    _ = try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
    if let items = FileManager.default.enumerator(atPath: url.path) {
      for case let item as String in items {
        _ = try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path + "/" + item)
      }
    }
    try? FileManager.default.removeItem(at: url)
  }
  return try body(url.path)
}

/// Copies a fixture (an environment directory or a single file) to `directory`; returns the copy's path.
/// Fixtures are opened from copies so that no lock file appears in the source tree.
func copyFixture(_ name: String, to directory: String, as newName: String? = nil) throws -> String {
  let target = directory + "/" + (newName ?? name)
  try FileManager.default.copyItem(atPath: fixture(name), toPath: target)
  // Only the data: a lock file that a run on the fixture itself left behind (git ignores it) would
  // change what a test of lock handling sees.
  try? FileManager.default.removeItem(atPath: target + "/lock.mdb")
  try? FileManager.default.removeItem(atPath: target + "-lock")
  return target
}

/// Everything a reader yields, gathered per sample.
struct Sample {
  var index: Int
  var key: String
  var shape: [Int]
  var type: ElementType
  var values: [Double]
  var label: Double
  var problem: ReaderProblem?
  var original: [UInt8]
}

struct ReadResult {
  var info: DatasetInfo
  var samples: [Sample] = []
  var batchSizes: [Int] = []
  var bytesRead = 0
  var openedWithoutLock = false
  /// Batches with one shape for all samples (the scan's raw fast path).
  var uniformBatches = 0
  /// Batches whose per-channel moments the reader measured (each checked against the values
  /// when the batch has them), and batches without values (`valuesNeeded` false).
  var measuredBatches = 0
  var omittedBatches = 0
  /// The measured moments of each sample's blocks (empty where none were measured).
  var measured: [[RunningStats]] = []

  subscript(key: String) -> Sample { samples.first { $0.key == key }! }
  var keys: [String] { samples.map(\.key) }
}

func options(_ configure: (inout ReadOptions) -> Void = { _ in }) -> ReadOptions {
  var o = ReadOptions()
  configure(&o)
  return o
}

/// Reads every batch and checks the invariants every batch must keep.
func readAll(_ path: String, _ configure: (inout ReadOptions) -> Void = { _ in }) throws -> ReadResult {
  let reader = try LMDBReader(path: path, options: options(configure))
  var result = ReadResult(info: reader.info, openedWithoutLock: reader.openedWithoutLock)
  while let batch = try reader.nextBatch() {
    #expect(batch.firstIndex == result.samples.count)
    // A uint8 dataset's batch holding a float_data record of other than uint8 values is float32.
    #expect(
      batch.elementType == reader.info.elementType || (reader.info.elementType == .uint8 && batch.elementType == .float32))
    #expect(batch.count > 0)
    let offsets = try #require(batch.offsets)
    let shapes = try #require(batch.shapes)
    let originals = try #require(batch.originals)
    let labels = try #require(batch.labels)
    #expect(offsets.count == batch.count + 1 && shapes.count == batch.count && originals.ends.count == batch.count)
    guard case .strings(let keys) = batch.keys else {
      Issue.record("LMDB keys must be strings")
      return result
    }
    result.batchSizes.append(batch.count)
    for i in 0..<batch.count {
      let range = batch.elementRange(of: i)
      // Ragged batches: every sample's range holds exactly its shape's elements.
      #expect(range.count == shapes[i].reduce(1, *), "sample \(keys[i]): \(range.count) values for \(shapes[i])")
      var values: [Double] = []
      batch.elementType.withType { t in values = gather(t, batch, range) }
      result.samples.append(
        Sample(
          index: batch.firstIndex + i, key: keys[i], shape: shapes[i], type: batch.elementType, values: values,
          label: labels[i], problem: batch.problems[i], original: Array(originals.record(i))))
    }
  }
  result.bytesRead = reader.bytesRead
  #expect(try reader.nextBatch() == nil)
  return result
}

/// Reads every batch as a scan does (no originals kept: raw records take the single-copy fast
/// path into uniform batches). Originals are left empty; an unreadable sample's shape and values
/// are left empty whatever the batch layout.
func readAllScan(_ path: String, _ configure: (inout ReadOptions) -> Void = { _ in }) throws -> ReadResult {
  let reader = try LMDBReader(path: path, options: options { o in
    configure(&o)
    o.keepOriginals = false
  })
  var result = ReadResult(info: reader.info, openedWithoutLock: reader.openedWithoutLock)
  while let batch = try reader.nextBatch() {
    #expect(batch.firstIndex == result.samples.count)
    #expect(batch.count > 0)
    #expect(batch.originals == nil)
    let labels = try #require(batch.labels)
    guard case .strings(let keys) = batch.keys else {
      Issue.record("LMDB keys must be strings")
      return result
    }
    result.batchSizes.append(batch.count)
    if batch.shapes == nil { result.uniformBatches += 1 }
    if let measured = batch.measuredBlocks {
      result.measuredBatches += 1
      if batch.hasValues { expectMeasured(measured, batch) }
    }
    if case .momentsOnly = batch.values {
      result.omittedBatches += 1
      #expect(batch.storage.bytes.isEmpty && batch.measuredBlocks != nil)
    }
    for i in 0..<batch.count {
      let range = batch.elementRange(of: i)
      let readable = batch.problems[i]?.kind != .unreadable
      #expect(range.count == batch.shape(of: i).reduce(1, *))
      var values: [Double] = []
      if readable && batch.hasValues { batch.elementType.withType { t in values = gather(t, batch, range) } }
      let blocks = batch.measuredBlocks.map { m in
        batch.problems[i] == nil ? (0..<m.blocksPerSample).map { m.stats(sample: i, block: $0) } : []
      }
      result.measured.append(blocks ?? [])
      result.samples.append(
        Sample(
          index: batch.firstIndex + i, key: keys[i], shape: readable ? batch.shape(of: i) : [0],
          type: batch.elementType, values: values, label: labels[i], problem: batch.problems[i], original: []))
    }
  }
  result.bytesRead = reader.bytesRead
  #expect(try reader.nextBatch() == nil)
  return result
}

/// The moments the reader measured are those of the values it delivered (readable samples).
private func expectMeasured(_ measured: MeasuredBlocks, _ batch: SampleBatch) {
  let values = batch.storage.typed(UInt8.self, count: batch.elementCount)
  #expect(batch.elementType == .uint8 && measured.samples >= batch.count)
  #expect(measured.blocksPerSample * measured.blockLength == batch.shape.reduce(1, *))
  for i in 0..<batch.count where batch.problems[i] == nil {
    for b in 0..<measured.blocksPerSample {
      var direct = RunningStats()
      let start = batch.elementRange(of: i).lowerBound + b * measured.blockLength
      for v in values[start..<(start + measured.blockLength)] { direct.add(Double(v)) }
      let got = measured.stats(sample: i, block: b)
      let close = { (x: Double, y: Double) in abs(x - y) <= 1e-9 * max(1, abs(y)) }
      #expect(
        got.count == direct.count && got.min == direct.min && got.max == direct.max && close(got.mean, direct.mean)
          && close(got.m2, direct.m2), "sample \(batch.firstIndex + i) block \(b)")
    }
  }
}

private func gather<T: FeatureElement>(_: T.Type, _ batch: SampleBatch, _ range: Range<Int>) -> [Double] {
  let values = batch.storage.typed(T.self, count: batch.elementCount)
  return range.map { values[$0].doubleValue }
}

/// The value a raw fixture record holds at [c, h, w] (see make_lmdb_fixtures.py).
func rawValue(record n: Int, c: Int, h: Int, w: Int) -> Double { Double((48 * n + 16 * c + 4 * h + w) % 256) }

// MARK: Independent LMDB access (plain liblmdb calls, no datasan code)

/// Every (key, value) of an environment, read with a plain liblmdb cursor.
func rawRecords(_ path: String, noSubdir: Bool = false) throws -> [(key: [UInt8], value: [UInt8])] {
  var env: OpaquePointer?
  try #require(mdb_env_create(&env) == 0)
  defer { mdb_env_close(env) }
  let flags = UInt32(MDB_RDONLY | MDB_NOLOCK) | (noSubdir ? UInt32(MDB_NOSUBDIR) : 0)
  try #require(mdb_env_open(env, path, flags, 0o644) == 0)
  var txn: OpaquePointer?
  try #require(mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn) == 0)
  defer { mdb_txn_abort(txn) }
  var dbi: MDB_dbi = 0
  try #require(mdb_dbi_open(txn, nil, 0, &dbi) == 0)
  var cursor: OpaquePointer?
  try #require(mdb_cursor_open(txn, dbi, &cursor) == 0)
  defer { mdb_cursor_close(cursor) }
  var records: [(key: [UInt8], value: [UInt8])] = []
  var key = MDB_val()
  var value = MDB_val()
  var op = MDB_FIRST
  while mdb_cursor_get(cursor, &key, &value, op) == 0 {
    op = MDB_NEXT
    records.append(
      (Array(UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size)),
       Array(UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size))))
  }
  return records
}

/// A tiny protobuf decoder written for the tests (independent of DatasanLMDB's Datum): the fields
/// of a Datum message, with float_data gathered from packed and unpacked fields.
struct TestDatum: Equatable {
  var channels: Int64?
  var height: Int64?
  var width: Int64?
  var data: [UInt8]?
  var label: Int64?
  var floats: [Float] = []
  var encoded: Bool?

  init(_ bytes: [UInt8]) throws {
    var i = 0
    func varint() throws -> UInt64 {
      var result: UInt64 = 0
      var shift: UInt64 = 0
      while true {
        guard i < bytes.count, shift < 64 else { throw TestDecodeError() }
        let b = bytes[i]
        i += 1
        result |= UInt64(b & 0x7f) << shift
        if b & 0x80 == 0 { return result }
        shift += 7
      }
    }
    func fixed32() throws -> Float {
      guard i + 4 <= bytes.count else { throw TestDecodeError() }
      let bits = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
      i += 4
      return Float(bitPattern: bits)
    }
    while i < bytes.count {
      let tag = try varint()
      switch (tag >> 3, tag & 7) {
      case (1, 0): channels = Int64(bitPattern: try varint())
      case (2, 0): height = Int64(bitPattern: try varint())
      case (3, 0): width = Int64(bitPattern: try varint())
      case (5, 0): label = Int64(bitPattern: try varint())
      case (7, 0): encoded = try varint() != 0
      case (4, 2):
        let n = Int(try varint())
        guard i + n <= bytes.count else { throw TestDecodeError() }
        data = Array(bytes[i..<(i + n)])
        i += n
      case (6, 5): floats.append(try fixed32())
      case (6, 2):
        let end = i + Int(try varint())
        while i < end { floats.append(try fixed32()) }
      default: throw TestDecodeError()
      }
    }
  }
}

struct TestDecodeError: Error {}

/// Reads one line from a pipe (blocking).
func readLine(_ pipe: Pipe) -> String {
  var line = [UInt8]()
  while true {
    let byte = pipe.fileHandleForReading.readData(ofLength: 1)
    if byte.isEmpty || byte[0] == UInt8(ascii: "\n") { break }
    line.append(byte[0])
  }
  return String(decoding: line, as: UTF8.self)
}

/// Whether this process can ignore file permissions (root): chmod then does not stop writes.
var ignoresPermissions: Bool { geteuid() == 0 }

/// How the datasan-lmdb-guard-check helper (built beside this test bundle) ended in `mode`.
struct GuardCheck: CustomStringConvertible {
  var status: Int32
  var signal: Int32?
  var stderr: String
  var description: String { "status \(status), signal \(signal.map(String.init) ?? "none"), stderr: \(stderr)" }
}

func runGuardCheck(_ mode: String) throws -> GuardCheck {
  let name = "datasan-lmdb-guard-check"
  var candidates: [URL] = []
  if let exe = Bundle.main.executableURL { candidates.append(exe.deletingLastPathComponent()) }
  candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
  let binary = try #require(
    candidates.map { $0.appendingPathComponent(name).path }.first { FileManager.default.isExecutableFile(atPath: $0) },
    "\(name) is not built beside the tests (swift build --build-tests builds it)")
  let process = Process()
  process.executableURL = URL(fileURLWithPath: binary)
  process.arguments = [mode]
  let err = Pipe()
  process.standardError = err
  try ProcessLaunch.run(process)
  let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  process.waitUntilExit()
  let signaled = process.terminationReason == .uncaughtSignal
  return GuardCheck(
    status: signaled ? 0 : process.terminationStatus, signal: signaled ? process.terminationStatus : nil, stderr: stderr)
}
