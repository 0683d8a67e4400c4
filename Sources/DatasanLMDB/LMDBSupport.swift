import CDatasanLMDBGuard
import CLMDB
import DatasanCore

/// A liblmdb return code that is not MDB_SUCCESS.
struct MDBError: Error, CustomStringConvertible {
  let code: Int32
  init(_ code: Int32) { self.code = code }
  /// liblmdb's text for the code (also errno texts, which mdb_strerror passes through).
  var description: String {
    if code == DATASAN_MDB_FAULT { return "invalid memory access inside liblmdb" }
    return String(cString: mdb_strerror(code))
  }
  /// Whether the code is an errno (a system call failed) rather than an MDB_* code.
  var isSystemError: Bool { code > 0 }
}

/// The one status choke point for liblmdb calls.
@inline(__always)
func mdbCheck(_ rc: Int32) throws(MDBError) {
  if rc != MDB_SUCCESS { throw MDBError(rc) }
}

/// How LMDB keys are shown to users and written back.
///
/// SPEC.md: a key is shown as UTF-8 text when it is valid UTF-8, else as `0x` and its lowercase hex.
/// So that every shown key maps back to exactly one byte string, a UTF-8 key that itself looks like
/// that hex form (`0x` followed only by hex digits, e.g. the text "0x1f") is shown in hex too
/// ("0x30783166"). ``bytes(of:)`` inverts ``display(_:)``.
public enum LMDBKey {
  static let hexDigits = Array("0123456789abcdef".utf8)

  /// The key as users see it.
  public static func display(_ key: UnsafeRawBufferPointer) -> String {
    // The usual key is ASCII: then it is valid UTF-8 without the general validation.
    var ascii: UInt8 = 0
    for b in key { ascii |= b }
    if ascii < 0x80 {
      if !looksLikeHex(key) { return String(decoding: key, as: UTF8.self) }
    } else if let text = String(validating: key, as: UTF8.self), !looksLikeHex(key) {
      return text
    }
    var out = [UInt8](repeating: 0, count: 2 + 2 * key.count)
    out[0] = UInt8(ascii: "0")
    out[1] = UInt8(ascii: "x")
    for (i, b) in key.enumerated() {
      out[2 + 2 * i] = hexDigits[Int(b >> 4)]
      out[3 + 2 * i] = hexDigits[Int(b & 15)]
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// The key bytes of a shown key: the hex form decoded, any other text as its UTF-8 bytes.
  public static func bytes(of key: String) -> [UInt8] {
    let utf8 = Array(key.utf8)
    guard utf8.count >= 2, utf8.count % 2 == 0, utf8[0] == UInt8(ascii: "0"), utf8[1] == UInt8(ascii: "x") else {
      return utf8
    }
    var out: [UInt8] = []
    out.reserveCapacity(utf8.count / 2 - 1)
    var i = 2
    while i < utf8.count {
      guard let hi = hexValue(utf8[i]), let lo = hexValue(utf8[i + 1]) else { return utf8 }
      out.append(hi << 4 | lo)
      i += 2
    }
    return out
  }

  static func looksLikeHex(_ key: UnsafeRawBufferPointer) -> Bool {
    guard key.count >= 2, key[0] == UInt8(ascii: "0"), key[1] == UInt8(ascii: "x") else { return false }
    for b in key.dropFirst(2) where hexValue(b) == nil { return false }
    return true
  }

  @inline(__always) static func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
    default: return nil
    }
  }
}
