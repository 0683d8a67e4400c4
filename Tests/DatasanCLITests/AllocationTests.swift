import CLMDB
import DatasanTestSupport
import Foundation
import Testing

/// What a scan allocates per sample, counted: the release build of datasan (what users run, and
/// what `make test` builds first) runs under the allocation counter (Tests/AllocationCounter,
/// preloaded) on N and on 4N samples of each format; the difference over 3N is what one more sample
/// costs. The hot paths (reading into batches, checking, statistics) allocate per batch, never per
/// sample. (A debug build allocates where the optimizer would not: it is not what is measured.)
@Suite(.disabled(if: Sanitizer.active != nil, "skipped under \(Sanitizer.active ?? ""): its allocator replaces malloc, and the counter built with it cannot be preloaded into the unsanitized release binary; make test counts the allocations"))
struct AllocationTests {
  /// The preloadable counter, built into the debug build folder by `swift build --build-tests`
  /// (whichever datasan binary the other CLI tests run).
  static let counter: String = CLI.root.appendingPathComponent(".build/debug/libDatasanAllocationCounter.so").path
  /// The release binary (`make release`, which `make test` runs first).
  static let release: String = CLI.root.appendingPathComponent(".build/release/datasan").path

  /// Allocations of one `datasan scan` of `input`.
  static func allocations(scanning input: String, in dir: String) throws -> Int {
    let countFile = dir + "/allocations.txt"
    try #require(FileManager.default.isExecutableFile(atPath: release), "no release build: run make release (make test does)")
    let r = try CLI.run(
      ["scan", input, "--report", dir + "/report.json", "--quiet"],
      environment: ["LD_PRELOAD": counter, "DATASAN_ALLOCATION_COUNT_FILE": countFile], binary: release)
    #expect(r.status == 0 || r.status == 1, "\(r.stderr)")
    let text = try String(contentsOfFile: countFile, encoding: .utf8)
    return try #require(Int(text.trimmingCharacters(in: .whitespacesAndNewlines)))
  }

  /// Allocations per added sample, from datasets of `n` and `4 * n` samples made by `make`.
  static func perSample(_ n: Int, _ make: (_ count: Int, _ dir: String) throws -> String) throws -> Double {
    let dir = try makeTempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let small = try allocations(scanning: try make(n, dir + "/small"), in: dir)
    let large = try allocations(scanning: try make(4 * n, dir + "/large"), in: dir)
    #expect(small > 100, "the counter counted nothing: is it preloaded?")
    let slope = Double(large - small) / Double(3 * n)
    print("allocations: \(small) for \(n) samples, \(large) for \(4 * n): \(slope) per sample")
    return slope
  }

  // MARK: Datasets

  static func csv(_ count: Int, _ dir: String) throws -> String {
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let path = dir + "/data.csv"
    try writeCSV(path, header: "f0,f1,f2,f3,f4,f5,f6,f7,label\n", rows: count) { row in
      let v = Double(row % 997) * 0.25
      return "\(v),\(v + 1),\(v * 2),\(-v),\(v * 0.5),\(row % 7),\(v + 0.125),\(v * 3),\(row % 10)\n"
    }
    return path
  }

  /// The CSV above as HDF5, written by datasan (`--normalize none` keeps the values).
  static func hdf5(_ count: Int, _ dir: String) throws -> String {
    let source = try csv(count, dir)
    let path = dir + "/data.h5"
    let r = try CLI.run(["clean", source, "-o", path, "--normalize", "none", "--quiet"])
    #expect(r.status == 0, "\(r.stderr)")
    return path
  }

  /// Datum records of 3 x 8 x 8, raw uint8 or (`png` given) encoded, written with liblmdb.
  static func lmdb(_ count: Int, _ dir: String, png: [UInt8]? = nil) throws -> String {
    try FileManager.default.createDirectory(atPath: dir + "/data.lmdb", withIntermediateDirectories: true)
    var env: OpaquePointer?
    try #require(mdb_env_create(&env) == 0)
    defer { mdb_env_close(env) }
    _ = mdb_env_set_mapsize(env, 256 << 20)
    try #require(mdb_env_open(env, dir + "/data.lmdb", 0, 0o644) == 0)
    var txn: OpaquePointer?
    try #require(mdb_txn_begin(env, nil, 0, &txn) == 0)
    var dbi: MDB_dbi = 0
    try #require(mdb_dbi_open(txn, nil, 0, &dbi) == 0)
    for n in 0..<count {
      var datum: [UInt8] = []
      if let png {
        datum += [0x22] + varint(png.count) + png + [0x28] + varint(n % 10) + [0x38, 1]
      } else {
        let data = (0..<192).map { UInt8(truncatingIfNeeded: n &* 7 &+ $0) }
        datum += [0x08, 3, 0x10, 8, 0x18, 8, 0x22] + varint(data.count) + data + [0x28] + varint(n % 10)
      }
      var keyBytes = Array(String(format: "%08d", n).utf8)
      let rc = keyBytes.withUnsafeMutableBytes { k in
        datum.withUnsafeMutableBytes { v in
          var key = MDB_val(mv_size: k.count, mv_data: k.baseAddress)
          var value = MDB_val(mv_size: v.count, mv_data: v.baseAddress)
          return mdb_put(txn, dbi, &key, &value, 0)
        }
      }
      try #require(rc == 0)
    }
    try #require(mdb_txn_commit(txn) == 0)
    return dir + "/data.lmdb"
  }

  static func varint(_ value: Int) -> [UInt8] {
    var v = UInt64(value)
    var out: [UInt8] = []
    while v >= 0x80 {
      out.append(UInt8(v & 0x7F) | 0x80)
      v >>= 7
    }
    out.append(UInt8(v))
    return out
  }

  static let png = (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: CLI.fixture("png/kinds/rgb.png"))))) ?? []

  /// An image folder of two classes, the same small RGB file in each place.
  static func pngFolder(_ count: Int, _ dir: String) throws -> String {
    for n in 0..<count {
      let folder = dir + "/images/class\(n % 2)"
      if n < 2 { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
      try Data(png).write(to: URL(fileURLWithPath: folder + "/img_\(String(format: "%06d", n)).png"))
    }
    return dir + "/images"
  }

  // MARK: Tests

  @Test func theCounterIsPreloadedAndCounts() throws {
    #expect(FileManager.default.fileExists(atPath: Self.counter), "build it with swift build --build-tests")
    let dir = try makeTempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let input = try Self.csv(100, dir)
    #expect(try Self.allocations(scanning: input, in: dir) > 100)
  }

  @Test func csvScanAllocatesNothingPerSample() throws {
    let slope = try Self.perSample(20_000, Self.csv)
    #expect(slope < 0.01, "\(slope) allocations per CSV row")
  }

  @Test func hdf5ScanAllocatesNothingPerSample() throws {
    let slope = try Self.perSample(20_000, Self.hdf5)
    #expect(slope < 0.01, "\(slope) allocations per HDF5 sample")
  }

  @Test func rawLMDBScanAllocatesNothingPerSample() throws {
    let slope = try Self.perSample(5_000) { try Self.lmdb($0, $1) }
    #expect(slope < 0.05, "\(slope) allocations per raw Datum")
  }

  @Test func encodedLMDBScanAllocatesNothingPerSample() throws {
    let slope = try Self.perSample(1_000) { try Self.lmdb($0, $1, png: Self.png) }
    #expect(slope < 0.05, "\(slope) allocations per encoded Datum")
  }

  /// A PNG folder costs four allocations a file, for what the file system makes it cost: its name
  /// as the directory listing gives it, its relative path, its key, and the buffer its bytes are
  /// read into. Opening, decoding and checking it add nothing.
  @Test func pngFolderScanAllocatesOnlyPerFileBookkeeping() throws {
    let slope = try Self.perSample(500, Self.pngFolder)
    #expect(slope < 4.2, "\(slope) allocations per PNG file")
  }
}
