import DatasanCore
import Foundation
import DatasanTestSupport
import Testing

@testable import DatasanCSV

/// The Float32 formatter writes exactly what `Float.description` writes, and that text parses back to
/// the same float. (All 2^31 positive bit patterns were also compared once, outside the test suite.)
@Suite struct Float32TextTests {
  func text(_ x: Float) -> String { Float32Text.string(x) }

  @Test func layoutLikeDescription() {
    let cases: [(Float, String)] = [
      (1, "1.0"), (0.1, "0.1"), (-0.25, "-0.25"), (0, "0.0"), (-0.0, "-0.0"), (0.0001, "0.0001"), (1e-5, "1e-05"),
      (1.5e-5, "1.5e-05"), (100, "100.0"), (123456.7, "123456.7"), (16_777_216, "16777216.0"),
      (16_777_218, "1.6777218e+07"), (1e7, "10000000.0"), (1e8, "1e+08"), (.greatestFiniteMagnitude, "3.4028235e+38"),
      (.leastNonzeroMagnitude, "1e-45"), (.leastNormalMagnitude, "1.1754944e-38"), (.infinity, "inf"),
      (-.infinity, "-inf"), (.nan, "nan"), (-1, "-1.0"), (0.3, "0.3"), (2.0 / 3, "0.6666667"),
    ]
    for (x, expected) in cases {
      #expect(text(x) == expected, "\(x)")
      #expect(text(x) == x.description)
    }
  }

  @Test func randomBitPatternsMatchDescription() {
    var rng = SplitMix(seed: 0xF10A7)
    var mismatches = 0
    for _ in 0..<1_000_000 {
      let x = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
      if text(x) != x.description {
        mismatches += 1
        if mismatches < 10 { Issue.record("\(x.bitPattern): \(text(x)) vs \(x.description)") }
      }
    }
    #expect(mismatches == 0)
  }

  @Test func normalizedRangeRoundTrips() {
    var rng = SplitMix(seed: 77)
    for _ in 0..<1_000_000 {
      let x = Float(Double(rng.next() >> 11) / Double(1 << 53) * 2 - 1)
      let t = text(x)
      #expect(Float(t) == x)
      if t != x.description { Issue.record("\(x): \(t) vs \(x.description)") }
    }
    // Every 61st float of a few binades.
    for start: Float in [1, 0.5, 1e-5, 1e30, 16_777_216] {
      var x = start
      let end = start * 2
      while x < end {
        if text(x) != x.description { Issue.record("\(x): \(text(x)) vs \(x.description)") }
        x = Float(bitPattern: x.bitPattern + 61)
      }
    }
  }
}
