#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import DatasanCore

extension DataFormat {
  /// An LMDB environment of Caffe Datum records.
  public static let lmdb = DataFormat(rawValue: "lmdb")
}

/// Recognizes LMDB environments without liblmdb, for format auto-detection.
public enum LMDBFormat {
  /// Whether `path` is a directory holding `data.mdb`, or a file whose first page is an LMDB
  /// meta page (an environment opened with MDB_NOSUBDIR). Reads at most one page header; never throws.
  public static func looksLikeLMDB(path: String) -> Bool {
    var info = stat()
    guard stat(path, &info) == 0 else { return false }
    if (info.st_mode & S_IFMT) == S_IFDIR {
      var data = stat()
      return stat(path + "/data.mdb", &data) == 0 && (data.st_mode & S_IFMT) == S_IFREG
    }
    guard (info.st_mode & S_IFMT) == S_IFREG else { return false }
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { _ = close(fd) }
    var header = [UInt8](repeating: 0, count: LMDBMeta.byteCount)
    let n = header.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
    guard n == LMDBMeta.byteCount else { return false }
    return header.withUnsafeBytes { LMDBMeta.hasMagic($0) }
  }
}

/// The fields of an LMDB meta page that datasan checks before liblmdb maps the file.
///
/// Layout (mdb.c, 64-bit builds, native byte order): a 16-byte page header (`mp_pgno` u64,
/// `mp_pad` u16, `mp_flags` u16 = P_META 0x08, u32), then `MDB_meta`: `mm_magic` u32 = 0xBEEFC0DE,
/// `mm_version` u32 = 1, `mm_address` u64, `mm_mapsize` u64, `mm_dbs[2]` (`MDB_db`, 48 bytes each:
/// `md_pad` u32 -- the page size for FREE_DBI --, `md_flags` u16, `md_depth` u16, branch / leaf /
/// overflow page counts, `md_entries`, `md_root`, u64 each), `mm_last_pg` u64, `mm_txnid` u64.
/// Meta page 0 is at offset 0, meta page 1 at offset page size; the one with the higher txnid is current.
struct LMDBMeta: Equatable {
  static let magic: UInt32 = 0xBEEF_C0DE
  static let dataVersion: UInt32 = 1
  static let pageHeaderSize = 16
  static let byteCount = 16 + 136
  static let invalidPage = UInt64.max

  var pageSize: Int
  var mapSize: UInt64
  var lastPage: UInt64
  var txnid: UInt64
  /// Main database: number of records, flags, depth and root page.
  var entries: UInt64
  var mainFlags: UInt16
  var mainDepth: UInt16
  var mainRoot: UInt64

  static func hasMagic(_ page: UnsafeRawBufferPointer) -> Bool {
    guard page.count >= byteCount else { return false }
    let flags = page.loadUnaligned(fromByteOffset: 10, as: UInt16.self)
    return page.loadUnaligned(fromByteOffset: 16, as: UInt32.self) == magic && flags & 0x08 != 0
  }

  /// Parses one meta page (`number` 0 or 1), or says why it is not one. Page 0 decides whether the
  /// file is an LMDB at all; a bad page 1 in a file whose page 0 is fine means a damaged environment.
  static func parse(_ page: UnsafeRawBufferPointer, number: Int = 0) -> Result<LMDBMeta, MetaProblem> {
    func u16(_ o: Int) -> UInt16 { page.loadUnaligned(fromByteOffset: o, as: UInt16.self) }
    func u32(_ o: Int) -> UInt32 { page.loadUnaligned(fromByteOffset: o, as: UInt32.self) }
    func u64(_ o: Int) -> UInt64 { page.loadUnaligned(fromByteOffset: o, as: UInt64.self) }
    func damaged(_ what: String) -> Result<LMDBMeta, MetaProblem> {
      .failure(MetaProblem(number == 0 ? "not an LMDB environment (\(what))" : "corrupt LMDB environment (meta page 1: \(what))"))
    }
    guard page.count >= byteCount else { return damaged("file too small for a meta page") }
    let found = u32(16)
    if found != magic {
      if number == 0 && found == magic.byteSwapped {
        return .failure(MetaProblem("LMDB environment of the other byte order (not supported)"))
      }
      if number == 0 && page.loadUnaligned(fromByteOffset: 12, as: UInt32.self) == magic {
        return .failure(MetaProblem("LMDB environment written by a 32-bit build (not supported)"))
      }
      return damaged("no LMDB magic number in the meta page")
    }
    guard u16(10) & 0x08 != 0 else { return damaged("page \(number) is not a meta page") }
    let version = u32(20)
    guard version == dataVersion else {
      return number == 0
        ? .failure(MetaProblem("unsupported LMDB data format version \(version)")) : damaged("version \(version)")
    }
    let pageSize = Int(u32(40))
    guard pageSize >= 256, pageSize <= 65536, pageSize & (pageSize - 1) == 0 else {
      return .failure(MetaProblem("corrupt LMDB environment (meta page \(number): page size \(pageSize))"))
    }
    return .success(
      LMDBMeta(
        pageSize: pageSize, mapSize: u64(32), lastPage: u64(136), txnid: u64(144), entries: u64(120),
        mainFlags: u16(92), mainDepth: u16(94), mainRoot: u64(128)))
  }
}

/// Where an LMDB input's data file is and how to open it.
struct LMDBLocation {
  /// The path given by the user.
  var path: String
  /// The data file (`path/data.mdb`, or `path` itself).
  var dataFile: String
  /// The lock file a writer that has the environment open holds (`path/lock.mdb`, or `path-lock`
  /// for the single-file form).
  var lockFile: String
  /// Whether `path` is the data file (MDB_NOSUBDIR).
  var isFile: Bool
  /// The data file's size in bytes.
  var fileSize: Int
  /// The current meta page.
  var meta: LMDBMeta

  /// Finds the data file and checks it against its own meta pages before liblmdb maps it:
  /// both meta pages must be LMDB meta pages with the same page size, and the file must hold every
  /// page up to the last one they name (liblmdb would fault with SIGBUS on a truncated file).
  static func validate(path: String) throws -> LMDBLocation {
    var info = stat()
    guard stat(path, &info) == 0 else {
      throw DatasanError(path: path, errno == ENOENT ? "no such file or directory" : "cannot open: \(errnoText())")
    }
    let isFile = (info.st_mode & S_IFMT) != S_IFDIR
    // The environment's files: liblmdb's names, beside the data file or inside the folder.
    let folder = path.hasSuffix("/") ? path : path + "/"
    let (dataFile, lockFile) = isFile ? (path, path + "-lock") : (folder + "data.mdb", folder + "lock.mdb")
    if !isFile {
      guard stat(dataFile, &info) == 0 else {
        throw DatasanError(path: path, "not an LMDB environment (the directory holds no data.mdb)")
      }
    }
    guard (info.st_mode & S_IFMT) == S_IFREG else {
      throw DatasanError(path: dataFile, "not an LMDB data file (not a regular file)")
    }
    let fd = open(dataFile, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw DatasanError(path: dataFile, "cannot open: \(errnoText())") }
    defer { _ = close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw DatasanError(path: dataFile, "cannot read: \(errnoText())") }
    let fileSize = Int(st.st_size)

    func readMeta(at offset: Int) throws -> LMDBMeta {
      var page = [UInt8](repeating: 0, count: LMDBMeta.byteCount)
      let n = page.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
      if n < 0 { throw DatasanError(path: dataFile, "cannot read: \(errnoText())") }
      if n < LMDBMeta.byteCount {
        if offset == 0 {
          throw DatasanError(path: dataFile, fileSize == 0 ? "empty file, not an LMDB environment" : "not an LMDB environment (file too small)")
        }
        throw DatasanError(path: dataFile, "truncated LMDB data file (\(fileSize) bytes: the second meta page is missing)")
      }
      switch page.withUnsafeBytes({ LMDBMeta.parse($0, number: offset == 0 ? 0 : 1) }) {
      case .success(let meta): return meta
      case .failure(let problem):
        throw DatasanError(path: dataFile, problem.reason)
      }
    }
    let meta0 = try readMeta(at: 0)
    let meta1 = try readMeta(at: meta0.pageSize)
    guard meta1.pageSize == meta0.pageSize else {
      throw DatasanError(
        path: dataFile, "corrupt LMDB environment (the meta pages disagree on the page size: \(meta0.pageSize), \(meta1.pageSize))")
    }
    let meta = meta1.txnid > meta0.txnid ? meta1 : meta0
    let pageSize = UInt64(meta.pageSize)
    for m in [meta0, meta1] {
      guard m.lastPage >= 1, m.lastPage < UInt64(Int.max) / pageSize else {
        throw DatasanError(path: dataFile, "corrupt LMDB environment (meta page: last page \(m.lastPage))")
      }
      let needed = (m.lastPage + 1) * pageSize
      if UInt64(fileSize) < needed {
        throw DatasanError(
          path: dataFile,
          "truncated LMDB data file: \(fileSize) bytes, but its meta page names \(m.lastPage + 1) pages of \(pageSize) bytes "
            + "(\(needed) bytes)")
      }
    }
    if meta.mainRoot != LMDBMeta.invalidPage && (meta.mainRoot < 2 || meta.mainRoot > meta.lastPage) {
      throw DatasanError(
        path: dataFile, "corrupt LMDB environment (meta page: root page \(meta.mainRoot) outside pages 2...\(meta.lastPage))")
    }
    return LMDBLocation(path: path, dataFile: dataFile, lockFile: lockFile, isFile: isFile, fileSize: fileSize, meta: meta)
  }

  /// Whether the environment's lock file exists: a writer that has the environment open has one.
  var hasLockFile: Bool {
    var st = stat()
    return lstat(lockFile, &st) == 0
  }
}

/// Why a page is not an LMDB meta page.
struct MetaProblem: Error {
  var reason: String
  init(_ reason: String) { self.reason = reason }
}

func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }
