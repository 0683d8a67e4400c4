import CHDF5
import Foundation

/// Reads an HDF5 output back with plain libhdf5 calls, independently of datasan's reader.
enum HDF5ReadBack {
  struct Dataset {
    var dims: [Int]
    var values: [Double]
    /// "float" or "integer", and the size in bytes, of the stored type.
    var typeClass: String
    var typeSize: Int
    var chunks: [Int]?
    var gzip: Bool
  }

  static func read(_ path: String, _ name: String) -> Dataset? {
    _ = H5Eset_auto2(datasan_h5e_default(), nil, nil)
    let file = H5Fopen(path, datasan_h5f_acc_rdonly(), datasan_h5p_default())
    guard file >= 0 else { return nil }
    defer { H5Fclose(file) }
    let ds = H5Dopen2(file, name, datasan_h5p_default())
    guard ds >= 0 else { return nil }
    defer { H5Dclose(ds) }
    let space = H5Dget_space(ds)
    defer { H5Sclose(space) }
    let rank = Int(H5Sget_simple_extent_ndims(space))
    var dims = [hsize_t](repeating: 0, count: rank)
    H5Sget_simple_extent_dims(space, &dims, nil)
    let type = H5Dget_type(ds)
    defer { H5Tclose(type) }
    let cls = H5Tget_class(type)
    let size = H5Tget_size(type)
    let n = dims.reduce(1) { $0 * Int($1) }
    var values = [Double](repeating: 0, count: n)
    if n > 0 {
      let status = values.withUnsafeMutableBytes {
        H5Dread(ds, datasan_h5t_native_double(), datasan_h5s_all(), datasan_h5s_all(), datasan_h5p_default(), $0.baseAddress)
      }
      guard status >= 0 else { return nil }
    }
    let dcpl = H5Dget_create_plist(ds)
    defer { H5Pclose(dcpl) }
    var chunks: [Int]? = nil
    if H5Pget_layout(dcpl) == H5D_CHUNKED {
      var c = [hsize_t](repeating: 0, count: rank)
      H5Pget_chunk(dcpl, Int32(rank), &c)
      chunks = c.map { Int($0) }
    }
    var gzip = false
    for i in 0..<H5Pget_nfilters(dcpl) {
      var flags: UInt32 = 0
      var nelmts = 0
      var cd = [UInt32](repeating: 0, count: 8)
      var name = [CChar](repeating: 0, count: 64)
      var config: UInt32 = 0
      if H5Pget_filter2(dcpl, UInt32(i), &flags, &nelmts, &cd, 64, &name, &config) == H5Z_FILTER_DEFLATE { gzip = true }
    }
    return Dataset(
      dims: dims.map { Int($0) }, values: values, typeClass: cls == H5T_FLOAT ? "float" : (cls == H5T_INTEGER ? "integer" : "other"),
      typeSize: size, chunks: chunks, gzip: gzip)
  }

  static func hasAttribute(_ path: String, _ dataset: String, _ attribute: String) -> Bool {
    _ = H5Eset_auto2(datasan_h5e_default(), nil, nil)
    let file = H5Fopen(path, datasan_h5f_acc_rdonly(), datasan_h5p_default())
    guard file >= 0 else { return false }
    defer { H5Fclose(file) }
    return H5Aexists_by_name(file, dataset, attribute, datasan_h5p_default()) > 0
  }
}
