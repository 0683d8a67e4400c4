import CHDF5

/// What kind of object an ``HDF5Handle`` owns, and how to close it.
protocol HDF5HandleKind {
  /// A name for messages ("dataset").
  static var name: String { get }
  /// The name of the kind's close function, for errors ("H5Dclose").
  static var closeFunction: StaticString { get }
  /// The kind's close function.
  static func close(_ id: hid_t) -> herr_t
}

enum HDF5FileKind: HDF5HandleKind {
  static var name: String { "file" }
  static var closeFunction: StaticString { "H5Fclose" }
  static func close(_ id: hid_t) -> herr_t { H5Fclose(id) }
}
enum HDF5DatasetKind: HDF5HandleKind {
  static var name: String { "dataset" }
  static var closeFunction: StaticString { "H5Dclose" }
  static func close(_ id: hid_t) -> herr_t { H5Dclose(id) }
}
enum HDF5DataspaceKind: HDF5HandleKind {
  static var name: String { "dataspace" }
  static var closeFunction: StaticString { "H5Sclose" }
  static func close(_ id: hid_t) -> herr_t { H5Sclose(id) }
}
enum HDF5DatatypeKind: HDF5HandleKind {
  static var name: String { "datatype" }
  static var closeFunction: StaticString { "H5Tclose" }
  static func close(_ id: hid_t) -> herr_t { H5Tclose(id) }
}
enum HDF5PlistKind: HDF5HandleKind {
  static var name: String { "property list" }
  static var closeFunction: StaticString { "H5Pclose" }
  static func close(_ id: hid_t) -> herr_t { H5Pclose(id) }
}
enum HDF5AttributeKind: HDF5HandleKind {
  static var name: String { "attribute" }
  static var closeFunction: StaticString { "H5Aclose" }
  static func close(_ id: hid_t) -> herr_t { H5Aclose(id) }
}
/// Any object opened with `H5Oopen` (group, dataset or named datatype).
enum HDF5ObjectKind: HDF5HandleKind {
  static var name: String { "object" }
  static var closeFunction: StaticString { "H5Oclose" }
  static func close(_ id: hid_t) -> herr_t { H5Oclose(id) }
}

/// An owned HDF5 identifier of one kind, closed by ``close()`` or in `deinit`.
///
/// Using a handle after closing it is a programming error and traps.
final class HDF5Handle<Kind: HDF5HandleKind> {
  private var _id: hid_t

  /// Takes ownership of `id` (which must be valid).
  init(owning id: hid_t) { _id = id }

  /// Calls `body` through the choke point and owns the identifier it returns.
  ///
  /// - Throws: ``HDF5Error`` when `body` returns a negative identifier.
  convenience init(_ operation: StaticString, _ body: () -> hid_t) throws {
    self.init(owning: try HDF5.call(operation, body))
  }

  /// The raw identifier for a C call.
  var id: hid_t {
    precondition(_id >= 0, "use of a closed HDF5 \(Kind.name)")
    return _id
  }

  /// Whether the handle is still open.
  var isOpen: Bool { _id >= 0 }

  /// Closes the identifier; a second call does nothing.
  ///
  /// - Throws: ``HDF5Error`` when the library reports a failure (for a file: the flush failed).
  func close() throws {
    guard _id >= 0 else { return }
    let id = _id
    _id = -1
    try HDF5.call(Kind.closeFunction) { Kind.close(id) }
  }

  /// Closes the identifier, ignoring any failure.
  func closeQuietly() {
    guard _id >= 0 else { return }
    let id = _id
    _id = -1
    HDF5.ignoringErrors { Kind.close(id) }
  }

  deinit { closeQuietly() }
}

typealias HDF5File = HDF5Handle<HDF5FileKind>
typealias HDF5Dataset = HDF5Handle<HDF5DatasetKind>
typealias HDF5Dataspace = HDF5Handle<HDF5DataspaceKind>
typealias HDF5Datatype = HDF5Handle<HDF5DatatypeKind>
typealias HDF5Plist = HDF5Handle<HDF5PlistKind>
typealias HDF5Attribute = HDF5Handle<HDF5AttributeKind>
typealias HDF5Object = HDF5Handle<HDF5ObjectKind>

// MARK: - Dataspaces

extension HDF5Handle where Kind == HDF5DataspaceKind {
  /// A simple dataspace of `dims` (and `maxdims`, default fixed).
  ///
  /// The corresponding C function is `H5Screate_simple`.
  static func simple(_ dims: [UInt64], maxdims: [UInt64]? = nil) throws -> HDF5Dataspace {
    try HDF5Dataspace("H5Screate_simple") {
      dims.withUnsafeBufferPointer { d in
        if let maxdims {
          return maxdims.withUnsafeBufferPointer { m in H5Screate_simple(Int32(dims.count), d.baseAddress, m.baseAddress) }
        }
        return H5Screate_simple(Int32(dims.count), d.baseAddress, nil)
      }
    }
  }

  /// The class of the dataspace (scalar, simple, null).
  var extentType: H5S_class_t { HDF5.value { H5Sget_simple_extent_type(id) } }

  /// The current dimensions. The corresponding C function is `H5Sget_simple_extent_dims`.
  ///
  /// - Throws: ``HDF5Error`` also when a dimension exceeds its maximum (corrupt metadata that
  ///   libhdf5 1.12+ refuses when it decodes the dataspace and 1.10 accepts: the fuzzer's
  ///   `hdf5/timeout-0d40...` claimed 5.7e18 rows of at most 40, and reading them never ended).
  func dims() throws -> [UInt64] {
    let rank = Int(try HDF5.call("H5Sget_simple_extent_ndims") { H5Sget_simple_extent_ndims(id) })
    guard rank > 0 else { return [] }
    var dims = [UInt64](repeating: 0, count: rank)
    var maxdims = [UInt64](repeating: 0, count: rank)
    try HDF5.call("H5Sget_simple_extent_dims") { H5Sget_simple_extent_dims(id, &dims, &maxdims) }
    // H5S_UNLIMITED is (hsize_t)-1, i.e. UInt64.max: never exceeded.
    if let axis = dims.indices.first(where: { dims[$0] > maxdims[$0] }) {
      let detail = "dataspace dim \(axis) size of \(dims[axis]) is greater than its maximum \(maxdims[axis]) (corrupt)"
      throw HDF5Error(
        operation: "H5Sget_simple_extent_dims", frames: [.init(function: "", major: "", minor: "", detail: detail)])
    }
    return dims
  }

  /// Selects rows `start ..< start + count` along axis 0 and everything along the other axes.
  ///
  /// The corresponding C function is `H5Sselect_hyperslab`.
  func selectRows(start: Int, count: Int, otherDims: [UInt64]) throws {
    let offsets = [UInt64(start)] + [UInt64](repeating: 0, count: otherDims.count)
    let counts = [UInt64(count)] + otherDims
    try HDF5.call("H5Sselect_hyperslab") {
      H5Sselect_hyperslab(id, H5S_SELECT_SET, offsets, nil, counts, nil)
    }
  }
}

// MARK: - Datasets

extension HDF5Handle where Kind == HDF5DatasetKind {
  /// The dataset's dataspace. The corresponding C function is `H5Dget_space`.
  func space() throws -> HDF5Dataspace { try HDF5Dataspace("H5Dget_space") { H5Dget_space(id) } }

  /// The dataset's stored datatype. The corresponding C function is `H5Dget_type`.
  func type() throws -> HDF5Datatype { try HDF5Datatype("H5Dget_type") { H5Dget_type(id) } }

  /// The dataset's creation property list. The corresponding C function is `H5Dget_create_plist`.
  func creationPlist() throws -> HDF5Plist { try HDF5Plist("H5Dget_create_plist") { H5Dget_create_plist(id) } }

  /// Reads the selection of `fileSpace` into `buffer`, laid out as `memorySpace`, converted to `memoryType`.
  ///
  /// The corresponding C function is `H5Dread`.
  func read(
    memoryType: hid_t, memorySpace: HDF5Dataspace, fileSpace: HDF5Dataspace, into buffer: UnsafeMutableRawPointer
  ) throws {
    try HDF5.call("H5Dread") {
      H5Dread(id, memoryType, memorySpace.id, fileSpace.id, datasan_h5p_default(), buffer)
    }
  }

  /// Writes `buffer` (laid out as `memorySpace`, of `memoryType`) to the selection of `fileSpace`.
  ///
  /// The corresponding C function is `H5Dwrite`.
  func write(
    memoryType: hid_t, memorySpace: HDF5Dataspace, fileSpace: HDF5Dataspace, from buffer: UnsafeRawPointer
  ) throws {
    try HDF5.call("H5Dwrite") {
      H5Dwrite(id, memoryType, memorySpace.id, fileSpace.id, datasan_h5p_default(), buffer)
    }
  }

  /// Changes the dataset's current dimensions. The corresponding C function is `H5Dset_extent`.
  func setExtent(_ dims: [UInt64]) throws {
    try HDF5.call("H5Dset_extent") { H5Dset_extent(id, dims) }
  }

  /// Bytes the chunk whose first element is at `offset` (one coordinate per axis) occupies in
  /// the file, 0 when it was never written. The corresponding C function is `H5Dget_chunk_storage_size`.
  func chunkStorageSize(at offset: UnsafePointer<UInt64>) throws -> UInt64 {
    var bytes: UInt64 = 0
    try HDF5.call("H5Dget_chunk_storage_size") { H5Dget_chunk_storage_size(id, offset, &bytes) }
    return bytes
  }

  /// Copies the stored (still filtered) bytes of the chunk at `offset` into `buffer`, which holds
  /// at least ``chunkStorageSize(at:)`` bytes; returns the chunk's filter mask (bit i set: filter i
  /// of the pipeline was skipped). The corresponding C function is `H5Dread_chunk`.
  func readChunk(at offset: UnsafePointer<UInt64>, into buffer: UnsafeMutableRawPointer) throws -> UInt32 {
    var mask: UInt32 = 0
    try HDF5.call("H5Dread_chunk") { H5Dread_chunk(id, datasan_h5p_default(), offset, &mask, buffer) }
    return mask
  }

  /// Bytes the dataset occupies in the file (0 when unknown).
  var storageSize: UInt64 {
    var size: UInt64 = 0
    HDF5.ignoringErrors { size = H5Dget_storage_size(id) }
    return size
  }
}

// MARK: - Property lists

extension HDF5Handle where Kind == HDF5PlistKind {
  /// A new property list of `plistClass` (e.g. `datasan_h5p_dataset_create()`).
  ///
  /// The corresponding C function is `H5Pcreate`.
  static func create(_ plistClass: hid_t) throws -> HDF5Plist {
    try HDF5Plist("H5Pcreate") { H5Pcreate(plistClass) }
  }
}
