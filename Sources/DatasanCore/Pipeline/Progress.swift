#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Receives progress while a pass runs.
public protocol ProgressObserver: AnyObject {
  /// Called when a pass starts; `inputBytes` is the input's size when it is one file (it lets an
  /// observer show how far a pass is in a format that does not know its sample count, e.g. CSV).
  func begin(pass: String, inputBytes: Int?)
  /// Called after each batch with the totals so far; `expected` is the sample count when known.
  func update(pass: String, samples: Int, expected: Int?, bytes: Int)
  /// Called when the pass ends.
  func finish()
}

extension ProgressObserver {
  public func begin(pass: String, inputBytes: Int?) {}
}

extension Pipeline {
  /// The size of `path` when it is a regular file, else nil (for ``ProgressObserver/begin(pass:inputBytes:)``).
  static func inputBytes(of path: String) -> Int? {
    var st = stat()
    guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
    return Int(st.st_size)
  }
}

/// A one-line progress bar on stderr: samples done / total (when the format does not know its
/// sample count, the bytes read / the input's size), samples/s, MB/s and ETA. Redrawn at most 4 times
/// a second, never wider than the terminal, cleared at the end of each pass (and if the pass
/// ends with an error). Only used while stderr is a terminal and `--quiet` is not given.
public final class TerminalProgress: ProgressObserver {
  /// Seconds between redraws.
  public static let interval = 0.25
  /// The sequence that returns to column 0 and clears the line.
  public static let clear = "\r\u{1B}[K"

  private var start = Date()
  private var last = 0.0
  private var inputBytes: Int?
  private var drawn = false
  private let output: Int32

  /// A bar drawn on file descriptor `output` (stderr).
  public init(output: Int32 = 2) { self.output = output }

  /// Whether stderr is a terminal.
  public static var stderrIsTerminal: Bool { isatty(2) != 0 }

  public func begin(pass: String, inputBytes: Int?) {
    start = Date()
    last = 0
    self.inputBytes = inputBytes
  }

  public func update(pass: String, samples: Int, expected: Int?, bytes: Int) {
    let now = Date().timeIntervalSince(start)
    guard now - last >= TerminalProgress.interval else { return }
    last = now
    var line = TerminalProgress.line(
      pass: pass, samples: samples, expected: expected, bytes: bytes, inputBytes: inputBytes, seconds: now)
    if let width = terminalWidth(), width > 1, line.count >= width { line = String(line.prefix(width - 1)) }
    write(TerminalProgress.clear + line)
    drawn = true
  }

  public func finish() {
    if drawn { write(TerminalProgress.clear) }
    drawn = false
  }

  deinit { finish() }

  /// The text of the bar (without the clear sequence). With a known sample count:
  /// `scan [#####---] 1,200/5,000  24%  300 samples/s  2.1 MB/s  ETA 13s`; without one but with the
  /// input's size (CSV), the bar and the ETA follow the bytes read:
  /// `scan [#####---] 1,200 samples  4.2/17.6 MB  24%  300 samples/s  2.1 MB/s  ETA 13s`.
  public static func line(
    pass: String, samples: Int, expected: Int?, bytes: Int, inputBytes: Int?, seconds: Double
  ) -> String {
    let rate = seconds > 0 ? Double(samples) / seconds : 0
    let byteRate = seconds > 0 ? Double(bytes) / seconds : 0
    var line = pass
    var eta: Double? = nil
    func bar(_ fraction: Double) -> String {
      let width = 24
      let filled = Swift.max(0, Swift.min(width, Int(fraction * Double(width))))
      return " [" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
    }
    if let expected, expected > 0 {
      let fraction = Swift.min(1, Double(samples) / Double(expected))
      line += bar(fraction) + "\(group(samples))/\(group(expected)) " + String(cFormat: "%3.0f%%", fraction * 100)
      if rate > 0 { eta = Double(Swift.max(0, expected - samples)) / rate }
    } else if let inputBytes, inputBytes > 0 {
      let fraction = Swift.min(1, Double(bytes) / Double(inputBytes))
      line += bar(fraction) + "\(group(samples)) samples  \(megabytes(bytes, of: inputBytes))/\(megabytes(inputBytes, of: inputBytes)) MB "
      line += String(cFormat: "%3.0f%%", fraction * 100)
      if byteRate > 0 { eta = Double(Swift.max(0, inputBytes - bytes)) / byteRate }
    } else {
      line += ": \(group(samples)) samples"
    }
    line += "  \(group(Int(rate.rounded()))) samples/s  " + String(cFormat: "%.1f MB/s", byteRate / 1e6)
    if let eta { line += "  ETA " + duration(eta) }
    return line
  }

  /// Megabytes with one decimal below 100 MB of `total`, none above.
  static func megabytes(_ bytes: Int, of total: Int) -> String {
    String(cFormat: total >= 100_000_000 ? "%.0f" : "%.1f", Double(bytes) / 1e6)
  }

  /// 1234567 -> "1,234,567".
  static func group(_ n: Int) -> String {
    let digits = String(Swift.abs(n))
    var out = n < 0 ? "-" : ""
    for (i, c) in digits.enumerated() {
      if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
      out.append(c)
    }
    return out
  }

  /// 75 -> "1m15s".
  static func duration(_ seconds: Double) -> String {
    let s = Int(seconds.rounded(.up))
    if s < 60 { return "\(s)s" }
    func twoDigits(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }  // String(format: "%02d")
    if s < 3600 { return "\(s / 60)m\(twoDigits(s % 60))s" }
    return "\(s / 3600)h\(twoDigits(s / 60 % 60))m"
  }

  private func terminalWidth() -> Int? {
    var size = winsize()
    if ioctl(output, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
    if let columns = Machine.environment("COLUMNS").flatMap(Int.init), columns > 0 { return columns }
    return nil
  }

  private func write(_ text: String) {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
      let n = bytes.withUnsafeBytes { Glibc.write(output, $0.baseAddress! + offset, $0.count - offset) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { return }
      offset += n
    }
  }
}
