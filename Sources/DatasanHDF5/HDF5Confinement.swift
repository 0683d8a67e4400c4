import CHDF5
import DatasanCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Keeps libhdf5 inside the input's folder.
///
/// An HDF5 file can make the library read other files: a dataset's external storage (raw values
/// in any file, `/dev/zero` included), external links (an object in another HDF5 file) and the
/// sources of a virtual dataset. datasan runs on files from pull requests, so each of these is
/// followed only to a regular file inside the input's folder (or below it), symlinks and `..`
/// resolved; anything else is refused with one line naming the input and the offending path,
/// before libhdf5 opens it.
///
/// What is checked is what libhdf5 then opens: the library is told to look for external storage,
/// virtual sources and link targets in that folder first (``accessPlist()``), and the environment
/// variables that would override this are cleared. External links and virtual sources must also be
/// HDF5 files, because libhdf5 tries other directories (the working one) when a target fails to open.
struct HDF5Confinement {
  /// The input as given, for messages.
  let input: String
  /// The input's folder, symlinks resolved, without a trailing "/".
  let folder: String

  /// The environment variables with which libhdf5 overrides the prefixes of ``accessPlist()``.
  static let overridingVariables = ["HDF5_EXTFILE_PREFIX", "HDF5_VDS_PREFIX", "HDF5_EXT_PREFIX"]

  init(input: String) throws {
    self.input = input
    guard let real = HDF5Confinement.realPath(input) else {
      throw DatasanError(path: input, "cannot resolve the path: \(String(cString: strerror(errno)))")
    }
    let slash = real.lastIndex(of: "/").map { real[..<$0] } ?? ""
    folder = slash.isEmpty ? "/" : String(slash)
    // Only when set: changing the environment races with threads reading it.
    for name in HDF5Confinement.overridingVariables where getenv(name) != nil { unsetenv(name) }
  }

  /// The regular file inside the folder that `name` (as the file stores it: absolute, or
  /// relative to the input's folder) names, or a one-line error that says `what` points there.
  ///
  /// - Parameter hdf5: the target is opened as an HDF5 file (an external link, a virtual
  ///   source): it must carry the HDF5 signature.
  @discardableResult
  func resolve(_ name: String, what: String, hdf5: Bool = false) throws -> String {
    func refuse(_ why: String) -> DatasanError {
      DatasanError(path: input, "\(what) '\(HDF5Error.oneLine(name))', \(why); datasan follows only regular files in the input's folder")
    }
    let joined = name.hasPrefix("/") ? name : folder + (folder.hasSuffix("/") ? "" : "/") + name
    guard let real = HDF5Confinement.realPath(joined) else { throw refuse("which does not exist") }
    let inside = folder == "/" || real.hasPrefix(folder + "/")
    guard inside else { throw refuse("outside the input's folder") }
    var info = stat()
    guard stat(real, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { throw refuse("which is not a regular file") }
    if hdf5, !HDF5Format.looksLikeHDF5(path: real) { throw refuse("which is not an HDF5 file") }
    return real
  }

  /// A dataset access (and link access) property list under which libhdf5 looks for external
  /// storage, virtual sources and external link targets in the input's folder.
  ///
  /// The corresponding C functions are `H5Pset_efile_prefix`, `H5Pset_virtual_prefix` and
  /// `H5Pset_elink_prefix` (which keep a pointer to the string: the plist must not outlive this value).
  func accessPlist() throws -> HDF5Plist {
    let dapl = try HDF5Plist.create(datasan_h5p_dataset_access())
    let prefix = HDF5Confinement.lasting(folder)
    try HDF5.call("H5Pset_efile_prefix") { H5Pset_efile_prefix(dapl.id, prefix) }
    try HDF5.call("H5Pset_virtual_prefix") { H5Pset_virtual_prefix(dapl.id, prefix) }
    try HDF5.call("H5Pset_elink_prefix") { H5Pset_elink_prefix(dapl.id, prefix) }
    return dapl
  }

  /// A C copy of `folder` that lives as long as the process (one per folder): some of libhdf5's
  /// prefix properties keep the caller's pointer.
  private static func lasting(_ folder: String) -> UnsafePointer<CChar> {
    prefixes.lock.lock()
    defer { prefixes.lock.unlock() }
    if let kept = prefixes.byFolder[folder] { return kept }
    let copy = UnsafePointer(strdup(folder)!)
    prefixes.byFolder[folder] = copy
    return copy
  }

  /// `@unchecked Sendable`: `byFolder` is read and written under `lock` only; its C strings are
  /// never written or freed (HDF5 keeps the pointers). The compiler cannot tie the field to the lock.
  private final class Prefixes: @unchecked Sendable {
    let lock = Lock()
    var byFolder: [String: UnsafePointer<CChar>] = [:]
  }
  private static let prefixes = Prefixes()

  /// Refuses a dataset whose values live outside the folder: external storage files, and the
  /// sources of a virtual dataset (checked in turn, `depth` levels deep).
  ///
  /// - Returns: for external storage, the bytes its files actually hold (each file's size past
  ///   its offset, at most its declared size); nil for any other layout.
  @discardableResult
  func checkStorage(of dataset: HDF5Dataset, name: String, depth: Int = 0) throws -> UInt64? {
    let plist = try dataset.creationPlist()
    let external = try HDF5.call("H5Pget_external_count") { H5Pget_external_count(plist.id) }
    var externalBytes: UInt64 = 0
    for index in 0..<UInt32(external) {
      var buffer = [CChar](repeating: 0, count: 4097)
      var offset = off_t()
      var size: UInt64 = 0
      try HDF5.call("H5Pget_external") { H5Pget_external(plist.id, index, buffer.count - 1, &buffer, &offset, &size) }
      let path = try resolve(String(cString: buffer), what: "dataset '\(name)' stores its values in")
      var info = stat()
      if stat(path, &info) == 0, info.st_size > offset, offset >= 0 {
        let (sum, overflow) = externalBytes.addingReportingOverflow(Swift.min(size, UInt64(info.st_size - offset)))
        externalBytes = overflow ? .max : sum
      }
    }
    let layout = HDF5.value { H5Pget_layout(plist.id) }
    guard layout == H5D_VIRTUAL else { return external > 0 ? externalBytes : nil }
    guard depth < 4 else {
      throw DatasanError(path: input, "dataset '\(name)' is a virtual dataset of virtual datasets more than 4 levels deep")
    }
    var count = 0
    try HDF5.call("H5Pget_virtual_count") { H5Pget_virtual_count(plist.id, &count) }
    for index in 0..<count {
      let file = try HDF5Confinement.string("H5Pget_virtual_filename") { H5Pget_virtual_filename(plist.id, index, $0, $1) }
      let source = try HDF5Confinement.string("H5Pget_virtual_dsetname") { H5Pget_virtual_dsetname(plist.id, index, $0, $1) }
      // The source dataset may itself point further: open it as libhdf5 will, and check it too.
      let sourceFile: HDF5File
      if file == "." {  // a dataset of the same file
        guard let same = try? HDF5File("H5Iget_file_id", { H5Iget_file_id(dataset.id) }) else { continue }
        sourceFile = same
      } else {
        let path = try resolve(file, what: "virtual dataset '\(name)' reads from", hdf5: true)
        do { sourceFile = try HDF5File.openReadOnly(path) } catch { continue }  // libhdf5 reads the fill value
      }
      let exists: Bool
      do { exists = try sourceFile.linkExists(source, confinement: self) } catch is HDF5Error { exists = false }
      guard exists, let dataset = try? sourceFile.openDataset(source, access: accessPlist()) else { continue }
      try checkStorage(of: dataset, name: "\(file):\(source)", depth: depth + 1)
    }
    return nil
  }

  /// A string a libhdf5 function returns by the two-call protocol (`(buffer, size) -> length`).
  static func string(_ operation: StaticString, _ body: (UnsafeMutablePointer<CChar>?, Int) -> Int) throws -> String {
    let length = try HDF5.call(operation) { body(nil, 0) }
    var buffer = [CChar](repeating: 0, count: length + 1)
    _ = try HDF5.call(operation) { body(&buffer, buffer.count) }
    return String(cString: buffer)
  }

  /// `realpath(3)`: the absolute path without symlinks, `.` or `..`, nil when it does not exist.
  static func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
  }
}
