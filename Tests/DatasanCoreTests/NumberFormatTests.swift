import DatasanCore
import Foundation
import Testing

/// `String(cFormat:_:)` writes what Foundation's `String(format:)` writes, for every format the
/// reports use (the JSON report's details among them: its text must not change).
@Suite struct NumberFormatTests {
  @Test func sameTextAsFoundation() {
    let formats = ["%.6g", "%.4g", "%.4g%%", "%.3f", "%.2f", ", %.2f s", "%.1f", "%.0f", "%.6f", "%3.0f%%", "%.1f MB/s"]
    var generator = SystemRandomNumberGenerator()
    var values: [Double] = [0, -0.0, 1, -1, 0.5, 0.125, 2.5, 1e-310, 123_456.789, 1e15, 1.7976931348623157e308, -3e-7, .pi]
    for _ in 0..<2_000 {
      values.append(Double(bitPattern: generator.next()))
      values.append(Double.random(in: -1e6...1e6, using: &generator))
    }
    for format in formats {
      for value in values where value.isFinite {
        #expect(String(cFormat: format, value) == String(format: format, value), "\(format) of \(value)")
      }
    }
  }
}
