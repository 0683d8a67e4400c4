/// What one CSV field holds, for a numeric column.
public enum CSVFieldValue: Equatable, Sendable {
  /// A number (including ±Inf for `inf`, `Infinity` and overflowing values).
  case number(Double)
  /// One of the NA tokens pandas reads as NaN (or an empty field).
  case missing
  /// Anything else: not a number.
  case invalid
}

/// Parses CSV fields as float64 values the way pandas reads a numeric column.
///
/// - Leading and trailing spaces and tabs around the value are ignored.
/// - The NA tokens pandas reads as NaN (``naTokens``) and an empty or blank field are ``CSVFieldValue/missing``.
/// - `inf`, `infinity` (any case, optional sign) are ±Inf; values that overflow (`1e400`) are ±Inf.
/// - Decimal syntax only: `[+-]digits[.digits][(e|E)[+-]digits]`, with `1.` and `.5` accepted;
///   hex floats, `nan` spellings that pandas does not know, thousands separators are invalid.
///
/// Parsing is correctly rounded and allocation-free for all but pathological inputs: the first 19
/// significant digits go to a `UInt64`; Clinger's fast path (mantissa < 2^53, exact power of ten, one
/// multiply or divide) handles the short values, the Eisel-Lemire algorithm (128-bit products with a table
/// of powers of five) the others, such as the 17-digit values pandas writes. Only a number with more than
/// 19 significant digits whose rounding those digits do not settle goes to Swift's `Double(String)`.
public enum CSVNumberParser {
  /// The tokens pandas reads as NaN by default (besides the empty field).
  public static let naTokens: [String] = [
    "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA",
    "NULL", "NaN", "None", "n/a", "nan", "null",
  ]

  /// The NA tokens as bytes, by length, for the slow (non-number) path.
  private static let naTokensByLength: [[[UInt8]]] = {
    var byLength = [[[UInt8]]](repeating: [], count: 9)
    for t in naTokens { byLength[t.utf8.count].append(Array(t.utf8)) }
    return byLength
  }()

  /// Parses a string (for tests and option values).
  public static func parse(_ text: String) -> CSVFieldValue {
    var s = text
    return s.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
  }

  /// Parses the bytes of one field (already unquoted).
  public static func parse(_ bytes: UnsafeRawBufferPointer) -> CSVFieldValue {
    guard let base = bytes.baseAddress, bytes.count > 0 else { return .missing }
    let p = base.assumingMemoryBound(to: UInt8.self)
    var lo = 0
    var hi = bytes.count
    while lo < hi && (p[lo] == 0x20 || p[lo] == 0x09) { lo += 1 }
    while hi > lo && (p[hi - 1] == 0x20 || p[hi - 1] == 0x09) { hi -= 1 }
    if lo == hi { return .missing }
    if let v = parseNumber(p + lo, hi - lo) { return .number(v) }
    return parseSpecial(p + lo, hi - lo)
  }

  /// Parses the bytes of one field whose numbers use `decimal` as their decimal separator (pandas'
  /// `decimal=`): with `,`, `1,5` is 1.5 and `1.5` is not a number, as pandas reads them.
  @inline(__always)
  public static func parse(_ bytes: UnsafeRawBufferPointer, decimal: UInt8) -> CSVFieldValue {
    if decimal == UInt8(ascii: ".") { return parse(bytes) }
    guard let base = bytes.baseAddress, bytes.count > 0 else { return .missing }
    let p = base.assumingMemoryBound(to: UInt8.self)
    var lo = 0
    var hi = bytes.count
    while lo < hi && (p[lo] == 0x20 || p[lo] == 0x09) { lo += 1 }
    while hi > lo && (p[hi - 1] == 0x20 || p[hi - 1] == 0x09) { hi -= 1 }
    if lo == hi { return .missing }
    if let v = parseNumber(p + lo, hi - lo, decimal: decimal) { return .number(v) }
    return parseSpecial(p + lo, hi - lo)
  }

  /// ``parseNumber(_:_:)`` of a number written with `decimal` as its decimal separator: the bytes are
  /// copied to the stack with the separator made `.` (and a `.` made invalid).
  public static func parseNumber(_ p: UnsafePointer<UInt8>, _ n: Int, decimal: UInt8) -> Double? {
    if decimal == UInt8(ascii: ".") { return parseNumber(p, n) }
    if n == 0 || n > 4096 { return nil }
    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: n) { copy in
      for k in 0..<n {
        let c = p[k]
        copy[k] = c == decimal ? UInt8(ascii: ".") : (c == UInt8(ascii: ".") ? UInt8(ascii: "x") : c)
      }
      return parseNumber(UnsafePointer(copy.baseAddress!), n)
    }
  }

  /// Whether the bytes are one of the NA tokens (exactly, after trimming spaces).
  static func isNAToken(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    guard n < naTokensByLength.count else { return false }
    for token in naTokensByLength[n] {
      var same = true
      for k in 0..<n where token[k] != p[k] {
        same = false
        break
      }
      if same { return true }
    }
    return false
  }

  /// NA tokens and infinities: the slow path for fields that are not plain decimal numbers.
  static func parseSpecial(_ p: UnsafePointer<UInt8>, _ n: Int) -> CSVFieldValue {
    if isNAToken(p, n) { return .missing }
    var i = 0
    var negative = false
    if p[0] == UInt8(ascii: "+") || p[0] == UInt8(ascii: "-") {
      negative = p[0] == UInt8(ascii: "-")
      i = 1
    }
    let rest = n - i
    if rest == 3 || rest == 8 {
      let word: [UInt8] = Array("infinity".utf8)
      var same = true
      for k in 0..<rest where (p[i + k] | 0x20) != word[k] {
        same = false
        break
      }
      if same { return .number(negative ? -.infinity : .infinity) }
    }
    return .invalid
  }

  /// Parses `[+-]digits[.digits][(e|E)[+-]digits]` (no spaces); nil when the syntax is not that.
  @inlinable
  public static func parseNumber(_ p: UnsafePointer<UInt8>, _ n: Int) -> Double? {
    var i = 0
    var negative = false
    if n == 0 { return nil }
    let first = p[0]
    if first == UInt8(ascii: "-") {
      negative = true
      i = 1
    } else if first == UInt8(ascii: "+") {
      i = 1
    }
    var mantissa: UInt64 = 0
    var digits = 0  // significant digits held in `mantissa`
    var exponent = 0  // decimal exponent applied to `mantissa`
    var sawDigit = false
    var truncated = false  // a non-zero digit did not fit in `mantissa`
    // Integer part.
    while i < n {
      let d = p[i] &- 0x30
      if d > 9 { break }
      sawDigit = true
      if digits < 19 {
        if mantissa != 0 || d != 0 {
          mantissa = mantissa &* 10 &+ UInt64(d)
          digits += 1
        }
      } else {
        exponent += 1
        if d != 0 { truncated = true }
      }
      i += 1
    }
    // Fraction.
    if i < n && p[i] == UInt8(ascii: ".") {
      i += 1
      while i < n {
        let d = p[i] &- 0x30
        if d > 9 { break }
        sawDigit = true
        if digits < 19 {
          if mantissa != 0 || d != 0 {
            mantissa = mantissa &* 10 &+ UInt64(d)
            digits += 1
          }
          exponent -= 1
        } else if d != 0 {
          truncated = true
        }
        i += 1
      }
    }
    if !sawDigit { return nil }
    // Exponent.
    if i < n && (p[i] | 0x20) == UInt8(ascii: "e") {
      i += 1
      var expNegative = false
      if i < n && (p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-")) {
        expNegative = p[i] == UInt8(ascii: "-")
        i += 1
      }
      var e = 0
      var expDigits = 0
      while i < n {
        let d = p[i] &- 0x30
        if d > 9 { break }
        if e < 100_000 { e = e * 10 + Int(d) }
        expDigits += 1
        i += 1
      }
      if expDigits == 0 { return nil }
      exponent += expNegative ? -e : e
    }
    if i != n { return nil }
    if mantissa == 0 { return negative ? -0.0 : 0.0 }
    if !truncated && mantissa <= (1 << 53) {
      // Clinger's fast path: one correctly rounded operation on exact operands.
      var value = Double(mantissa)
      var fast = true
      if exponent == 0 {
      } else if exponent > 0 && exponent <= 22 {
        value *= exactPowerOfTen(exponent)
      } else if exponent < 0 && exponent >= -22 {
        value /= exactPowerOfTen(-exponent)
      } else if exponent > 22 && exponent <= 22 + 15 {
        // Shift some of the exponent into the mantissa while it stays exact.
        let scaled = mantissa.multipliedReportingOverflow(by: UInt64(exactPowerOfTen(exponent - 22)))
        if !scaled.overflow && scaled.partialValue <= (1 << 53) {
          value = Double(scaled.partialValue) * 1e22
        } else {
          fast = false
        }
      } else {
        fast = false
      }
      if fast { return negative ? -value : value }
    }
    var value = eiselLemire(mantissa, exponent)
    if truncated {
      // The digits beyond the 19th lie between `mantissa` and `mantissa + 1`: when both round to the same
      // double, so does the number; else let the slow path decide.
      if eiselLemire(mantissa + 1, exponent) != value { return slowParse(p, n) }
    }
    if negative { value = -value }
    return value
  }

  /// 10^e for 0 <= e <= 22, exactly.
  @inline(__always) @usableFromInline static func exactPowerOfTen(_ e: Int) -> Double {
    switch e {
    case 0: return 1e0
    case 1: return 1e1
    case 2: return 1e2
    case 3: return 1e3
    case 4: return 1e4
    case 5: return 1e5
    case 6: return 1e6
    case 7: return 1e7
    case 8: return 1e8
    case 9: return 1e9
    case 10: return 1e10
    case 11: return 1e11
    case 12: return 1e12
    case 13: return 1e13
    case 14: return 1e14
    case 15: return 1e15
    case 16: return 1e16
    case 17: return 1e17
    case 18: return 1e18
    case 19: return 1e19
    case 20: return 1e20
    case 21: return 1e21
    default: return 1e22
    }
  }

  /// The double nearest to `w * 10^q` (w != 0), by the Eisel-Lemire algorithm: a 128-bit product with a
  /// truncated power of five, which is always sufficient for 64-bit `w` (Mushtak and Lemire, "Fast number
  /// parsing without fallback", 2023). This is fast_float's `compute_float` for binary64.
  @usableFromInline static func eiselLemire(_ w: UInt64, _ q: Int) -> Double {
    if q < -342 { return 0 }
    if q > 308 { return .infinity }
    let lz = w.leadingZeroBitCount
    let wn = w << UInt64(lz)
    let index = 2 * (q + 342)
    var (hi, lo) = wn.multipliedFullWidth(by: powerOfFive128[index])
    let precisionMask: UInt64 = UInt64.max >> 55
    if hi & precisionMask == precisionMask {
      let second = wn.multipliedFullWidth(by: powerOfFive128[index + 1]).high
      lo = lo &+ second
      if second > lo { hi &+= 1 }
    }
    let upperbit = Int(hi >> 63)
    let shift = UInt64(upperbit + 64 - 52 - 3)
    var mantissa = hi >> shift
    var power2 = ((217_706 * q) >> 16) + 63 + upperbit - lz + 1023
    if power2 <= 0 {
      // Subnormal.
      if -power2 + 1 >= 64 { return 0 }
      mantissa >>= UInt64(-power2 + 1)
      mantissa += mantissa & 1
      mantissa >>= 1
      power2 = mantissa < (1 << 52) ? 0 : 1
      return Double(bitPattern: UInt64(power2) << 52 | mantissa)
    }
    if lo <= 1 && q >= -4 && q <= 23 && mantissa & 3 == 1 && (mantissa << shift) == hi {
      // Exactly halfway between two doubles: round to even.
      mantissa &= ~1
    }
    mantissa += mantissa & 1
    mantissa >>= 1
    if mantissa >= (2 << 52) {
      mantissa = 1 << 52
      power2 += 1
    }
    mantissa &= ~(1 << 52)
    if power2 >= 0x7FF { return .infinity }
    return Double(bitPattern: UInt64(power2) << 52 | mantissa)
  }

  /// The correctly rounded fallback for long mantissas and large exponents (syntax already checked).
  @usableFromInline static func slowParse(_ p: UnsafePointer<UInt8>, _ n: Int) -> Double? {
    let text = String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    return Double(text)
  }
}
