#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import CDatasanLMDBGuard
import CLMDB
import DatasanCore

/// An LMDB environment opened for reading an untrusted data file: the environment, its one read
/// transaction and cursor, and what the walk checks records against (``LMDBReader`` says how).
///
/// Opening is read-only and defensive: the meta pages are checked before liblmdb sees the file
/// (``LMDBLocation``); the environment is opened `MDB_RDONLY | MDB_NOTLS`, reopened with
/// `MDB_NOLOCK` when there is no lock file (none is created: the input is never written) or it
/// cannot be used; the transaction begins under the fault guard;
/// the file must hold every page the meta pages name; the B-tree is checked before a cursor walks it.
final class LMDBEnvironment {
  let location: LMDBLocation
  /// Whether the environment had to be opened without its lock file (MDB_NOLOCK).
  let openedWithoutLock: Bool
  /// Records the main database declares.
  let entries: Int
  /// Whether keys must ascend in byte order (not for MDB_REVERSEKEY / MDB_INTEGERKEY databases).
  let checksKeyOrder: Bool
  /// Whether equal keys may follow each other (MDB_DUPSORT).
  let allowsEqualKeys: Bool
  /// Where the data file is mapped (its file-backed part), when the guard found the map.
  let mapped: Range<UInt>?
  /// The data file's size when the transaction began.
  let dataFileSize: Int
  /// liblmdb's descriptor of the data file (-1 when it gave none), which the raw decoder reads values
  /// through (``mapped`` starts at its offset 0). Valid until ``close()``.
  let dataDescriptor: Int32
  private(set) var env: OpaquePointer?
  private(set) var txn: OpaquePointer?
  private(set) var cursor: OpaquePointer?

  /// Opens the environment at `path` (a directory holding data.mdb, or the data file itself) and
  /// begins the read transaction.
  ///
  /// - Throws: ``DatasanError`` naming the path: not an LMDB, truncated, unreadable, corrupt.
  init(path: String) throws {
    location = try LMDBLocation.validate(path: path)
    var flags = UInt32(MDB_RDONLY | MDB_NOTLS) | (location.isFile ? UInt32(MDB_NOSUBDIR) : 0)
    // A reader registers in the lock file so that a writer keeps the pages it reads. Where there
    // is none, no writer has the environment open, and creating one would write into the input:
    // read without it.
    var noLock = !location.hasLockFile
    if noLock { flags |= UInt32(MDB_NOLOCK) }
    var env: OpaquePointer?
    do {
      env = try LMDBEnvironment.open(location, flags: flags)
    } catch let first where first.isSystemError && !noLock {
      // The lock file could not be created or opened (read-only folder, foreign lock file): read
      // without it. Readers then do not register, so a concurrent writer may recycle pages.
      flags |= UInt32(MDB_NOLOCK)
      noLock = true
      do {
        env = try LMDBEnvironment.open(location, flags: flags)
      } catch {
        throw DatasanError(path: path, "cannot open the LMDB environment: \(first)")
      }
    } catch {
      throw LMDBEnvironment.openError(error, path: path)
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
    dataDescriptor = mapped == nil ? -1 : fd
    if rc == DATASAN_MDB_FAULT {
      close()
      throw corrupt(lmdbFaultDescription(), position: LMDBEnvironment.atFirstRecord)
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
      if tree == DATASAN_MDB_FAULT { throw corrupt(lmdbFaultDescription(), position: LMDBEnvironment.atFirstRecord) }
      let problem = tree == DATASAN_MDB_CORRUPT ? String(cString: why) : "\(MDBError(tree))"
      throw DatasanError(path: path, "corrupt LMDB environment: \(problem)")
    }
  }

  deinit { close() }

  /// Ends the transaction and closes the environment (also done when it goes away).
  func close() {
    if let cursor { mdb_cursor_close(cursor) }
    cursor = nil
    if let txn { mdb_txn_abort(txn) }
    txn = nil
    if let env { datasan_mdb_reader_close(env) }
    env = nil
  }

  /// Where a corruption found before any record was read is.
  static let atFirstRecord = "at the first record"

  /// "corrupt LMDB environment: WHY, POSITION" (and why a concurrent writer may be the cause).
  func corrupt(_ why: String, position: String) -> DatasanError {
    let lock = openedWithoutLock ? "; opened without its lock file, so a concurrent writer may also cause this" : ""
    return DatasanError(path: location.path, "corrupt LMDB environment: \(why), \(position)\(lock)")
  }

  private static func open(_ location: LMDBLocation, flags: UInt32) throws(MDBError) -> OpaquePointer? {
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
        return DatasanError(path: path, "corrupt LMDB environment: \(lmdbFaultDescription()), while opening it")
      default: return DatasanError(path: path, "cannot open the LMDB environment: \(e)")
      }
    }
    return DatasanError(path: path, "cannot open the LMDB environment: \(error)")
  }
}

/// What interrupted this thread's last guarded liblmdb call.
func lmdbFaultDescription() -> String {
  switch datasan_mdb_last_fault_signal() {
  case SIGSEGV: return "liblmdb read outside the memory map (SIGSEGV caught)"
  case SIGBUS: return "liblmdb read past the end of the data file (SIGBUS caught)"
  default: return "liblmdb assertion failed (\(String(cString: datasan_mdb_last_fault_message())))"
  }
}
