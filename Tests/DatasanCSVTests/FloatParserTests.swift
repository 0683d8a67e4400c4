import DatasanTestSupport
import Testing

@testable import DatasanCSV

@Suite struct FloatParserTests {
  func number(_ s: String) -> Double? {
    if case .number(let v) = CSVNumberParser.parse(s) { return v }
    return nil
  }

  @Test func edgeCasesMatchSwift() {
    let inputs = [
      "0", "-0", "+0", "0.0", "-0.0", "1", "-1", "1.", ".5", "+.5", "-.5e-3", "1e5", "1E-5", "1e+05", "00001.2500",
      "123.456e-2", "0.1", "0.2", "0.3", "0.30000000000000004", "3.141592653589793", "2.718281828459045",
      "9007199254740992", "9007199254740993", "9007199254740995", "18446744073709551615", "18446744073709551616",
      "123456789012345678901234567890", "1e22", "1e23", "1e-22", "1e-23", "8.5e37", "4.9e-324", "5e-324", "2e-324",
      "2.4703282292062327e-324", "2.4703282292062328e-324", "2.2250738585072014e-308", "2.2250738585072011e-308",
      "1.7976931348623157e308", "1.7976931348623158e308", "1e-400", "0.000000000000000000000000000001",
      "1.00000000000000011102230246251565404236316680908203125", "7.038531e-26", "1448997445238699",
      "0.1e0000000000000000000000001", "1000000000000000000000000000000000000000e-30", "99999999999999999999",
      "12345678901234567890123", "1.2345678901234567890123e5", "3.4028235e38", "1.17549435e-38", "1e308",
      "0e999999", "1e0", "1e-0", "65504", "1234567.1234567", "-987654321.123456789",
      // Halfway and near-halfway cases, subnormals, long mantissas.
      "9007199254740993.0000000000000000001", "9007199254740992.9999999999999999999", "9007199254740994.9999999999",
      "1.00000000000000011102230246251565404236316680908203125000000000001",
      "1.00000000000000011102230246251565404236316680908203124999999999999", "2.2250738585072012e-308",
      "4.9406564584124654e-324", "1e-320", "123456789e-330",
      "2.225073858507201136057409796709131975934819546351645648e-308",
      "0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001",
      "17976931348623157081452742373170435679807056752584499659891747680315726078002853876058955863276687817154045895351438246423432132688946418276846754670353751698604991057655128207624549009038932894407586850845513394230458323690322294816580855933212334827479782620414472316873817718091929988125040402618412485836.8",
      "0.1234567890123456789", "1234567890123456789.5", "98765432109876543210e-10", "7.2057594037927933e16",
      "8.98846567431158e307", "3.0000000000000004", "1.7976931348623157e-308",
    ]
    for s in inputs {
      let expected = Double(s)!
      let got = number(s)
      #expect(got != nil, "\(s)")
      if let got { #expect(same(got, expected), "\(s): got \(got), expected \(expected)") }
    }
  }

  @Test func overflowIsInfinity() {
    #expect(number("1e400") == .infinity)
    #expect(number("-1e400") == -.infinity)
    #expect(number("1e999999999999999999999") == .infinity)
    #expect(number("1.8e308") == .infinity)
    #expect(number("1e-99999999999999") == 0)
  }

  @Test func infinityTokens() {
    for s in ["inf", "+inf", "INF", "iNf", "Infinity", "+Infinity", "INFINITY", " inf "] {
      #expect(number(s) == .infinity, "\(s)")
    }
    for s in ["-inf", "-Inf", "-Infinity", "-INFINITY"] { #expect(number(s) == -.infinity, "\(s)") }
    for s in ["infinit", "infinityy", "in", "+-inf", "inf1"] { #expect(CSVNumberParser.parse(s) == .invalid, "\(s)") }
  }

  @Test func naTokensAreMissing() {
    for s in CSVNumberParser.naTokens + ["", " ", "\t", " NA "] {
      #expect(CSVNumberParser.parse(s) == .missing, "'\(s)'")
    }
    #expect(CSVNumberParser.naTokens.count == 18)
  }

  @Test func spacesAroundNumbers() {
    #expect(number(" 1.5") == 1.5)
    #expect(number("1.5  ") == 1.5)
    #expect(number("\t-2\t") == -2)
  }

  @Test func invalidSyntax() {
    for s in [
      "abc", "1e", "1e+", "e5", ".", "-", "+", "1.2.3", "0x10", "0x1p3", "1_000", "1,5", "NAN", "nAn", "snan", "--1",
      "1 2", "1.5x", "x1.5", "1e5.5", "١", "1e-", "+-1", "1d5", "0b1",
    ] {
      #expect(CSVNumberParser.parse(s) == .invalid, "'\(s)'")
    }
  }

  @Test func randomDecimalStringsMatchSwift() {
    var rng = SplitMix(seed: 0xDA7A5A4)
    var checked = 0
    for _ in 0..<30_000 {
      var s = ""
      if rng.next() % 3 == 0 { s += rng.next() % 2 == 0 ? "-" : "+" }
      let intDigits = Int(rng.next() % 22)
      for _ in 0..<intDigits { s += String(rng.next() % 10) }
      let fracDigits = Int(rng.next() % 22)
      if fracDigits > 0 || rng.next() % 4 == 0 {
        s += "."
        for _ in 0..<fracDigits { s += String(rng.next() % 10) }
      }
      if intDigits == 0 && fracDigits == 0 { s += "7" }
      if rng.next() % 2 == 0 {
        s += rng.next() % 2 == 0 ? "e" : "E"
        let e = Int(rng.next() % 700) - 350
        s += (e >= 0 && rng.next() % 2 == 0 ? "+" : "") + String(e)
      }
      guard let expected = Double(s) else { continue }
      guard let got = number(s) else {
        Issue.record("'\(s)' not parsed, Swift reads \(expected)")
        continue
      }
      #expect(same(got, expected), "\(s): got \(got), expected \(expected)")
      checked += 1
    }
    #expect(checked > 25_000)
  }

  @Test func longMantissasAcrossExponents() {
    var rng = SplitMix(seed: 7)
    for _ in 0..<40_000 {
      let digits = 15 + Int(rng.next() % 6)  // 15 to 20 digits: both sides of 2^53 and of 19 digits
      var s = String(1 + rng.next() % 9)
      for _ in 1..<digits { s += String(rng.next() % 10) }
      let e = Int(rng.next() % 660) - 345
      s += "e\(e)"
      let expected = Double(s)!
      let got = number(s)
      #expect(got.map { same($0, expected) } == true, "\(s): got \(String(describing: got)), expected \(expected)")
    }
  }

  @Test func randomDoublesRoundTrip() {
    var rng = SplitMix(seed: 42)
    for k in 0..<20_000 {
      let v: Double
      switch k % 3 {
      case 0: v = Double(bitPattern: rng.next())  // any finite double
      case 1: v = Double(Int64(bitPattern: rng.next()) % 10_000_000) / 1000  // short decimals
      default: v = Double(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())))  // float32 values
      }
      guard v.isFinite else { continue }
      let s = v.description
      guard let got = number(s) else {
        Issue.record("\(s) not parsed")
        continue
      }
      #expect(same(got, v), "\(s)")
      let f = Float(v)
      if f.isFinite {
        let fs = f.description
        #expect(same(number(fs) ?? .nan, Double(fs)!), "\(fs)")
      }
    }
  }
}

