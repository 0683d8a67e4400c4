import Testing

@testable import DatasanCore

/// The text of the progress bar (the terminal behaviour is tested on a pty in DatasanCLITests).
@Suite struct ProgressLineTests {
  @Test func knownTotal() {
    let line = TerminalProgress.line(pass: "scan", samples: 25_000, expected: 100_000, bytes: 50_000_000, inputBytes: nil, seconds: 2)
    #expect(line == "scan [######------------------] 25,000/100,000  25%  12,500 samples/s  25.0 MB/s  ETA 6s")
  }

  @Test func unknownTotalFollowsBytes() {
    let line = TerminalProgress.line(pass: "clean", samples: 1200, expected: nil, bytes: 4_000_000, inputBytes: 16_000_000, seconds: 2)
    #expect(line == "clean [######------------------] 1,200 samples  4.0/16.0 MB  25%  600 samples/s  2.0 MB/s  ETA 6s")
  }

  @Test func nothingKnown() {
    let line = TerminalProgress.line(pass: "scan", samples: 7, expected: nil, bytes: 0, inputBytes: nil, seconds: 1)
    #expect(line == "scan: 7 samples  7 samples/s  0.0 MB/s")
  }

  @Test func durations() {
    #expect(TerminalProgress.duration(0) == "0s")
    #expect(TerminalProgress.duration(58.2) == "59s")
    #expect(TerminalProgress.duration(75) == "1m15s")
    #expect(TerminalProgress.duration(7260) == "2h01m")
  }
}
