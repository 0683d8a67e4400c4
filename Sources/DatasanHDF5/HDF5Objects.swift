import CHDF5
import DatasanCore

// Files, links and dataset creation properties: the lookups the reader and writer share.

extension HDF5Handle where Kind == HDF5FileKind {
  /// Opens an existing file read-only.
  ///
  /// File locking stays on (a writer holding the file makes the open fail) but is skipped
  /// on file systems that do not support it. The corresponding C function is `H5Fopen`.
  static func openReadOnly(_ path: String) throws -> HDF5File {
    let fapl = try HDF5Plist.create(datasan_h5p_file_access())
    try HDF5.call("H5Pset_file_locking") { H5Pset_file_locking(fapl.id, true, true) }
    return try HDF5File("H5Fopen") { H5Fopen(path, datasan_h5f_acc_rdonly(), fapl.id) }
  }

  /// Creates `path`, replacing any file there. The corresponding C function is `H5Fcreate`.
  static func create(_ path: String) throws -> HDF5File {
    try HDF5File("H5Fcreate") {
      H5Fcreate(path, datasan_h5f_acc_trunc(), datasan_h5p_default(), datasan_h5p_default())
    }
  }

  /// The file's size in bytes, when the library knows it.
  var fileSize: UInt64? {
    var size: UInt64 = 0
    guard (try? HDF5.call("H5Fget_filesize", { H5Fget_filesize(id, &size) })) != nil else { return nil }
    return size
  }

  /// Whether every link along `name` ("data", "/train/images") exists.
  ///
  /// With a `confinement`, each external link along the way is checked before it is followed
  /// (its target must be an HDF5 file in the input's folder), and each soft link's target path
  /// is walked the same way. The corresponding C functions are `H5Lexists` (once per path
  /// component: it fails, rather than answering false, when an intermediate group is missing),
  /// `H5Lget_info`, `H5Lget_val` and `H5Lunpack_elink_val`.
  ///
  /// - Throws: ``DatasanError`` for a link that leads outside the folder.
  func linkExists(_ name: String, confinement: HDF5Confinement?, depth: Int = 0) throws -> Bool {
    let absolute = name.hasPrefix("/")
    let parts = name.split(separator: "/", omittingEmptySubsequences: true)
    if parts.isEmpty { return absolute }  // "/" is the root group
    let lapl = try confinement?.accessPlist()
    let laplID = lapl?.id ?? datasan_h5p_default()
    var prefix = absolute ? "/" : ""
    for part in parts {
      let parent = prefix
      prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + part
      let exists = try HDF5.call("H5Lexists") { H5Lexists(id, prefix, laplID) }
      if exists == 0 { return false }
      guard let confinement else { continue }
      var info = H5L_info_t()
      try HDF5.call("H5Lget_info") { H5Lget_info(id, prefix, &info, laplID) }
      if info.type == H5L_TYPE_HARD { continue }
      guard depth < 8 else { throw DatasanError(path: confinement.input, "link '\(prefix)' is a chain of more than 8 links") }
      var value = [UInt8](repeating: 0, count: info.u.val_size + 1)
      try HDF5.call("H5Lget_val") { H5Lget_val(id, prefix, &value, info.u.val_size, laplID) }
      if info.type == H5L_TYPE_SOFT {
        let target = String(decoding: value.prefix { $0 != 0 }, as: UTF8.self)
        let full = target.hasPrefix("/") ? target : (parent.isEmpty ? "" : parent + "/") + target
        if try !linkExists(full, confinement: confinement, depth: depth + 1) { return false }
      } else if info.type == H5L_TYPE_EXTERNAL {
        var flags: UInt32 = 0
        var fileName: UnsafePointer<CChar>? = nil
        var objectPath: UnsafePointer<CChar>? = nil
        try HDF5.call("H5Lunpack_elink_val") { H5Lunpack_elink_val(&value, info.u.val_size, &flags, &fileName, &objectPath) }
        let target = try confinement.resolve(fileName.map { String(cString: $0) } ?? "", what: "link '\(prefix)' points to", hdf5: true)
        // The object in the target file may be reached through further links: walk them too.
        if let objectPath, let targetFile = try? HDF5File.openReadOnly(target) {
          do {
            _ = try targetFile.linkExists(String(cString: objectPath), confinement: confinement, depth: depth + 1)
          } catch is HDF5Error {}  // a broken target: libhdf5 fails to follow it
        }
      } else {
        throw DatasanError(path: confinement.input, "link '\(prefix)' is a user-defined link, which datasan does not follow")
      }
    }
    return true
  }

  /// The kind of object at `name` (group, dataset, named datatype), which must exist.
  ///
  /// The object is not opened: libhdf5 refuses to open a dataset again with other access
  /// prefixes while it is open. The corresponding C function is `H5Oget_info_by_name2`.
  func objectType(_ name: String, access: HDF5Plist? = nil) throws -> H5I_type_t {
    var info = H5O_info_t()
    try HDF5.call("H5Oget_info_by_name2") {
      H5Oget_info_by_name2(id, name, &info, UInt32(H5O_INFO_BASIC), access?.id ?? datasan_h5p_default())
    }
    switch info.type {
    case H5O_TYPE_GROUP: return H5I_GROUP
    case H5O_TYPE_DATASET: return H5I_DATASET
    case H5O_TYPE_NAMED_DATATYPE: return H5I_DATATYPE
    default: return H5I_BADID
    }
  }

  /// Opens the dataset `name`. The corresponding C function is `H5Dopen2`.
  func openDataset(_ name: String, access: HDF5Plist? = nil) throws -> HDF5Dataset {
    try HDF5Dataset("H5Dopen2") { H5Dopen2(id, name, access?.id ?? datasan_h5p_default()) }
  }

  /// The names of the datasets and groups directly under the root (at most `limit` of each).
  ///
  /// The corresponding C function is `H5Literate`.
  func rootMembers(limit: Int = 20) -> (datasets: [String], groups: [String]) {
    let names = HDF5NameList()
    HDF5.ignoringErrors {
      withExtendedLifetime(names) {
        H5Literate(
          id, H5_INDEX_NAME, H5_ITER_INC, nil,
          { _, name, info, context in
            // Only hard links: listing names must not follow a link into another file.
            guard let name, let context, info?.pointee.type == H5L_TYPE_HARD else { return 0 }
            let names = Unmanaged<HDF5NameList>.fromOpaque(context).takeUnretainedValue()
            names.all.append(String(cString: name))
            return names.all.count >= 200 ? 1 : 0
          }, Unmanaged.passUnretained(names).toOpaque())
      }
    }
    var datasets: [String] = []
    var groups: [String] = []
    for name in names.all {
      switch try? objectType(name) {
      case H5I_DATASET where datasets.count < limit: datasets.append(name)
      case H5I_GROUP where groups.count < limit: groups.append(name)
      default: break
      }
    }
    return (datasets, groups)
  }
}

/// Names collected by an iteration callback.
final class HDF5NameList {
  var all: [String] = []
}

/// How a dataset is stored: layout, chunk shape and filters.
struct HDF5Storage {
  /// Chunk dimensions, nil unless the layout is chunked.
  var chunks: [Int]?
  /// Whether the layout is contiguous (not chunked, compact or virtual).
  var contiguous: Bool
  /// Whether the values are stored in external files (`H5Pset_external`).
  var external: Bool
  /// Whether the layout is virtual (values from source datasets).
  var virtual: Bool
  var gzipLevel: Int?
  var shuffle: Bool
  var fletcher32: Bool
  /// The filter pipeline in write order (what `H5Pget_filter2` lists).
  var filters: [HDF5Filter]
  /// Whether a filter of the pipeline may store fewer bytes than it decodes to (anything but
  /// shuffle and fletcher32).
  var compressed: Bool { filters.contains { $0.id != H5Z_FILTER_SHUFFLE && $0.id != H5Z_FILTER_FLETCHER32 } }
  /// Whether partial edge chunks are stored unfiltered (`H5D_CHUNK_DONT_FILTER_PARTIAL_CHUNKS`).
  var partialChunksUnfiltered: Bool

  /// Inspects the creation property list of `dataset` (of rank `rank`).
  ///
  /// - Throws: ``HDF5Unsupported`` when a filter
  ///   of the pipeline is not available in this libhdf5, so that no chunk could be read.
  init(of dataset: HDF5Dataset, rank: Int) throws {
    let plist = try dataset.creationPlist()
    let layout = try HDF5.check("H5Pget_layout", failsWhen: { $0 == H5D_LAYOUT_ERROR }) { H5Pget_layout(plist.id) }
    contiguous = layout == H5D_CONTIGUOUS
    virtual = layout == H5D_VIRTUAL
    external = try HDF5.call("H5Pget_external_count") { H5Pget_external_count(plist.id) } > 0
    chunks = nil
    if layout == H5D_CHUNKED, rank > 0 {
      var dims = [UInt64](repeating: 0, count: rank)
      let n = try HDF5.call("H5Pget_chunk") { H5Pget_chunk(plist.id, Int32(rank), &dims) }
      if Int(n) == rank { chunks = dims.map { Int(clamping: $0) } }
    }
    gzipLevel = nil
    shuffle = false
    fletcher32 = false
    filters = []
    partialChunksUnfiltered = false
    if layout == H5D_CHUNKED {
      var options: UInt32 = 0
      try HDF5.call("H5Pget_chunk_opts") { H5Pget_chunk_opts(plist.id, &options) }
      partialChunksUnfiltered = options & UInt32(H5D_CHUNK_DONT_FILTER_PARTIAL_CHUNKS) != 0
    }
    let count = try HDF5.call("H5Pget_nfilters") { H5Pget_nfilters(plist.id) }
    for index in 0..<UInt32(count) {
      var flags: UInt32 = 0
      var valueCount = 8
      var values = [UInt32](repeating: 0, count: 8)
      var name = [CChar](repeating: 0, count: 64)
      var config: UInt32 = 0
      let filter = try HDF5.call("H5Pget_filter2") {
        H5Pget_filter2(plist.id, index, &flags, &valueCount, &values, name.count, &name, &config)
      }
      filters.append(HDF5Filter(id: filter, flags: flags, values: Array(values.prefix(Swift.min(valueCount, values.count)))))
      switch filter {
      case H5Z_FILTER_DEFLATE: gzipLevel = valueCount > 0 ? Int(values[0]) : 4
      case H5Z_FILTER_SHUFFLE: shuffle = true
      case H5Z_FILTER_FLETCHER32: fletcher32 = true
      default: break
      }
      let available = try HDF5.call("H5Zfilter_avail") { H5Zfilter_avail(filter) }
      if available == 0 {
        let label = String(cString: name)
        throw HDF5Unsupported(
          isType: false, what: "compression filter \(label.isEmpty ? "" : "'\(label)' ")(id \(filter)), which this libhdf5 cannot decode")
      }
    }
  }
}

/// One filter of a dataset's pipeline.
struct HDF5Filter {
  /// The filter's id (`H5Z_FILTER_DEFLATE`, ...).
  var id: H5Z_filter_t
  /// `H5Z_FLAG_OPTIONAL` and the like.
  var flags: UInt32
  /// The client data values (for shuffle: the element size; for deflate: the level).
  var values: [UInt32]
}
