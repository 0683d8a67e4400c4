import DatasanCore

/// Reads the original files of an image folder's samples again, by the relative path
/// ``PNGFolderReader`` keeps in a batch's `originals`: what an LMDB of encoded Datums holds
/// (`clean FOLDER -o x.lmdb --normalize none`, as `convert_imageset --encoded`).
///
/// The same rules as ``PNGFolderWriter``: a path that is absolute, climbs out of the folder or
/// resolves (through a symbolic link) outside it is not read; a file that is no longer a regular
/// file, or no longer readable, is an error naming it (the scan read it moments before).
public struct ImageFileSource: Sendable {
  private let root: [UInt8]
  private let resolvedRoot: [UInt8]
  private let rootName: String
  private let limit: Int

  /// - Parameters:
  ///   - root: the input image folder.
  ///   - maxPixels: the reader's pixel limit, which bounds the file sizes read (as the reader's).
  public init(root: String, maxPixels: Int) {
    self.root = Array(root.utf8)
    resolvedRoot = RawFileSystem.resolved(self.root) ?? self.root
    rootName = root
    limit = PNGFolderReader.fileLimit(maxPixels: Swift.max(0, maxPixels))
  }

  /// The bytes of the file `relative` (a relative path, as in `originals`).
  public func bytes(of relative: ArraySlice<UInt8>) throws -> [UInt8] {
    let relative = Array(relative)
    let shown = String(decoding: relative, as: UTF8.self)
    let source = RawFileSystem.join(root, relative)
    guard let components = PNGFolderWriter.components(relative), !components.isEmpty,
      RawFileSystem.staysInside(source, resolvedRoot: resolvedRoot)
    else {
      throw DatasanError(path: rootName + "/" + shown, "outside the image folder, not read")
    }
    switch RawFileSystem.readFile(root, relative, limit: limit) {
    case .success(let bytes): return bytes
    case .failure(let e): throw DatasanError(path: rootName + "/" + shown, e.description)
    }
  }
}
