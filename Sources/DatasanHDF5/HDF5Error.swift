import CHDF5

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A failed libhdf5 call, with the library's error stack.
///
/// `reason` is the one line of the stack most useful to a user (the innermost frame's
/// description, e.g. "data error detected by Fletcher32 checksum"); `frames` keeps the
/// whole stack, innermost first, for debugging.
struct HDF5Error: Error, CustomStringConvertible {
  /// One frame of HDF5's error stack.
  struct Frame: Sendable, Equatable {
    var function: String
    var major: String
    var minor: String
    var detail: String
  }

  /// The C function that failed ("H5Dread").
  var operation: String
  /// The stack, innermost (most specific) frame first.
  var frames: [Frame]

  /// The most useful single line of the stack.
  var reason: String {
    guard let inner = frames.first else { return "\(operation) failed" }
    let text = inner.detail.isEmpty ? inner.minor : inner.detail
    return HDF5Error.oneLine(text.isEmpty ? "\(operation) failed" : text)
  }

  /// `reason`, with the well-known causes of unreadable chunks said in plain words.
  var friendlyReason: String {
    let text = reason
    let lower = text.lowercased()
    if lower.contains("fletcher32") { return "checksum error (fletcher32)" }
    if lower.contains("inflate()") { return "gzip data corrupt (\(text))" }
    return text
  }

  var description: String { "\(operation) failed: \(reason)" }

  /// Collapses whitespace and caps the length, so a message stays on one line.
  static func oneLine(_ text: String, limit: Int = 240) -> String {
    let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" })
    var line = words.joined(separator: " ")
    if line.count > limit { line = String(line.prefix(limit - 3)) + "..." }
    return line
  }
}

/// The one choke point every libhdf5 call goes through.
///
/// Before each call it turns off HDF5's automatic printing of the error stack on the
/// calling thread (Debian's thread-safe build keeps that setting per thread, see STYLE.md
/// pitfall 5); after a failed call it walks the error stack into an ``HDF5Error``.
enum HDF5 {
  /// Calls `body` and throws when its result is negative (`hid_t`, `herr_t`, `htri_t`, `ssize_t`).
  @discardableResult
  static func call<T: SignedInteger>(_ operation: StaticString, _ body: () -> T) throws -> T {
    try check(operation, failsWhen: { $0 < 0 }, body)
  }

  /// Calls `body` and throws when `failsWhen` says its result means failure.
  @discardableResult
  static func check<T>(_ operation: StaticString, failsWhen failed: (T) -> Bool, _ body: () -> T) throws -> T {
    silenceErrorPrinting()
    let result = body()
    if failed(result) { throw HDF5Error(operation: "\(operation)", frames: takeErrorStack()) }
    return result
  }

  /// Calls `body` whose result encodes failure in a way the caller checks itself (an
  /// enum's error case, `HADDR_UNDEF`), with error printing silenced.
  static func value<T>(_ body: () -> T) -> T {
    silenceErrorPrinting()
    return body()
  }

  /// Calls `body` for its side effect, ignoring failure (closing in `deinit`, `abort()`).
  static func ignoringErrors<T>(_ body: () -> T) {
    silenceErrorPrinting()
    _ = body()
    _ = H5Eclear2(datasan_h5e_default())
  }

  /// Turns off HDF5's error printing on the current thread, once per thread.
  static func silenceErrorPrinting() {
    let key = threadKey.key
    if pthread_getspecific(key) != nil { return }
    _ = H5Eset_auto2(datasan_h5e_default(), nil, nil)
    _ = pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
  }

  /// The current thread's error stack as frames, innermost first; clears the stack.
  static func takeErrorStack() -> [HDF5Error.Frame] {
    let stack = H5Eget_current_stack()
    guard stack >= 0 else { return [] }
    defer { _ = H5Eclose_stack(stack) }
    let box = FrameBox()
    withExtendedLifetime(box) {
      _ = H5Ewalk2(
        stack, H5E_WALK_UPWARD,
        { _, errorPointer, context in
          guard let error = errorPointer?.pointee, let context else { return 0 }
          let box = Unmanaged<FrameBox>.fromOpaque(context).takeUnretainedValue()
          box.frames.append(
            HDF5Error.Frame(
              function: error.func_name.map { String(cString: $0) } ?? "?",
              major: HDF5.message(error.maj_num), minor: HDF5.message(error.min_num),
              detail: error.desc.map { String(cString: $0) } ?? ""))
          return 0
        }, Unmanaged.passUnretained(box).toOpaque())
    }
    return box.frames
  }

  /// The text of an HDF5 error message id (a major or minor error number).
  static func message(_ id: hid_t) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    let length = buffer.withUnsafeMutableBufferPointer { H5Eget_msg(id, nil, $0.baseAddress, $0.count) }
    guard length > 0 else { return "" }
    return String(cString: buffer)
  }

  private final class FrameBox {
    var frames: [HDF5Error.Frame] = []
  }

  /// A pthread key whose per-thread value says "errors already silenced here".
  private final class ThreadKey: Sendable {
    let key: pthread_key_t
    init() {
      var key = pthread_key_t()
      _ = pthread_key_create(&key, nil)
      self.key = key
    }
  }
  private static let threadKey = ThreadKey()
}
