/// The shortest text that parses back to the same Float32, written into a byte buffer, exactly as
/// Swift's `Float.description` writes it (`1.0`, `-0.25`, `1e-05`, `16777216.0`, `1.6777218e+07`,
/// `3.4028235e+38`, `inf`, `nan`) but without creating a String.
///
/// The digits are those of Ryū (Ulf Adams, "Ryū: fast float-to-string conversion", PLDI 2018) for
/// binary32: the shortest decimal in the rounding interval of the value (bounds included for an even
/// significand), the one closest to the value among those, ties to even. The layout then follows
/// Swift's: exponential form below 1e-4 or above 2^24, else positional with at least one digit
/// after the point.
///
/// `@unchecked Sendable`: raw pointers to tables that are filled once, never written after, and live as
/// long as the process; pointers are not Sendable, read-only sharing of them is safe.
public struct Float32Text: @unchecked Sendable {
  /// The tables, held by the value so that the hot path reads no global.
  private let inverse: UnsafePointer<UInt64>
  private let powers: UnsafePointer<UInt64>

  /// The shared formatter (its tables live as long as the process).
  public static let shared = Float32Text()

  private init() {
    let inverse = UnsafeMutablePointer<UInt64>.allocate(capacity: Self.pow5InvSplit.count)
    inverse.initialize(from: Self.pow5InvSplit, count: Self.pow5InvSplit.count)
    let powers = UnsafeMutablePointer<UInt64>.allocate(capacity: Self.pow5Split.count)
    powers.initialize(from: Self.pow5Split, count: Self.pow5Split.count)
    self.inverse = UnsafePointer(inverse)
    self.powers = UnsafePointer(powers)
  }

  /// The most bytes ``write(_:to:)`` writes (`-1.2345678e-38` is 14; NaNs with payloads are longer).
  public static let maxLength = 32

  /// Writes `value` at `out`, which has room for ``maxLength`` bytes; returns the number of bytes.
  @inline(__always)
  public func write(_ value: Float, to out: UnsafeMutablePointer<UInt8>) -> Int {
    let bits = value.bitPattern
    let ieeeMantissa = bits & 0x7F_FFFF
    let ieeeExponent = (bits >> 23) & 0xFF
    // The sign without a branch: a '-' that the text overwrites when the value is positive.
    out[0] = UInt8(ascii: "-")
    let n = Int(truncatingIfNeeded: bits >> 31)
    if ieeeExponent == 0xFF { return Self.special(value, out) }
    if ieeeExponent == 0 && ieeeMantissa == 0 {
      out[n] = UInt8(ascii: "0")
      out[n + 1] = UInt8(ascii: ".")
      out[n + 2] = UInt8(ascii: "0")
      return n + 3
    }
    let (digits, exponent) = shortest(ieeeMantissa, ieeeExponent)
    // Swift writes values above 2^24 in exponential form (2^24 itself is positional).
    let forceExponential = ieeeExponent > 151 || (ieeeExponent == 151 && ieeeMantissa != 0)
    return n + layout(digits, exponent, forceExponential: forceExponential, out + n)
  }

  /// The text of a value as a String (for tests).
  public static func string(_ value: Float) -> String {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxLength) { buffer in
      let n = shared.write(value, to: buffer.baseAddress!)
      return String(decoding: UnsafeBufferPointer(start: buffer.baseAddress!, count: n), as: UTF8.self)
    }
  }

  /// Infinities and NaNs: Swift's own text (rare).
  private static func special(_ value: Float, _ out: UnsafeMutablePointer<UInt8>) -> Int {
    var text = value.description
    return text.withUTF8 { utf8 in
      let n = Swift.min(utf8.count, maxLength)
      out.update(from: utf8.baseAddress!, count: n)
      return n
    }
  }

  /// Writes `digits` x 10^`exponent` the way Swift does; returns the number of bytes.
  @inline(__always)
  func layout(_ digits: UInt32, _ exponent: Int, forceExponential: Bool, _ out: UnsafeMutablePointer<UInt8>)
    -> Int
  {
    let count = Self.decimalLength(digits)
    // The exponent of the first digit (scientific notation).
    let e = exponent + count - 1
    if e < -4 || forceExponential {
      // d[.ddd]e[+-]XX
      var n: Int
      if count == 1 {
        out[0] = 0x30 &+ UInt8(truncatingIfNeeded: digits)
        n = 1
      } else {
        writeDigits(digits, count, out + 1)
        out[0] = out[1]
        out[1] = UInt8(ascii: ".")
        n = count + 1
      }
      out[n] = UInt8(ascii: "e")
      out[n + 1] = e < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+")
      let m = e < 0 ? -e : e
      // |e| <= 45 for Float32.
      out[n + 2] = 0x30 &+ UInt8(truncatingIfNeeded: m / 10)
      out[n + 3] = 0x30 &+ UInt8(truncatingIfNeeded: m % 10)
      return n + 4
    }
    if e < 0 {
      // 0.000ddd
      out[0] = UInt8(ascii: "0")
      out[1] = UInt8(ascii: ".")
      // Up to 3 zeros after the point (e >= -4): store 4, the digits overwrite the extra ones.
      let zeros = -e - 1
      UnsafeMutableRawPointer(out + 2).storeBytes(of: 0x3030_3030, as: UInt32.self)
      writeDigits(digits, count, out + 2 + zeros)
      return 2 + zeros + count
    }
    if e + 1 < count {
      // ddd.ddd
      writeDigits(digits, count, out + 1)
      for k in 0...e { out[k] = out[k + 1] }
      out[e + 1] = UInt8(ascii: ".")
      return count + 1
    }
    // ddd000.0
    writeDigits(digits, count, out)
    var k = count
    while k <= e {
      out[k] = UInt8(ascii: "0")
      k += 1
    }
    out[e + 1] = UInt8(ascii: ".")
    out[e + 2] = UInt8(ascii: "0")
    return e + 3
  }

  /// Number of decimal digits of `v` (1...10).
  @inline(__always)
  static func decimalLength(_ v: UInt32) -> Int {
    if v >= 100_000 {
      if v >= 10_000_000 {
        if v >= 1_000_000_000 { return 10 }
        return v >= 100_000_000 ? 9 : 8
      }
      return v >= 1_000_000 ? 7 : 6
    }
    if v >= 100 { return v >= 10_000 ? 5 : (v >= 1000 ? 4 : 3) }
    return v >= 10 ? 2 : 1
  }

  /// Writes the `count` decimal digits of `v` at `out[0..<count]` (and may write up to 9 bytes:
  /// callers have room for ``maxLength``).
  @inline(__always)
  func writeDigits(_ v: UInt32, _ count: Int, _ out: UnsafeMutablePointer<UInt8>) {
    let raw = UnsafeMutableRawPointer(out)
    if count <= 8 {
      raw.storeBytes(of: Self.eightDigits(v) >> UInt64(8 * (8 - count)), as: UInt64.self)
    } else {
      let first = v / 100_000_000
      out[0] = 0x30 &+ UInt8(truncatingIfNeeded: first)
      (raw + 1).storeBytes(of: Self.eightDigits(v &- first &* 100_000_000), as: UInt64.self)
    }
  }

  /// The 8 ASCII digits (leading zeros included) of `n` < 10^8, first digit in the lowest byte.
  @inline(__always)
  static func eightDigits(_ n: UInt32) -> UInt64 {
    // Two 4-digit halves in 32-bit lanes (the high half in the low lane, as it is written first) ...
    let high = n / 10_000
    var x = UInt64(high) | (UInt64(n &- high &* 10_000) << 32)
    // ... then four 2-digit quarters in 16-bit lanes (x / 100 per lane by a multiply and shift) ...
    let hundreds = ((x &* 10_486) >> 20) & 0x0000_007F_0000_007F
    x = hundreds | ((x &- hundreds &* 100) << 16)
    // ... then eight digits in bytes (x / 10 per lane).
    let tens = ((x &* 103) >> 10) & 0x000F_000F_000F_000F
    x = tens | ((x &- tens &* 10) << 8)
    return x &+ 0x3030_3030_3030_3030
  }

  // MARK: - Ryū for binary32

  @inline(__always) static func pow5bits(_ e: Int) -> Int { ((e &* 1_217_359) >> 19) &+ 1 }
  @inline(__always) static func log10Pow2(_ e: Int) -> Int { (e &* 78_913) >> 18 }
  @inline(__always) static func log10Pow5(_ e: Int) -> Int { (e &* 732_923) >> 20 }

  @inline(__always) static func pow5Factor(_ value: UInt32) -> Int {
    var v = value
    var count = 0
    while true {
      let q = v / 5
      if v &- q &* 5 != 0 { break }
      v = q
      count += 1
    }
    return count
  }

  @inline(__always) static func multipleOfPowerOf5(_ value: UInt32, _ p: Int) -> Bool { pow5Factor(value) >= p }
  @inline(__always) static func multipleOfPowerOf2(_ value: UInt32, _ p: Int) -> Bool {
    value & ((1 << UInt32(truncatingIfNeeded: p)) &- 1) == 0
  }

  @inline(__always) static func mulShift(_ m: UInt32, _ factor: UInt64, _ shift: Int) -> UInt32 {
    let factorLo = UInt64(UInt32(truncatingIfNeeded: factor))
    let factorHi = factor >> 32
    let bits0 = UInt64(m) &* factorLo
    let bits1 = UInt64(m) &* factorHi
    let sum = (bits0 >> 32) &+ bits1
    return UInt32(truncatingIfNeeded: sum >> UInt64(truncatingIfNeeded: shift &- 32))
  }

  static var pow5InvBitCount: Int { 59 }
  static var pow5BitCount: Int { 61 }

  /// The shortest digits and their decimal exponent of a finite, non-zero Float32.
  @inline(__always)
  func shortest(_ ieeeMantissa: UInt32, _ ieeeExponent: UInt32) -> (UInt32, Int) {
    let e2: Int
    let m2: UInt32
    if ieeeExponent == 0 {
      e2 = 1 &- 127 &- 23 &- 2
      m2 = ieeeMantissa
    } else {
      e2 = Int(ieeeExponent) &- 127 &- 23 &- 2
      m2 = (1 << 23) | ieeeMantissa
    }
    let acceptBounds = m2 & 1 == 0
    let mv = 4 &* m2
    let mp = 4 &* m2 &+ 2
    let mmShift: UInt32 = (ieeeMantissa != 0 || ieeeExponent <= 1) ? 1 : 0
    let mm = 4 &* m2 &- 1 &- mmShift

    var vr: UInt32
    var vp: UInt32
    var vm: UInt32
    let e10: Int
    var vmIsTrailingZeros = false
    var vrIsTrailingZeros = false
    var lastRemovedDigit: UInt32 = 0
    if e2 >= 0 {
      let q = Self.log10Pow2(e2)
      e10 = q
      let k = Self.pow5InvBitCount &+ Self.pow5bits(q) &- 1
      let i = q &+ k &- e2
      let factor = inverse[q]
      vr = Self.mulShift(mv, factor, i)
      vp = Self.mulShift(mp, factor, i)
      vm = Self.mulShift(mm, factor, i)
      if q != 0 && (vp &- 1) / 10 <= vm / 10 {
        // One removed digit is needed even when the loop below does not run.
        let l = Self.pow5InvBitCount &+ Self.pow5bits(q &- 1) &- 1
        lastRemovedDigit = Self.mulShift(mv, inverse[q &- 1], q &- 1 &+ l &- e2) % 10
      }
      if q <= 9 {
        // Only one of mp, mv, mm can be a multiple of 5, if any.
        if mv % 5 == 0 {
          vrIsTrailingZeros = Self.multipleOfPowerOf5(mv, q)
        } else if acceptBounds {
          vmIsTrailingZeros = Self.multipleOfPowerOf5(mm, q)
        } else {
          vp &-= Self.multipleOfPowerOf5(mp, q) ? 1 : 0
        }
      }
    } else {
      let q = Self.log10Pow5(0 &- e2)
      e10 = q &+ e2
      let i = 0 &- e2 &- q
      let k = Self.pow5bits(i) &- Self.pow5BitCount
      var j = q &- k
      let factor = powers[i]
      vr = Self.mulShift(mv, factor, j)
      vp = Self.mulShift(mp, factor, j)
      vm = Self.mulShift(mm, factor, j)
      if q != 0 && (vp &- 1) / 10 <= vm / 10 {
        j = q &- 1 &- (Self.pow5bits(i &+ 1) &- Self.pow5BitCount)
        lastRemovedDigit = Self.mulShift(mv, powers[i &+ 1], j) % 10
      }
      if q <= 1 {
        // mv = 4 * m2 has at least two trailing zero bits.
        vrIsTrailingZeros = true
        if acceptBounds {
          vmIsTrailingZeros = mmShift == 1
        } else {
          vp &-= 1
        }
      } else if q < 31 {
        vrIsTrailingZeros = Self.multipleOfPowerOf2(mv, q &- 1)
      }
    }

    var removed = 0
    var output: UInt32
    if vmIsTrailingZeros || vrIsTrailingZeros {
      // The general case (rare).
      while vp / 10 > vm / 10 {
        vmIsTrailingZeros = vmIsTrailingZeros && vm % 10 == 0
        vrIsTrailingZeros = vrIsTrailingZeros && lastRemovedDigit == 0
        lastRemovedDigit = vr % 10
        vr /= 10
        vp /= 10
        vm /= 10
        removed &+= 1
      }
      if vmIsTrailingZeros {
        while vm % 10 == 0 {
          vrIsTrailingZeros = vrIsTrailingZeros && lastRemovedDigit == 0
          lastRemovedDigit = vr % 10
          vr /= 10
          vp /= 10
          vm /= 10
          removed &+= 1
        }
      }
      if vrIsTrailingZeros && lastRemovedDigit == 5 && vr % 2 == 0 {
        // Exactly halfway: round to even.
        lastRemovedDigit = 4
      }
      let roundUp = (vr == vm && (!acceptBounds || !vmIsTrailingZeros)) || lastRemovedDigit >= 5
      output = vr &+ (roundUp ? 1 : 0)
    } else {
      // The common case.
      while vp / 10 > vm / 10 {
        lastRemovedDigit = vr % 10
        vr /= 10
        vp /= 10
        vm /= 10
        removed &+= 1
      }
      output = vr &+ ((vr == vm || lastRemovedDigit >= 5) ? 1 : 0)
    }
    return (output, e10 &+ removed)
  }

  /// floor(2^(bitlength(5^i) - 1 + 59) / 5^i) + 1, for i in 0...30.
  static let pow5InvSplit: [UInt64] = [
    0x0800000000000001, 0x0666666666666667, 0x051EB851EB851EB9,
    0x04189374BC6A7EFA, 0x068DB8BAC710CB2A, 0x053E2D6238DA3C22,
    0x0431BDE82D7B634E, 0x06B5FCA6AF2BD216, 0x055E63B88C230E78,
    0x044B82FA09B5A52D, 0x06DF37F675EF6EAE, 0x057F5FF85E592558,
    0x0465E6604B7A8447, 0x0709709A125DA071, 0x05A126E1A84AE6C1,
    0x0480EBE7B9D58567, 0x0734ACA5F6226F0B, 0x05C3BD5191B525A3,
    0x049C97747490EAE9, 0x0760F253EDB4AB0E, 0x05E72843249088D8,
    0x04B8ED0283A6D3E0, 0x078E480405D7B966, 0x060B6CD004AC9452,
    0x04D5F0A66A23A9DB, 0x07BCB43D769F762B, 0x063090312BB2C4EF,
    0x04F3A68DBC8F03F3, 0x07EC3DAF94180651, 0x065697BFA9ACD1DA,
    0x051212FFBAF0A7E2,
  ]

  /// 5^i scaled to 61 bits (truncated), for i in 0...46.
  static let pow5Split: [UInt64] = [
    0x1000000000000000, 0x1400000000000000, 0x1900000000000000,
    0x1F40000000000000, 0x1388000000000000, 0x186A000000000000,
    0x1E84800000000000, 0x1312D00000000000, 0x17D7840000000000,
    0x1DCD650000000000, 0x12A05F2000000000, 0x174876E800000000,
    0x1D1A94A200000000, 0x12309CE540000000, 0x16BCC41E90000000,
    0x1C6BF52634000000, 0x11C37937E0800000, 0x16345785D8A00000,
    0x1BC16D674EC80000, 0x1158E460913D0000, 0x15AF1D78B58C4000,
    0x1B1AE4D6E2EF5000, 0x10F0CF064DD59200, 0x152D02C7E14AF680,
    0x1A784379D99DB420, 0x108B2A2C28029094, 0x14ADF4B7320334B9,
    0x19D971E4FE8401E7, 0x1027E72F1F128130, 0x1431E0FAE6D7217C,
    0x193E5939A08CE9DB, 0x1F8DEF8808B02452, 0x13B8B5B5056E16B3,
    0x18A6E32246C99C60, 0x1ED09BEAD87C0378, 0x13426172C74D822B,
    0x1812F9CF7920E2B6, 0x1E17B84357691B64, 0x12CED32A16A1B11E,
    0x178287F49C4A1D66, 0x1D6329F1C35CA4BF, 0x125DFA371A19E6F7,
    0x16F578C4E0A060B5, 0x1CB2D6F618C878E3, 0x11EFC659CF7D4B8D,
    0x166BB7F0435C9E71, 0x1C06A5EC5433C60D,
  ]
}
