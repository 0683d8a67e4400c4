import CDatasanLMDBGuard
import CLMDB

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
        throw Failure.corrupt("key '\(LMDBRecordWalk.abbreviated(text))' does not sort after the previous key")
      }
    }
    swap(&last, &scratch)
    lastLength = n
    bytesRead += n
    return text
  }

  /// Consumes records `run` of `keys` whose values (of `valueSizes`) the raw decoder read in the
  /// map, as ``LMDBRecordWalk/consumeRun(_:keys:values:into:)`` does one by one: their keys as
  /// users see them.
  mutating func consumeRun(_ run: Range<Int>, keys: UnsafePointer<MDB_val>, values: UnsafePointer<MDB_val>) throws -> [String] {
    var shown: [String] = []
    shown.reserveCapacity(run.count)
    for r in run {
      let text = try consume(keys[r])
      copied(text, valueSize: values[r].mv_size)
      shown.append(text)
    }
    return shown
  }

  /// Counts a record whose value is completely out of the map.
  mutating func copied(_ key: String, valueSize: Int) {
    bytesRead += valueSize
    copied += 1
    lastGoodKeyText = key
  }
}
