#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import DatasanCore
import Dispatch
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Reads a folder of PNG files (SPEC.md "PNG folder") as ragged batches of decoded images.
///
/// Layouts (see ``PNGFolderLayout``):
/// - with `options.listFile`: the list's lines in order, paths relative to `path`;
/// - a folder that holds `.png` files directly (or no sub-folder): flat, every `.png` under it
///   recursively, no labels;
/// - otherwise ImageFolder: the root's sub-folders are the classes, label = index of the class
///   folder in the byte order of the names; files found recursively under each class folder.
///
/// Samples are taken in the byte order of their relative paths (list order for a list). The
/// extension is matched without regard to case; other files are counted in ``skippedFiles``;
/// entries whose name starts with `.` are skipped, and hidden folders at class level are listed in
/// ``hiddenClassFolders``.
///
/// Batches are ragged (`shapes`, `offsets`): values are uint8 or uint16 (fixed by the first image
/// that decodes), C x H x W or H x W x C per `options.channelAxis`. A file that does not
/// decode (or exceeds `options.maxPixels`) is `unreadable` with libpng's reason; an image of the other
/// bit depth is `shape_mismatch`. Such samples have no values and the shape `[0]`. `originals` holds
/// each sample's relative path (UTF-8 bytes, as on disk), for ``PNGFolderWriter``.
///
/// With `options.resize` (`--resize`), every decoded image is resized to that size
/// (``ImageResize``, OpenCV's INTER_LINEAR) before its channels are ordered: shapes and statistics
/// are the resized images'.
///
/// Files of a batch are read and decoded on all cores; results are assembled in input order, so
/// batches are the same on every run. Memory is bounded by about `options.batchBytes` of decoded
/// values plus the encoded files of one batch; the list of paths is held for the whole run.
public final class PNGFolderReader: SampleReader {
  /// What the reader knows about the dataset: format `.png`, sample count, element type and
  /// shape of the first image that decodes (uint8 and nil when none does), `data` / `label`.
  public private(set) var info: DatasetInfo
  /// How samples were found.
  public let layout: PNGFolderLayout
  /// The class folder names in label order (ImageFolder only; empty otherwise).
  public let classNames: [String]
  /// Files that are not `.png`: how many, and the first few relative paths in byte order
  /// (for the `skipped_files` finding).
  public let skippedFiles: (count: Int, examples: [String])
  /// Hidden folders at class level of an ImageFolder layout, by name in byte order (one
  /// `hidden_class_folder` finding each): torchvision would make them classes.
  public let hiddenClassFolders: [String]
  /// Bytes of PNG files read so far.
  public var bytesRead: Int { loader.consumed.load(ordering: .relaxed) }

  /// How many skipped files ``skippedFiles`` names.
  public static let skippedExampleCount = 5

  private let root: [UInt8]
  /// The root with its symbolic links resolved: a list entry is read only when it resolves inside.
  private let resolvedRoot: [UInt8]
  private let entries: [PNGEntry]
  private let maxPixels: Int
  private let channelAxis: ChannelAxis
  /// RGB unless `--channel-order` says otherwise (torchvision's ImageFolder view).
  private let channelOrder: ChannelOrder
  /// `--resize`: every decoded image resized to this size (``ImageResize``).
  private let resize: ImageSize?
  private let batchBytes: Int
  private let fileLimit: Int
  /// Reads the files (on all cores).
  private let loader: Loader
  /// The image codecs: each file is decoded by the one its first bytes name.
  private let codecs = ImageCodecs.registered
  private let maxBatchCount = 65_536

  private var nextEntry = 0
  /// The end of the entries read (``ReadOptions/sampleRange``; all by default).
  private var endEntry: Int
  private var window: [LoadedFile] = []
  private var windowHead = 0
  private var averageCost: Int

  /// Opens the folder `path` read-only and lists its samples; the files are decoded in order until
  /// one decodes, which fixes the element type and ``DatasetInfo/sampleShape`` (usually the first).
  ///
  /// - Throws: ``DatasanError`` when `path` is not a directory, the list file cannot be read or is
  ///   empty, a folder cannot be listed, or no `.png` file is found.
  public init(path: String, options: ReadOptions) throws {
    let root = Array(path.utf8)
    let scan = try PNGFolderScan.scan(
      root: root, rootName: path, listFile: options.listFile, classes: options.classNames)
    let maxPixels = Swift.max(0, options.maxPixels)
    let fileLimit = Self.fileLimit(maxPixels: maxPixels)
    var first: ImageHeader? = nil
    let resolvedRoot = RawFileSystem.resolved(root) ?? root
    let codecs = ImageCodecs.registered
    for entry in scan.entries where entry.problem == nil {
      guard
        case .success(let bytes) = Self.read(
          entry, root: root, resolvedRoot: resolvedRoot, checkLinks: scan.layout == .list, limit: fileLimit)
      else { continue }
      if case .success(let header) = bytes.withUnsafeBytes({
        codecs.trialDecode($0, maxPixels: maxPixels, channelAxis: options.channelAxis)
      }) {
        first = header.resized(to: options.resize)
        break
      }
    }
    self.root = root
    self.resolvedRoot = resolvedRoot
    self.maxPixels = maxPixels
    self.fileLimit = fileLimit
    layout = scan.layout
    entries = scan.entries
    classNames = scan.classNames
    skippedFiles = (scan.skipped.count, Array(scan.skipped.prefix(Self.skippedExampleCount)))
    hiddenClassFolders = scan.hiddenClassFolders
    channelAxis = options.channelAxis
    channelOrder = options.channelOrder ?? .rgb
    resize = options.resize
    batchBytes = Swift.max(1, options.batchBytes)
    averageCost = Swift.max(first?.byteCount ?? 0, 4096)
    endEntry = scan.entries.count
    var info = DatasetInfo(
      format: .png, path: path, sampleCount: scan.entries.count, elementType: first?.elementType ?? .uint8,
      sampleShape: first?.shape(options.channelAxis), featureName: "data",
      labelName: scan.layout == .flat ? nil : "label",
      layout: PNGSourceLayout(
        listFile: scan.layout == .list ? options.listFile.map { URL(fileURLWithPath: $0).lastPathComponent } : nil,
        resizedTo: options.resize, maxPixels: maxPixels, channelOrder: options.channelOrder ?? .rgb))
    info.samplesAreImages = true
    switch scan.layout {
    case .flat: break
    case .list: info.labelSource = "the list file's labels"
    default: info.labelSource = "class folder names"
    }
    info.sampleFileType = codecs.extensionList
    if !scan.classNames.isEmpty {
      info.classNames = scan.classNames
      info.classesWithoutFolder = scan.missingClasses
    }
    if let range = options.sampleRange {
      guard let files = range.samples(clampedTo: scan.entries.count) else {
        throw DatasanError(path: path, "an image folder is read by file ranges, not byte ranges")
      }
      (nextEntry, endEntry) = (files.lowerBound, files.upperBound)
      info.sampleCount = files.count
    }
    self.info = info
    loader = Loader(
      root: root, resolvedRoot: resolvedRoot, entries: scan.entries, checkLinks: scan.layout == .list,
      fileLimit: fileLimit, maxPixels: maxPixels, channelAxis: options.channelAxis, elementType: info.elementType,
      codecs: codecs, resize: options.resize)
  }

  /// Reads the file of `entry`. With `checkLinks` (list entries, which may name any path through
  /// symbolic links; a walk checks the links it meets itself), a file that resolves outside the root
  /// is not opened.
  private static func read(
    _ entry: PNGEntry, root: [UInt8], resolvedRoot: [UInt8], checkLinks: Bool, limit: Int
  ) -> Result<[UInt8], RawFSError> {
    if checkLinks && !RawFileSystem.staysInside(RawFileSystem.join(root, entry.path), resolvedRoot: resolvedRoot) {
      return .failure(RawFSError("resolves (through a symbolic link) outside the image folder: not read"))
    }
    return RawFileSystem.readFile(root, entry.path, limit: limit)
  }

  /// The largest file worth reading: a PNG of `maxPixels` 16-bit RGBA pixels stored without
  /// compression is about 8 bytes a pixel; twice that plus 64 MiB of other chunks.
  static func fileLimit(maxPixels: Int) -> Int {
    let (scaled, overflow) = maxPixels.multipliedReportingOverflow(by: 16)
    if overflow { return Int.max }
    let (sum, overflow2) = scaled.addingReportingOverflow(64 << 20)
    return overflow2 ? Int.max : sum
  }

  /// The next batch of about `options.batchBytes` of decoded values, or nil after the last file.
  public func nextBatch() throws -> SampleBatch? {
    let firstIndex = windowHead < window.count ? window[windowHead].entry : nextEntry
    var files: [LoadedFile] = []
    var cost = 0
    while cost < batchBytes && files.count < maxBatchCount {
      if windowHead == window.count && !loadWindow() { break }
      files.append(window[windowHead])
      window[windowHead].bytes = []
      windowHead += 1
      cost += files[files.count - 1].cost
    }
    if files.isEmpty { return nil }
    return assemble(files, firstIndex: firstIndex)
  }

  // MARK: Loading

  /// A file read and its header checked, waiting to be decoded.
  private struct LoadedFile {
    enum Outcome {
      case decode(ImageHeader)
      case problem(ReaderProblem)
    }
    var entry: Int
    var bytes: [UInt8]
    var outcome: Outcome
    /// Bytes this file adds to a batch (decoded values, or the encoded file).
    var cost: Int
    /// How the file is stored, when that is worth a dataset finding (another format's extension, CMYK).
    var note: StorageNote? = nil
  }

  /// Reads the next window of files (in parallel); false at the end of the stream.
  private func loadWindow() -> Bool {
    window.removeAll(keepingCapacity: true)
    windowHead = 0
    let remaining = endEntry - nextEntry
    if remaining == 0 { return false }
    let count = Swift.min(remaining, Swift.max(1, Swift.min(maxBatchCount, batchBytes / Swift.max(averageCost, 1) + 1)))
    let start = nextEntry
    let loader = self.loader
    window = parallelMap(count) { loader.load(start + $0) }
    nextEntry += count
    let total = window.reduce(0) { $0 + $1.cost }
    averageCost = Swift.max(1, total / count)
    return true
  }

  /// What reading a file needs, shared by the threads of a window: immutable, and the byte counter.
  private final class Loader: Sendable {
    let root: [UInt8]
    let resolvedRoot: [UInt8]
    let entries: [PNGEntry]
    let checkLinks: Bool
    let fileLimit: Int
    let maxPixels: Int
    let channelAxis: ChannelAxis
    let elementType: ElementType
    let codecs: ImageCodecs
    let resize: ImageSize?
    /// Bytes of PNG files read so far.
    let consumed = Atomic<Int>(0)

    init(
      root: [UInt8], resolvedRoot: [UInt8], entries: [PNGEntry], checkLinks: Bool, fileLimit: Int, maxPixels: Int,
      channelAxis: ChannelAxis, elementType: ElementType, codecs: ImageCodecs, resize: ImageSize?
    ) {
      self.resize = resize
      self.root = root
      self.resolvedRoot = resolvedRoot
      self.entries = entries
      self.checkLinks = checkLinks
      self.fileLimit = fileLimit
      self.maxPixels = maxPixels
      self.channelAxis = channelAxis
      self.elementType = elementType
      self.codecs = codecs
    }

    /// Reads one file and its header. Thread-safe: touches only immutable state and the counter.
    func load(_ index: Int) -> LoadedFile {
      let entry = entries[index]
      func problem(_ kind: FindingKind, _ detail: String, cost: Int) -> LoadedFile {
        LoadedFile(entry: index, bytes: [], outcome: .problem(ReaderProblem(kind, detail)), cost: Swift.max(cost, 64))
      }
      if let known = entry.problem { return LoadedFile(entry: index, bytes: [], outcome: .problem(known), cost: 64) }
      let bytes: [UInt8]
      switch PNGFolderReader.read(entry, root: root, resolvedRoot: resolvedRoot, checkLinks: checkLinks, limit: fileLimit) {
      case .success(let b): bytes = b
      case .failure(let e): return problem(.unreadable, e.description, cost: 0)
      }
      consumed.add(bytes.count, ordering: .relaxed)
      // The bytes decide the codec; bytes no codec knows are explained by the one the name says.
      let codec = bytes.withUnsafeBytes { codecs.codec(for: $0, fileNamed: entry.path) }
      switch bytes.withUnsafeBytes({ codec.readHeader($0, maxPixels: maxPixels) }) {
      case .failure(let e):
        return problem(.unreadable, e.message, cost: bytes.count)
      case .success(let header) where header.elementType != elementType:
        // Decoded anyway (and dropped): a file that does not decode is `unreadable` whatever its depth,
        // so every sample before the first decodable one is unreadable and the checker's reference
        // shape always comes from a sample with values.
        if case .failure(let e) = bytes.withUnsafeBytes({
          codecs.trialDecode($0, maxPixels: maxPixels, channelAxis: channelAxis)
        }) {
          return problem(.unreadable, e.message, cost: bytes.count)
        }
        let detail = header.bitDepth == 16 ? "16-bit image in an 8-bit dataset" : "8-bit image in a 16-bit dataset"
        return problem(.shapeMismatch, detail, cost: bytes.count)
      case .success(let header):
        var note = StorageNote(convertedFrom: header.convertedFrom)
        if let named = codecs.codec(forFileNamed: entry.path), named.name != codec.name {
          (note.contentFormat, note.nameFormat) = (codec.name, named.name)
        }
        let resized = header.resized(to: resize)
        return LoadedFile(
          entry: index, bytes: bytes, outcome: .decode(resized),
          cost: Swift.max(resized.byteCount, bytes.count, 64),
          note: note.isEmpty ? nil : note)
      }
    }
  }

  // MARK: Decoding

  /// Decodes the files of one batch straight into its storage, in parallel, in input order.
  private func assemble(_ files: [LoadedFile], firstIndex: Int) -> SampleBatch {
    let elementType = info.elementType
    let size = elementType.size
    var shapes: [[Int]] = []
    var offsets: [Int] = [0]
    var problems: [Int: ReaderProblem] = [:]
    shapes.reserveCapacity(files.count)
    offsets.reserveCapacity(files.count + 1)
    var imageShapes = ImageShapes()
    for (i, file) in files.enumerated() {
      switch file.outcome {
      case .decode(let header):
        shapes.append(
          imageShapes.shape(channels: header.channels, height: header.height, width: header.width, axis: channelAxis))
        offsets.append(offsets[offsets.count - 1] + header.elementCount)
      case .problem(let problem):
        shapes.append([0])
        offsets.append(offsets[offsets.count - 1])
        problems[i] = problem
      }
    }
    let storage = ByteStorage(byteCount: offsets[offsets.count - 1] * size)
    let starts = offsets
    let toDecode = files.indices.filter { if case .decode = files[$0].outcome { return true } else { return false } }
    let (codecs, maxPixels, channelAxis, order, resize) = (
      self.codecs, self.maxPixels, self.channelAxis, self.channelOrder, self.resize
    )
    let failures: [ImageDecodeError?] = parallelMap(toDecode.count) { n in
      let i = toDecode[n]
      let destination = UnsafeMutableRawBufferPointer(
        rebasing: storage.bytes[(starts[i] * size)..<(starts[i + 1] * size)])
      let result = files[i].bytes.withUnsafeBytes {
        codecs.decode($0, maxPixels: maxPixels, channelAxis: channelAxis, order: order, resize: resize, into: destination)
      }
      if case .failure(let e) = result { return e }
      return nil
    }
    var failed: [Int] = []
    for (n, failure) in failures.enumerated() {
      if let failure {
        problems[toDecode[n]] = ReaderProblem(.unreadable, failure.message)
        failed.append(toDecode[n])
      }
    }
    if !failed.isEmpty { compact(storage, &offsets, &shapes, removing: failed, size: size) }

    var originals = OriginalRecords()
    var keys: [String] = []
    keys.reserveCapacity(files.count)
    var labels: [Double]? = layout == .flat ? nil : []
    var notes: [Int: StorageNote] = [:]
    for (i, file) in files.enumerated() {
      if let note = file.note, problems[i] == nil { notes[i] = note }
      let entry = entries[file.entry]
      originals.append(entry.path)
      keys.append(entry.key)
      labels?.append(entry.label ?? .nan)
    }
    var batch = SampleBatch(
      firstIndex: firstIndex, count: files.count, elementType: elementType, shape: info.sampleShape ?? shapes[0],
      shapes: shapes,
      offsets: offsets, storage: storage, labels: labels, keys: .strings(keys), problems: problems,
      originals: originals)
    batch.storageNotes = notes
    return batch
  }

  /// Removes the values of the samples that failed to decode, moving the later ones down.
  private func compact(
    _ storage: ByteStorage, _ offsets: inout [Int], _ shapes: inout [[Int]], removing failed: [Int], size: Int
  ) {
    let failedSet = Set(failed)
    let base = storage.bytes.baseAddress!
    var at = 0
    var newOffsets: [Int] = [0]
    newOffsets.reserveCapacity(offsets.count)
    for i in 0..<(offsets.count - 1) {
      var count = offsets[i + 1] - offsets[i]
      if failedSet.contains(i) {
        count = 0
        shapes[i] = [0]
      } else if count > 0 && offsets[i] != at {
        memmove(base + at * size, base + offsets[i] * size, count * size)
      }
      at += count
      newOffsets.append(at)
    }
    offsets = newOffsets
  }
}
