#if canImport(Glibc)
import Glibc
#endif
import CHDF5

/// Attributes of an HDF5 object (a dataset or group id): UTF-8 strings and float64 arrays.
struct HDF5Attributes {
  /// The object the attributes belong to (not owned).
  let object: hid_t

  /// Writes a variable-length UTF-8 string attribute (h5py reads it as `str`).
  ///
  /// The corresponding C functions are `H5Acreate2` and `H5Awrite`.
  func write(_ name: String, string value: String) throws {
    let type = try HDF5Datatype("H5Tcopy") { H5Tcopy(datasan_h5t_c_s1()) }
    try HDF5.call("H5Tset_size") { H5Tset_size(type.id, datasan_h5t_variable()) }
    try HDF5.call("H5Tset_cset") { H5Tset_cset(type.id, H5T_CSET_UTF8) }
    let space = try HDF5Dataspace("H5Screate") { H5Screate(H5S_SCALAR) }
    let attribute = try HDF5Attribute("H5Acreate2") {
      H5Acreate2(object, name, type.id, space.id, datasan_h5p_default(), datasan_h5p_default())
    }
    try value.withCString { chars in
      var pointer: UnsafePointer<CChar>? = chars
      try HDF5.call("H5Awrite") { H5Awrite(attribute.id, type.id, &pointer) }
    }
    try attribute.close()
  }

  /// Writes a one-dimensional attribute of variable-length UTF-8 strings (h5py reads it as an
  /// array of `str`; `list(...)` is a list of str).
  ///
  /// The corresponding C functions are `H5Acreate2` and `H5Awrite`.
  func write(_ name: String, strings values: [String]) throws {
    let type = try HDF5Datatype("H5Tcopy") { H5Tcopy(datasan_h5t_c_s1()) }
    try HDF5.call("H5Tset_size") { H5Tset_size(type.id, datasan_h5t_variable()) }
    try HDF5.call("H5Tset_cset") { H5Tset_cset(type.id, H5T_CSET_UTF8) }
    let space = try HDF5Dataspace.simple([UInt64(values.count)])
    let attribute = try HDF5Attribute("H5Acreate2") {
      H5Acreate2(object, name, type.id, space.id, datasan_h5p_default(), datasan_h5p_default())
    }
    let copies = values.map { strdup($0) }
    defer { for c in copies { free(c) } }
    var pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
    if !values.isEmpty {
      try pointers.withUnsafeMutableBufferPointer { p in
        try HDF5.call("H5Awrite") { H5Awrite(attribute.id, type.id, p.baseAddress) }
      }
    }
    try attribute.close()
  }

  /// Reads a one-dimensional attribute of strings (variable- or fixed-length, as h5py writes a list
  /// of `str` or a NumPy `S` array); nil when it is not one, or holds more than `limit` strings.
  func strings(_ name: String, limit: Int = 1 << 20) throws -> [String]? {
    let attribute = try HDF5Attribute("H5Aopen") { H5Aopen(object, name, datasan_h5p_default()) }
    let stored = try HDF5Datatype("H5Aget_type") { H5Aget_type(attribute.id) }
    guard HDF5.value({ H5Tget_class(stored.id) }) == H5T_STRING else { return nil }
    let space = try HDF5Dataspace("H5Aget_space") { H5Aget_space(attribute.id) }
    guard HDF5.value({ H5Sget_simple_extent_ndims(space.id) }) == 1 else { return nil }
    let count = try HDF5.call("H5Sget_simple_extent_npoints") { H5Sget_simple_extent_npoints(space.id) }
    guard count >= 0, count <= limit else { return nil }
    let n = Int(count)
    if n == 0 { return [] }
    if HDF5.value({ H5Tis_variable_str(stored.id) }) > 0 {
      let type = try HDF5Datatype("H5Tcopy") { H5Tcopy(datasan_h5t_c_s1()) }
      try HDF5.call("H5Tset_size") { H5Tset_size(type.id, datasan_h5t_variable()) }
      try HDF5.call("H5Tset_cset") { H5Tset_cset(type.id, HDF5.value { H5Tget_cset(stored.id) }) }
      var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: n)
      try pointers.withUnsafeMutableBufferPointer { p in
        try HDF5.call("H5Aread") { H5Aread(attribute.id, type.id, p.baseAddress) }
      }
      defer { for p in pointers { if let p { HDF5.ignoringErrors { H5free_memory(p) } } } }
      return pointers.map { $0.map { String(cString: $0) } ?? "" }
    }
    let size = try HDF5.check("H5Tget_size", failsWhen: { $0 == 0 }) { H5Tget_size(stored.id) }
    guard size <= 1 << 16 else { return nil }
    var bytes = [UInt8](repeating: 0, count: size * n)
    try HDF5.call("H5Aread") { H5Aread(attribute.id, stored.id, &bytes) }
    return (0..<n).map { i in
      let field = bytes[(i * size)..<((i + 1) * size)]
      return String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }
  }

  /// Writes a one-dimensional float64 attribute (`values.count` may be 0).
  ///
  /// The corresponding C functions are `H5Acreate2` and `H5Awrite`.
  func write(_ name: String, doubles values: [Double]) throws {
    let space = try HDF5Dataspace.simple([UInt64(values.count)])
    let attribute = try HDF5Attribute("H5Acreate2") {
      H5Acreate2(object, name, datasan_h5t_ieee_f64le(), space.id, datasan_h5p_default(), datasan_h5p_default())
    }
    if !values.isEmpty {
      _ = try values.withUnsafeBytes { raw in
        try HDF5.call("H5Awrite") { H5Awrite(attribute.id, datasan_h5t_native_double(), raw.baseAddress) }
      }
    }
    try attribute.close()
  }

  /// Whether the attribute `name` exists. The corresponding C function is `H5Aexists`.
  func exists(_ name: String) throws -> Bool {
    try HDF5.call("H5Aexists") { H5Aexists(object, name) } > 0
  }

  /// Reads a string attribute (variable- or fixed-length).
  func string(_ name: String) throws -> String {
    let attribute = try HDF5Attribute("H5Aopen") { H5Aopen(object, name, datasan_h5p_default()) }
    let stored = try HDF5Datatype("H5Aget_type") { H5Aget_type(attribute.id) }
    guard HDF5.value({ H5Tget_class(stored.id) }) == H5T_STRING else { throw HDF5Unsupported.type("non-string attribute '\(name)'") }
    if HDF5.value({ H5Tis_variable_str(stored.id) }) > 0 {
      let type = try HDF5Datatype("H5Tcopy") { H5Tcopy(datasan_h5t_c_s1()) }
      try HDF5.call("H5Tset_size") { H5Tset_size(type.id, datasan_h5t_variable()) }
      try HDF5.call("H5Tset_cset") { H5Tset_cset(type.id, HDF5.value { H5Tget_cset(stored.id) }) }
      var pointer: UnsafeMutablePointer<CChar>? = nil
      try HDF5.call("H5Aread") { H5Aread(attribute.id, type.id, &pointer) }
      guard let pointer else { return "" }
      defer { HDF5.ignoringErrors { H5free_memory(pointer) } }
      return String(cString: pointer)
    }
    let size = try HDF5.check("H5Tget_size", failsWhen: { $0 == 0 }) { H5Tget_size(stored.id) }
    var bytes = [CChar](repeating: 0, count: size + 1)
    try HDF5.call("H5Aread") { H5Aread(attribute.id, stored.id, &bytes) }
    return String(cString: bytes)
  }

  /// Reads a numeric attribute as float64 values (in storage order).
  func doubles(_ name: String) throws -> [Double] {
    let attribute = try HDF5Attribute("H5Aopen") { H5Aopen(object, name, datasan_h5p_default()) }
    let space = try HDF5Dataspace("H5Aget_space") { H5Aget_space(attribute.id) }
    let count = try HDF5.call("H5Sget_simple_extent_npoints") { H5Sget_simple_extent_npoints(space.id) }
    guard count > 0, count < 1 << 24 else { return [] }
    var values = [Double](repeating: 0, count: Int(count))
    _ = try values.withUnsafeMutableBytes { raw in
      try HDF5.call("H5Aread") { H5Aread(attribute.id, datasan_h5t_native_double(), raw.baseAddress) }
    }
    return values
  }
}
