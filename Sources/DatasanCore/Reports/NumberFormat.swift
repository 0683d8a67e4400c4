import CDatasanKernels

extension String {
  /// Foundation's `String(format: format, value)` for one Double: the same text (C's snprintf;
  /// `format` holds one conversion, e.g. "%.6g"), without the CVarArg boxing that costs a process
  /// 0.9 M instructions the first time (CDatasanKernels.h).
  public init(cFormat format: String, _ value: Double) {
    var buffer = [CChar](repeating: 0, count: 64)
    let needed = Int(datasan_format_double(&buffer, buffer.count, format, value))
    if needed >= buffer.count {  // %f of a large number
      buffer = [CChar](repeating: 0, count: needed + 1)
      _ = datasan_format_double(&buffer, buffer.count, format, value)
    }
    self = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
