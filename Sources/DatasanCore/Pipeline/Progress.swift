import Foundation

/// Receives progress while a pass runs.
public protocol ProgressObserver: AnyObject {
  /// Called after each batch with the totals so far; `expected` is the sample count when known.
  func update(pass: String, samples: Int, expected: Int?, bytes: Int)
  /// Called when the pass ends.
  func finish()
}

/// A one-line progress bar on stderr, redrawn at most 4 times a second, cleared at the end.
/// Only used while stderr is a terminal and `--quiet` is not given.
public final class TerminalProgress: ProgressObserver {
  private var last = 0.0
  private let start = Date()
  private var drawn = false

  public init() {}

  /// Whether stderr is a terminal.
  public static var stderrIsTerminal: Bool { isatty(2) != 0 }

  public func update(pass: String, samples: Int, expected: Int?, bytes: Int) {
    let now = Date().timeIntervalSince(start)
    guard now - last >= 0.25 else { return }
    last = now
    let rate = now > 0 ? Double(samples) / now : 0
    let mbps = now > 0 ? Double(bytes) / 1e6 / now : 0
    var line = "\(pass): \(samples)"
    if let expected, expected > 0 {
      let fraction = min(1, Double(samples) / Double(expected))
      let width = 24
      let filled = Int(fraction * Double(width))
      let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
      let eta = rate > 0 ? Double(expected - samples) / rate : 0
      line = "\(pass) [\(bar)] \(samples)/\(expected) " + String(format: "%3.0f%%  ETA %.0fs", fraction * 100, eta)
    }
    line += String(format: "  %.0f samples/s  %.1f MB/s", rate, mbps)
    FileHandle.standardError.write(("\r\u{1B}[K" + line).data(using: .utf8)!)
    drawn = true
  }

  public func finish() {
    if drawn { FileHandle.standardError.write("\r\u{1B}[K".data(using: .utf8)!) }
    drawn = false
  }
}
