import CHDF5
import DatasanCore

/// How a stored numeric HDF5 type is read into memory.
struct HDF5NumericType {
  /// What the reader yields.
  var elementType: ElementType
  /// The native type `H5Dread` converts to (the stored type's native equivalent; float32 for float16).
  var memoryType: hid_t
  /// Size in bytes of one stored value.
  var storedSize: Int
  /// The stored type in words ("float16", "big-endian int16").
  var stored: String
}

/// Something in a dataset that datasan cannot read: a type ("compound", "string") or a
/// compression filter missing from this libhdf5. `description` says which
/// ("type compound (2 fields)", "compression filter 'lzf' (id 32000), ...").
struct HDF5Unsupported: Error, CustomStringConvertible {
  /// Whether it is the datatype (rather than a filter) that is unsupported.
  var isType: Bool
  var what: String
  var description: String { (isType ? "type " : "") + what }
  static func type(_ what: String) -> HDF5Unsupported { HDF5Unsupported(isType: true, what: what) }
}

/// Mapping between ``ElementType`` and HDF5 datatypes.
enum HDF5Types {
  /// The native (memory) type of `type`.
  static func native(_ type: ElementType) -> hid_t {
    switch type {
    case .uint8: return datasan_h5t_native_uint8()
    case .int8: return datasan_h5t_native_int8()
    case .uint16: return datasan_h5t_native_uint16()
    case .int16: return datasan_h5t_native_int16()
    case .uint32: return datasan_h5t_native_uint32()
    case .int32: return datasan_h5t_native_int32()
    case .uint64: return datasan_h5t_native_uint64()
    case .int64: return datasan_h5t_native_int64()
    case .float32: return datasan_h5t_native_float()
    case .float64: return datasan_h5t_native_double()
    }
  }

  /// The little-endian file type datasan writes for `type` (what h5py writes on x86 and ARM).
  static func file(_ type: ElementType) -> hid_t {
    switch type {
    case .uint8: return datasan_h5t_std_u8le()
    case .int8: return datasan_h5t_std_i8le()
    case .uint16: return datasan_h5t_std_u16le()
    case .int16: return datasan_h5t_std_i16le()
    case .uint32: return datasan_h5t_std_u32le()
    case .int32: return datasan_h5t_std_i32le()
    case .uint64: return datasan_h5t_std_u64le()
    case .int64: return datasan_h5t_std_i64le()
    case .float32: return datasan_h5t_ieee_f32le()
    case .float64: return datasan_h5t_ieee_f64le()
    }
  }

  /// How values of the stored type `type` are read.
  ///
  /// Every integer of 1, 2, 4 or 8 bytes and every float of 2, 4 or 8 bytes, in either
  /// byte order, is read as its native equivalent; float16 is read as float32.
  ///
  /// - Throws: ``HDF5Unsupported`` for any other class or size; ``HDF5Error`` when the library fails.
  static func numeric(_ type: HDF5Datatype) throws -> HDF5NumericType {
    let typeClass = try HDF5.check("H5Tget_class", failsWhen: { $0 == H5T_NO_CLASS }) { H5Tget_class(type.id) }
    let size = Int(try HDF5.check("H5Tget_size", failsWhen: { $0 == 0 }) { H5Tget_size(type.id) })
    let bigEndian = (typeClass == H5T_INTEGER || typeClass == H5T_FLOAT) && HDF5.value({ H5Tget_order(type.id) }) == H5T_ORDER_BE
    let order = bigEndian ? "big-endian " : ""
    switch typeClass {
    case H5T_INTEGER:
      let signed = try HDF5.check("H5Tget_sign", failsWhen: { $0 == H5T_SGN_ERROR }) { H5Tget_sign(type.id) } == H5T_SGN_2
      let element: ElementType
      switch (size, signed) {
      case (1, false): element = .uint8
      case (1, true): element = .int8
      case (2, false): element = .uint16
      case (2, true): element = .int16
      case (4, false): element = .uint32
      case (4, true): element = .int32
      case (8, false): element = .uint64
      case (8, true): element = .int64
      default:
        throw HDF5Unsupported.type("\(order)\(signed ? "" : "unsigned ")\(size * 8)-bit integer")
      }
      return HDF5NumericType(elementType: element, memoryType: native(element), storedSize: size, stored: order + element.rawValue)
    case H5T_FLOAT:
      switch size {
      case 2:
        return HDF5NumericType(elementType: .float32, memoryType: native(.float32), storedSize: 2, stored: order + "float16")
      case 4:
        return HDF5NumericType(elementType: .float32, memoryType: native(.float32), storedSize: 4, stored: order + "float32")
      case 8:
        return HDF5NumericType(elementType: .float64, memoryType: native(.float64), storedSize: 8, stored: order + "float64")
      default:
        throw HDF5Unsupported.type("\(order)\(size * 8)-bit float")
      }
    case H5T_STRING:
      let variable = HDF5.value { H5Tis_variable_str(type.id) } > 0
      throw HDF5Unsupported.type(variable ? "variable-length string" : "string (fixed-length, \(size) bytes)")
    case H5T_VLEN: throw HDF5Unsupported.type("variable-length sequence")
    case H5T_COMPOUND: throw HDF5Unsupported.type("compound (\(HDF5.value { H5Tget_nmembers(type.id) }) fields)")
    case H5T_ENUM: throw HDF5Unsupported.type("enum")
    case H5T_ARRAY: throw HDF5Unsupported.type("array")
    case H5T_OPAQUE: throw HDF5Unsupported.type("opaque")
    case H5T_BITFIELD: throw HDF5Unsupported.type("bitfield")
    case H5T_REFERENCE: throw HDF5Unsupported.type("reference")
    case H5T_TIME: throw HDF5Unsupported.type("time")
    default: throw HDF5Unsupported.type("class \(typeClass.rawValue)")
    }
  }
}
