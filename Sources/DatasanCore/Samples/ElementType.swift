/// The numeric type of the values of a feature tensor, as stored in a ``SampleBatch``.
///
/// Readers keep the on-disk type (converted to native byte order) so that checks read
/// the bytes once and the quarantine can write the original values back unchanged.
public enum ElementType: String, Sendable, CaseIterable, Codable {
  case uint8, int8, uint16, int16, uint32, int32, uint64, int64, float32, float64

  /// Size of one value in bytes.
  public var size: Int {
    switch self {
    case .uint8, .int8: return 1
    case .uint16, .int16: return 2
    case .uint32, .int32, .float32: return 4
    case .uint64, .int64, .float64: return 8
    }
  }

  /// Whether values of this type can be NaN or infinite.
  public var isFloatingPoint: Bool { self == .float32 || self == .float64 }

  /// Whether values of this type are signed integers.
  public var isSignedInteger: Bool {
    switch self {
    case .int8, .int16, .int32, .int64: return true
    default: return false
    }
  }
}

/// A numeric element that checks and statistics can read generically.
///
/// Every conforming type converts to `Double` exactly or with the rounding of a float64.
public protocol FeatureElement: Sendable {
  static var elementType: ElementType { get }
  var doubleValue: Double { get }
}

extension UInt8: FeatureElement {
  public static var elementType: ElementType { .uint8 }
  @inline(__always) public var doubleValue: Double { Double(self) }
}
extension Int8: FeatureElement {
  public static var elementType: ElementType { .int8 }
  @inline(__always) public var doubleValue: Double { Double(self) }
}
extension UInt16: FeatureElement {
  public static var elementType: ElementType { .uint16 }
  @inline(__always) public var doubleValue: Double { Double(self) }
}
extension Int16: FeatureElement {
  public static var elementType: ElementType { .int16 }
  @inline(__always) public var doubleValue: Double { Double(self) }
}
extension UInt32: FeatureElement {
  public static var elementType: ElementType { .uint32 }
  @inline(__always) public var doubleValue: Double { Double(self) }
}
extension Int32: FeatureElement {
  public static var elementType: ElementType { .int32 }
  @inline(__always) public var doubleValue: Double { Double(self) }
}
extension UInt64: FeatureElement {
  public static var elementType: ElementType { .uint64 }
  @inline(__always) public var doubleValue: Double { Double(self) }
}
extension Int64: FeatureElement {
  public static var elementType: ElementType { .int64 }
  @inline(__always) public var doubleValue: Double { Double(self) }
}
extension Float: FeatureElement {
  public static var elementType: ElementType { .float32 }
  @inline(__always) public var doubleValue: Double { Double(self) }
}
extension Double: FeatureElement {
  public static var elementType: ElementType { .float64 }
  @inline(__always) public var doubleValue: Double { self }
}

extension ElementType {
  /// Calls `body` with the Swift type that stores values of this element type.
  @inlinable
  public func withType<R>(_ body: (any FeatureElement.Type) throws -> R) rethrows -> R {
    switch self {
    case .uint8: return try body(UInt8.self)
    case .int8: return try body(Int8.self)
    case .uint16: return try body(UInt16.self)
    case .int16: return try body(Int16.self)
    case .uint32: return try body(UInt32.self)
    case .int32: return try body(Int32.self)
    case .uint64: return try body(UInt64.self)
    case .int64: return try body(Int64.self)
    case .float32: return try body(Float.self)
    case .float64: return try body(Double.self)
    }
  }
}
