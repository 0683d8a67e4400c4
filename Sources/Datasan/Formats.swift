import ArgumentParser
@_exported import DatasanCore
@_exported import DatasanReports
@_exported import struct DatasanLMDB.Datum
@_exported import enum DatasanLMDB.CaffeBlob
@_exported import enum DatasanCompression.Compression
import DatasanCSV
import DatasanCompression
import DatasanHDF5
import DatasanLMDB
import DatasanNPY
import DatasanPNG
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The formats this build of datasan reads and writes, behind the ``FormatBackend`` seam: the
/// registry. Adding a format = its target (its `DataFormat` name, reader, writer, layout and
/// options) + its entries here; the core names no format.
public struct Formats: FormatBackend {
  public init() {}

  /// Every format, in the order help lists them.
  public static let all: [DataFormat] = [.hdf5, .lmdb, .png, .csv, .npy]

  /// Every format's own options, in the order help lists them (``FormatOptions`` holds them).
  public static let optionGroups: [any (ParsableArguments & FormatOptionGroup).Type] = [
    HDF5Options.self, CSVOptions.self, ImageOptions.self, NPYOptions.self,
  ]

  /// The format named `name` (`--format`, `--output-format`), if this build has it.
  public static func named(_ name: String) -> DataFormat? { all.first { $0.rawValue == name } }

  /// The extension of a format's output files, without the dot (empty for a folder of files).
  public static func fileExtension(of format: DataFormat) -> String {
    switch format {
    case .hdf5: return "h5"
    case .lmdb: return "lmdb"
    case .csv: return "csv"
    case .npy: return "npy"
    default: return ""
    }
  }

  /// The other files an output of `format` at `path` may write beside it (an NPY output's
  /// `.labels.npy`), checked like the output before the run: an existing one needs --force.
  public static func companionOutputs(of path: String, format: DataFormat) -> [String] {
    format == .npy ? [NPYWriter.labelsPath(for: path)] : []
  }

  /// The extension of a quarantine of `format` for an input whose extension is `inputExtension`
  /// (the input's own, so that `.hdf5` stays `.hdf5`, but an `.npz` input's quarantine is `.npy`).
  public static func quarantineExtension(of format: DataFormat, inputExtension: String) -> String {
    if inputExtension.isEmpty || (format == .npy && inputExtension.lowercased() != "npy") { return fileExtension(of: format) }
    return inputExtension
  }

  /// The format an output path's extension names, if any (`-o train.clean.h5`).
  /// A compression extension names a compressed CSV (`out.csv.gz`: `.gz`, `.bz2`, `.xz`, `.zst`).
  public static func format(ofOutput path: String) -> DataFormat? {
    let compressed = Compression.of(outputPath: path) != nil
    let inner = URL(fileURLWithPath: Compression.strippingExtension(path)).pathExtension.lowercased()
    if compressed { return inner == "csv" || inner == "tsv" ? .csv : nil }
    switch inner {
    case "h5", "hdf5": return .hdf5
    case "lmdb": return .lmdb
    case "csv", "tsv": return .csv
    case "npy", "npz": return .npy
    default: return nil
    }
  }

  /// The C library that reads a format, named when it crashed on an input (Supervisor).
  public static func readingLibrary(of format: DataFormat) -> String? {
    switch format {
    case .hdf5: return "libhdf5"
    case .lmdb: return "liblmdb"
    case .png: return "the PNG decoder"
    default: return nil
    }
  }

  static func unknown(_ format: DataFormat, _ path: String) -> DatasanError {
    DatasanError(path: path, "format '\(format)' is not one of \(all.map(\.rawValue).joined(separator: ", "))")
  }

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
    if NPYFormat.isNPY(magic: magic) || NPYFormat.zipHoldsArrays(path: path, magic: magic) == true { return .npy }
    try Formats.refuseForeign(path: path)
    if magic.starts(with: [0x89, 0x50, 0x4E, 0x47]) {
      throw DatasanError(path: path, "is a single PNG file; point datasan at the folder that holds the images")
    }
    if let compression = Compression.of(magic: magic) {
      // Compressed (pandas' compression="infer", by the bytes): CSV when what it holds is text.
      let head = try DecompressingInput.leadingBytes(path: path, compression: compression, count: 4096)
      if head.isEmpty || Formats.looksLikeText(magic: head) { return .csv }
      throw DatasanError(
        path: path, "is \(compression.rawValue)-compressed but holds no CSV text (datasan reads compressed CSV only)")
    }
    switch URL(fileURLWithPath: path).pathExtension.lowercased() {
    case "h5", "hdf5", "hdf", "he5":
      throw DatasanError(path: path, "not an HDF5 file (no HDF5 signature)")
    case "csv", "tsv", "txt": return .csv
    case "mdb", "lmdb": return .lmdb
    default: break
    }
    if Formats.looksLikeText(magic: Formats.leadingBytes(path, count: 4096)) { return .csv }
    throw DatasanError(path: path, "cannot tell the format (not HDF5, LMDB, a PNG folder, CSV or NumPy); use --format")
  }

  /// Opens the reader of `format`. Whatever the format, an input that is a FIFO, a socket or a
  /// device (or an LMDB folder whose `data.mdb` is one) is refused first: exit 2, never a blocked read.
  public func openReader(format: DataFormat, path: String, options: ReadOptions) throws -> SampleReader {
    try InputFileKind.refuseSpecial(path: path)
    if format == .lmdb && InputFileKind(path: path) == .directory {
      try InputFileKind.refuseSpecial(path: path + "/data.mdb")
    }
    if format == .csv { try Formats.refuseForeign(path: path) }  // never parsed as CSV
    switch format {
    case .hdf5: return try HDF5Reader(path: path, options: options)
    case .csv: return try CSVReader(path: path, options: options)
    case .lmdb: return try LMDBReader(path: path, options: options)
    case .png: return try PNGFolderReader(path: path, options: options)
    case .npy: return try NPYReader(path: path, options: options)
    default: throw Formats.unknown(format, path)
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
        layout = source.layout as? HDF5Layout
      }
      var normalization: NormalizationParameters? = nil
      if case .normalized(let p) = request.content { normalization = p }
      return try HDF5Writer(
        path: path, featureName: featureName, labelName: labelName, sampleShape: request.sampleShape,
        elementType: request.elementType, labelType: request.labelType, layout: layout, normalization: normalization,
        classNames: labelName == nil ? nil : source.classNames)
    case .npy:
      return try NPYWriter(path: path, request: request)
    case .csv:
      return try CSVWriter(
        path: path, source: source, content: request.content, groupNames: source.groupNames,
        compression: request.finalPath.flatMap(Compression.of(outputPath:)))
    case .lmdb:
      // Original Datum bytes are kept only when they are Datum bytes (an LMDB source). An image
      // folder's original files become encoded Datums (convert_imageset --encoded), unless resized;
      // its keys are convert_imageset's (`%08d_` + path), which keep the input order.
      // Caffe decodes those files to BGR: the mean image of RGB batches is swapped to match.
      var encodedImages: EncodedImageSource? = nil
      var swapsChannels = false
      if source.format == .png, case .original = request.content, let layout = source.layout as? PNGSourceLayout,
        layout.resizedTo == nil
      {
        let files = ImageFileSource(root: source.path, maxPixels: layout.maxPixels)
        encodedImages = { try files.bytes(of: $0) }
        swapsChannels = layout.channelOrder == .rgb
      }
      return try LMDBWriter(
        path: path, content: request.content,
        keepOriginalValues: source.format == .lmdb
          && (request.role == .quarantine || (source.layout as? LMDBSourceLayout)?.resizedTo == nil),
        channelAxis: request.channelAxis, encodedImages: encodedImages, indexedKeys: source.format == .png,
        swapsColourChannelsOnRead: swapsChannels)
    case .png:
      // A PNG folder output is a copy of the original files: only from a PNG folder, only unnormalized.
      guard source.format == .png else {
        throw DatasanError(path: path, "a PNG folder can only be written from a PNG folder input; use .h5 or .lmdb")
      }
      guard case .original = request.content else {
        throw DatasanError(path: path, "a PNG folder output holds the original files: use --normalize none, or write .h5 / .lmdb")
      }
      if request.role == .clean, (source.layout as? PNGSourceLayout)?.resizedTo != nil {
        throw DatasanError(path: path, "an image folder output holds the original files, not resized images: write .h5 or .lmdb with --resize")
      }
      let listFile = (source.layout as? PNGSourceLayout)?.listFile
      // The clean output of an ImageFolder keeps every class folder of the class list, empty or not.
      let classFolders = request.role == .clean && listFile == nil ? source.classNames ?? [] : []
      return try PNGFolderWriter(path: path, sourceRoot: source.path, listFileName: listFile, classFolders: classFolders)
    default:
      throw Formats.unknown(format, path)
    }
  }

  public func writesDirectory(_ format: DataFormat) -> Bool { format == .png || format == .lmdb }

  static func leadingBytes(_ path: String, count: Int) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return [] }
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: count)
    var filled = 0
    while filled < count {  // up to `count` bytes, fewer at the end of the file; none on an error
      let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, count - filled) }
      if n < 0 && errno == EINTR { continue }
      if n < 0 { return [] }
      if n == 0 { break }
      filled += n
    }
    return Array(bytes[..<filled])
  }

  /// Refuses, in one line, a file of a format datasan does not read (Parquet, Feather, TFRecord, a
  /// zip that is no .npz, a pickle, ...), recognised by its magic bytes.
  static func refuseForeign(path: String) throws {
    guard InputFileKind(path: path) == .regular else { return }
    let magic = Formats.leadingBytes(path, count: 512)
    if let name = ForeignFormats.name(magic: magic, isNPZ: { NPYFormat.zipHoldsArrays(path: path, magic: magic) == true }) {
      throw DatasanError(path: path, "is \(name); \(ForeignFormats.readable)")
    }
  }

  static func looksLikeText(magic: [UInt8]) -> Bool {
    guard !magic.isEmpty else { return false }
    return !magic.contains(0)
  }
}

/// The options of every format, for a command (`@OptionGroup var formats: FormatOptions`): the
/// groups of ``Formats/optionGroups``.
public struct FormatOptions: ParsableArguments {
  @OptionGroup public var hdf5: HDF5Options
  @OptionGroup public var csv: CSVOptions
  @OptionGroup public var image: ImageOptions
  @OptionGroup public var npy: NPYOptions

  public init() {}

  /// What the options given set in the readers' options.
  public func apply(to options: inout ReadOptions) {
    let groups: [any FormatOptionGroup] = [hdf5, csv, image, npy]
    for group in groups { group.apply(to: &options) }
    // NumPy inputs take HDF5's --dataset / --labels (declared once): the arrays of an .npz, or the labels' .npy.
    options[NPYReadOptions.self].dataset = hdf5.dataset
    options[NPYReadOptions.self].labels = hdf5.labels
  }
}
