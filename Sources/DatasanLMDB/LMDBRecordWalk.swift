import CDatasanLMDBGuard
import CLMDB
import DatasanCore

/// The cursor walk over an environment's records, in key order: each step under the fault guard,
/// each key and value checked to lie inside the data file, keys checked and counted as they are
/// consumed (``KeyWalk``), values copied out under the guard. Structural problems are thrown as
/// "corrupt LMDB environment: ... after key K (record N)".
final class LMDBRecordWalk {
  let environment: LMDBEnvironment
  /// The records consumed so far: their keys checked and counted.
  var keyWalk: KeyWalk
  private var nextOp = MDB_FIRST
  /// Records fetched but not consumed, handed out again by ``fetch()`` before the cursor moves on
  /// (their pointers into the map stay valid for the whole read transaction).
  private var carried: [(key: MDB_val, value: MDB_val)] = []
  private var carryStart = 0
  /// Records the cursor has yielded (each once, whether consumed yet or not).
  private var fetchedFromCursor = 0
  /// The cursor yields no record after this many (the end of a record range).
  private var stopAt = Int.max

  init(_ environment: LMDBEnvironment) {
    self.environment = environment
    keyWalk = KeyWalk(
      entries: environment.entries, checksOrder: environment.checksKeyOrder, allowsEqual: environment.allowsEqualKeys)
  }

  /// Back to the first record, nothing consumed.
  func rewind() {
    nextOp = MDB_FIRST
    fetchedFromCursor = 0
    carried.removeAll()
    carryStart = 0
    keyWalk = KeyWalk(
      entries: environment.entries, checksOrder: environment.checksKeyOrder, allowsEqual: environment.allowsEqualKeys)
  }

  /// Ends the walk after the first `count` records (the end of a record range).
  func stop(after count: Int) { stopAt = count }

  /// Positions the cursor on the next record (or, after a batch that ended before a record that
  /// did not fit, on the same one again); nil at the end. Structural problems throw.
  /// The returned values point into the map: valid until the next cursor call.
  func fetch() throws -> (key: MDB_val, value: MDB_val)? {
    if carryStart < carried.count {
      defer {
        carryStart += 1
        if carryStart == carried.count { carried.removeAll(keepingCapacity: true); carryStart = 0 }
      }
      return carried[carryStart]
    }
    if fetchedFromCursor >= stopAt { return nil }
    var key = MDB_val()
    var value = MDB_val()
    let rc = datasan_mdb_guarded_cursor_get(environment.cursor, &key, &value, nextOp)
    nextOp = MDB_NEXT
    if rc == MDB_NOTFOUND {
      if fetchedFromCursor != environment.entries {
        throw corrupt("the walk found \(fetchedFromCursor) records, but the environment declares \(environment.entries)")
      }
      return nil
    }
    if rc == DATASAN_MDB_FAULT { throw corrupt(lmdbFaultDescription()) }
    guard rc == MDB_SUCCESS else {
      if rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_CURSOR_FULL || rc == MDB_BAD_VALSIZE {
        throw corrupt("liblmdb: \(MDBError(rc))")
      }
      throw DatasanError(
        path: environment.location.path,
        "cannot read the LMDB environment after key '\(Self.abbreviated(keyWalk.lastGoodKeyText))': \(MDBError(rc))")
    }
    try checkInsideFile(key, what: "key")
    try checkInsideFile(value, what: "value")
    fetchedFromCursor += 1
    return (key, value)
  }

  /// Hands `records` (fetched, not consumed, in order) back to ``fetch()``.
  func carry<S: Sequence>(_ records: S) where S.Element == (key: MDB_val, value: MDB_val) {
    var rest = Array(records)
    rest.append(contentsOf: carried[carryStart...])
    carried = rest
    carryStart = 0
  }

  /// Checks the fetched record (count, key: not empty, ascending), copies its value to
  /// `destination` (at least `value.mv_size` bytes) and returns its key as users see it.
  func consume(key: MDB_val, value: MDB_val, into destination: UnsafeMutableRawPointer) throws -> String {
    let text: String
    do {
      text = try keyWalk.consume(key)
    } catch let failure as KeyWalk.Failure {
      throw corrupt(failure.reason(lmdbFaultDescription))
    }
    if datasan_mdb_guarded_copy(destination, value.mv_data, value.mv_size) != 0 { throw corrupt(lmdbFaultDescription()) }
    keyWalk.copied(text, valueSize: value.mv_size)
    return text
  }

  /// The key checks of ``consume(key:value:into:)`` and the count of the values for the records
  /// `run` of `keys` / `values` (already read by the raw decoder), appending their keys to
  /// `shown`: on a local copy of the walk, stored back once.
  func consumeRun(_ run: Range<Int>, keys: [MDB_val], values: [MDB_val], into shown: inout [String]) throws {
    var walk = keyWalk
    do {
      for r in run {
        let text = try walk.consume(keys[r])
        walk.copied(text, valueSize: values[r].mv_size)
        shown.append(text)
      }
      keyWalk = walk
    } catch let failure as KeyWalk.Failure {
      keyWalk = walk
      throw corrupt(failure.reason(lmdbFaultDescription))
    }
  }

  /// Steps over the next `count` records without reading their values (a reader that starts at a
  /// record): their keys are checked and counted as when consumed. False when the walk ended first.
  func skip(_ count: Int) throws -> Bool {
    var walk = keyWalk
    defer { keyWalk = walk }
    for _ in 0..<count {
      guard let (key, _) = try fetch() else { return false }
      do {
        let text = try walk.consume(key)
        walk.copied(text, valueSize: 0)
      } catch let failure as KeyWalk.Failure {
        keyWalk = walk
        throw corrupt(failure.reason(lmdbFaultDescription))
      }
    }
    return true
  }

  /// A value or key that does not lie inside the data file means a corrupt page (checked when the
  /// map's address is known; the guarded copy catches the rest).
  private func checkInsideFile(_ v: MDB_val, what: String) throws {
    guard v.mv_size > 0 else { return }
    guard let mapped = environment.mapped else {
      if v.mv_size > environment.dataFileSize {
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

  /// The corruption `why`, placed after the last record copied out.
  func corrupt(_ why: String) -> DatasanError {
    let copied = keyWalk.copied
    let position =
      copied == 0
      ? LMDBEnvironment.atFirstRecord : "after key '\(Self.abbreviated(keyWalk.lastGoodKeyText))' (record \(copied))"
    return environment.corrupt(why, position: position)
  }
}
