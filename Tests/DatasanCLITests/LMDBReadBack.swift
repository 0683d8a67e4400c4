import CLMDB
import Foundation

/// Reads an LMDB output back with plain liblmdb cursor calls, independently of datasan's reader,
/// and decodes Datum records with a minimal protobuf decoder of its own.
enum LMDBReadBack {
  static func records(_ path: String) -> [(key: String, value: [UInt8])]? {
    var env: OpaquePointer?
    guard mdb_env_create(&env) == 0, let env else { return nil }
    defer { mdb_env_close(env) }
    guard mdb_env_open(env, path, UInt32(MDB_RDONLY | MDB_NOLOCK), 0o644) == 0 else { return nil }
    var txn: OpaquePointer?
    guard mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn) == 0 else { return nil }
    defer { mdb_txn_abort(txn) }
    var dbi: MDB_dbi = 0
    guard mdb_dbi_open(txn, nil, 0, &dbi) == 0 else { return nil }
    var cursor: OpaquePointer?
    guard mdb_cursor_open(txn, dbi, &cursor) == 0 else { return nil }
    defer { mdb_cursor_close(cursor) }
    var out: [(String, [UInt8])] = []
    var key = MDB_val()
    var value = MDB_val()
    var op = MDB_FIRST
    while mdb_cursor_get(cursor, &key, &value, op) == 0 {
      let k = String(decoding: UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size), as: UTF8.self)
      out.append((k, Array(UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size))))
      op = MDB_NEXT
    }
    return out
  }

  /// The fields of a Datum this test needs.
  struct Datum {
    var channels = 0, height = 0, width = 0, label = 0
    var data: [UInt8] = []
    var floats: [Float] = []
    var encoded = false
  }

  static func decode(_ bytes: [UInt8]) -> Datum? {
    var d = Datum()
    var i = 0
    func varint() -> UInt64? {
      var result: UInt64 = 0
      var shift: UInt64 = 0
      while i < bytes.count {
        let b = bytes[i]
        i += 1
        result |= UInt64(b & 0x7F) << shift
        if b & 0x80 == 0 { return result }
        shift += 7
        if shift > 63 { return nil }
      }
      return nil
    }
    while i < bytes.count {
      guard let tag = varint() else { return nil }
      let field = Int(tag >> 3)
      switch tag & 7 {
      case 0:
        guard let v = varint() else { return nil }
        let signed = Int(Int32(truncatingIfNeeded: Int64(bitPattern: v)))
        switch field {
        case 1: d.channels = signed
        case 2: d.height = signed
        case 3: d.width = signed
        case 5: d.label = signed
        case 7: d.encoded = v != 0
        default: break
        }
      case 2:
        guard let n = varint(), i + Int(n) <= bytes.count else { return nil }
        let payload = Array(bytes[i..<(i + Int(n))])
        i += Int(n)
        if field == 4 { d.data = payload }
        if field == 6 {
          for j in stride(from: 0, to: payload.count, by: 4) {
            d.floats.append(Float(bitPattern: UInt32(payload[j]) | UInt32(payload[j + 1]) << 8 | UInt32(payload[j + 2]) << 16 | UInt32(payload[j + 3]) << 24))
          }
        }
      case 5:
        guard i + 4 <= bytes.count else { return nil }
        if field == 6 {
          d.floats.append(Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24))
        }
        i += 4
      case 1: i += 8
      default: return nil
      }
    }
    return d
  }
}
