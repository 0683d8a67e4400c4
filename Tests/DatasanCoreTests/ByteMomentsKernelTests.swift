import CDatasanKernels
import DatasanTestSupport
import XCTest

/// The byte moments kernel (AVX2 where the CPU has it) against exact integer sums computed here and
/// against the portable loop, over seeded random lengths, alignments and value ranges: lengths around
/// the 32-byte step and the 8192-step flush of its 32-bit square lanes, constant and extreme blocks.
final class ByteMomentsKernelTests: XCTestCase {
  func testByteMomentsEqualExactSumsAndThePortableLoop() {
    var random = SplitMix(seed: 0x6d6f_6d65_6e74_73)
    var lengths = [1, 2, 31, 32, 33, 63, 64, 65, 1024, 3072, 262_143, 262_144, 262_145, 262_176, 600_001]
    for _ in 0..<400 { lengths.append(Int.random(in: 1...5_000, using: &random)) }
    var buffer = [UInt8](repeating: 0, count: 600_001 + 64)
    for (t, n) in lengths.enumerated() {
      let offset = Int.random(in: 0..<32, using: &random)
      switch t % 4 {
      case 0: for i in 0..<n { buffer[offset + i] = 255 }  // largest squares: the lanes' worst case
      case 1:
        let v = UInt8.random(in: 0...255, using: &random)
        for i in 0..<n { buffer[offset + i] = v }
      case 2:
        let base = UInt8.random(in: 0...250, using: &random)
        for i in 0..<n { buffer[offset + i] = base &+ UInt8.random(in: 0...5, using: &random) }
      default: for i in 0..<n { buffer[offset + i] = UInt8.random(in: 0...255, using: &random) }
      }
      var sum: UInt64 = 0, squares: UInt64 = 0, low: UInt8 = 255, high: UInt8 = 0
      for i in 0..<n {
        let x = buffer[offset + i]
        sum += UInt64(x)
        squares += UInt64(x) * UInt64(x)
        low = min(low, x)
        high = max(high, x)
      }
      var fast = datasan_moments(), portable = datasan_moments()
      buffer.withUnsafeBufferPointer { b in
        datasan_moments_u8(b.baseAddress! + offset, n, &fast)
        datasan_moments_u8_portable(b.baseAddress! + offset, n, &portable)
      }
      let s = Double(sum)
      let m2 = Double(squares) - s * s / Double(n)
      XCTAssertEqual(fast.min, Double(low), "n \(n)")
      XCTAssertEqual(fast.max, Double(high), "n \(n)")
      XCTAssertEqual(fast.mean, s / Double(n), "n \(n)")
      XCTAssertEqual(fast.m2, max(m2, 0), "n \(n)")
      XCTAssertEqual(fast.finite, 1)
      XCTAssertEqual(
        [fast.min, fast.max, fast.mean, fast.m2], [portable.min, portable.max, portable.mean, portable.m2], "n \(n)")
    }
  }

  func testNoBytesGiveTheEmptyMoments() {
    var m = datasan_moments(min: 0, max: 0, mean: 7, m2: 7, finite: 0)
    datasan_moments_u8(nil, 0, &m)
    XCTAssertEqual(m.min, .infinity)
    XCTAssertEqual(m.max, -.infinity)
    XCTAssertEqual(m.mean, 0)
    XCTAssertEqual(m.finite, 1)
  }
}
