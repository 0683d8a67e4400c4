@_exported import DatasanCore
@_exported import DatasanReports
@_exported import struct DatasanLMDB.Datum
@_exported import enum DatasanLMDB.CaffeBlob
import DatasanCSV
import DatasanHDF5
import DatasanLMDB
import DatasanPNG
import Foundation

/// The formats this build of datasan reads and writes, behind the ``FormatBackend`` seam.
public struct Formats: FormatBackend {
  public init() {}

  /// SPEC.md `--format auto`: by magic bytes, then extension; a directory holding
  /// `data.mdb` is LMDB, any other directory is a PNG folder. A FIFO, a socket or a device is
  /// refused from `stat` alone, before anything is opened (opening a FIFO blocks).
  public func detectFormat(path: String) throws -> DataFormat {
    let kind = InputFileKind(path: path)
    if case .missing = kind { throw DatasanError(path: path, "no such file or directory") }
    // Looking at the bytes of a FIFO blocks until a writer comes; a device may never end.
    try kind.refuseIfSpecial(path: path)
    if kind == .directory {
      if FileManager.default.fileExists(atPath: path + "/data.mdb") { return .lmdb }
      return .png
    }
    if HDF5Format.looksLikeHDF5(path: path) { return .hdf5 }
    if LMDBFormat.looksLikeLMDB(path: path) { return .lmdb }
    let magic = Formats.leadingBytes(path, count: 8)
    if magic.starts(with: [0x89, 0x50, 0x4E, 0x47]) {
      throw DatasanError(path: path, "is a single PNG file; point datasan at the folder that holds the images")
    }
    switch URL(fileURLWithPath: path).pathExtension.lowercased() {
    case "h5", "hdf5", "hdf", "he5":
      throw DatasanError(path: path, "not an HDF5 file (no HDF5 signature)")
    case "csv", "tsv", "txt": return .csv
    case "mdb", "lmdb": return .lmdb
    default: break
    }
    if Formats.looksLikeText(magic: Formats.leadingBytes(path, count: 4096)) { return .csv }
    throw DatasanError(path: path, "cannot tell the format (not HDF5, LMDB, a PNG folder or CSV); use --format")
  }

  /// Opens the reader of `format`. Whatever the format, an input that is a FIFO, a socket or a
  /// device (or an LMDB folder whose `data.mdb` is one) is refused first: exit 2, never a blocked read.
  public func openReader(format: DataFormat, path: String, options: ReadOptions) throws -> SampleReader {
    try InputFileKind.refuseSpecial(path: path)
    if format == .lmdb && InputFileKind(path: path) == .directory {
      try InputFileKind.refuseSpecial(path: path + "/data.mdb")
    }
    switch format {
    case .hdf5: return try HDF5Reader(path: path, options: options)
    case .csv: return try CSVReader(path: path, options: options)
    case .lmdb: return try LMDBReader(path: path, options: options)
    case .png: return try PNGFolderReader(path: path, options: options)
    }
  }

  public func makeWriter(format: DataFormat, path: String, request: WriterRequest) throws -> SampleWriter {
    let source = request.source
    switch format {
    case .hdf5:
      var featureName = "data"
      var labelName: String? = source.labelName == nil ? nil : "label"
      var layout: HDF5Layout? = nil
      if source.format == .hdf5 {
        featureName = source.featureName
        labelName = source.labelName
        if case .hdf5(let l) = source.layout { layout = l }
      }
      var normalization: NormalizationParameters? = nil
      if case .normalized(let p) = request.content { normalization = p }
      return try HDF5Writer(
        path: path, featureName: featureName, labelName: labelName, sampleShape: request.sampleShape,
        elementType: request.elementType, labelType: request.labelType, layout: layout, normalization: normalization)
    case .csv:
      return try CSVWriter(path: path, source: source, content: request.content, groupNames: source.groupNames)
    case .lmdb:
      // Original Datum bytes are kept only when they are Datum bytes (an LMDB source).
      return try LMDBWriter(
        path: path, content: request.content, keepOriginalValues: source.format == .lmdb,
        channelAxis: request.channelAxis)
    case .png:
      // A PNG folder output is a copy of the original files: only from a PNG folder, only unnormalized.
      guard source.format == .png else {
        throw DatasanError(path: path, "a PNG folder can only be written from a PNG folder input; use .h5 or .lmdb")
      }
      guard case .original = request.content else {
        throw DatasanError(path: path, "a PNG folder output holds the original files: use --normalize none, or write .h5 / .lmdb")
      }
      var listFile: String? = nil
      if case .pngFolder(let name) = source.layout { listFile = name }
      return try PNGFolderWriter(path: path, sourceRoot: source.path, listFileName: listFile)
    }
  }

  public func writesDirectory(_ format: DataFormat) -> Bool { format == .png || format == .lmdb }

  static func leadingBytes(_ path: String, count: Int) -> [UInt8] {
    guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
    defer { try? handle.close() }
    return [UInt8]((try? handle.read(upToCount: count)) ?? Data())
  }

  static func looksLikeText(magic: [UInt8]) -> Bool {
    guard !magic.isEmpty else { return false }
    return !magic.contains(0)
  }
}
