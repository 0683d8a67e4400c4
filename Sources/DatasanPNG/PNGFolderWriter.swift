import DatasanCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes a PNG folder by copying each sample's original file, byte for byte, from the input
/// folder: the output of `clean --normalize none` from a PNG folder, and the quarantine of a PNG
/// input (SPEC.md: "the original files for a PNG folder (same layout)").
///
/// Each sample's relative path comes from `batch.originals` (as ``PNGFolderReader`` fills it); the
/// file `sourceRoot/<path>` is copied to `path/<path>`, sub-folders created as needed. A sample
/// whose source does not exist (a missing file named in a `--list`), is not a regular file or has no
/// path is not copied and
/// is counted in ``missingSources``, and so is one whose path is absolute, climbs out of the folder,
/// or resolves (through a symbolic link) outside `sourceRoot`: it is neither read nor written.
/// With `listFileName`, ``finish()`` also writes `path/<listFileName>`, one `path LABEL` line per
/// sample in convert_imageset layout (just the path when the label is missing).
///
/// `path` is created by `init` and must not exist; ``abort()`` leaves the removal to the pipeline.
public final class PNGFolderWriter: SampleWriter {
  /// Number of files copied.
  public private(set) var copied = 0
  /// Relative paths of the samples whose source file did not exist (nothing copied).
  public private(set) var missingSources: [String] = []

  private let path: [UInt8]
  private let pathName: String
  private let sourceRoot: [UInt8]
  private let resolvedSourceRoot: [UInt8]
  private let listFileName: String?
  private var listText: [UInt8] = []
  private var createdFolders: Set<[UInt8]> = []
  private var finished = false

  /// Creates the folder `path`.
  ///
  /// - Parameters:
  ///   - path: the output folder (a temporary path chosen by the pipeline); must not exist.
  ///   - sourceRoot: the input PNG folder the relative paths are read from.
  ///   - listFileName: when given, a convert_imageset list of the written samples is written there.
  /// - Throws: ``DatasanError`` when the folder cannot be created.
  ///   - classFolders: class folders to create, empty or not: an ImageFolder output keeps every
  ///     class of the input's class list, so that a class whose files were all rejected (or that had
  ///     no folder) does not shift the labels of the later ones when the output is read by
  ///     ImageFolder (torchvision refuses an empty class instead, loudly).
  public init(path: String, sourceRoot: String, listFileName: String? = nil, classFolders: [String] = []) throws {
    self.path = Array(path.utf8)
    pathName = path
    self.sourceRoot = Array(sourceRoot.utf8)
    resolvedSourceRoot = RawFileSystem.resolved(self.sourceRoot) ?? self.sourceRoot
    self.listFileName = listFileName
    if mkdir(path, 0o777) != 0 {
      throw DatasanError(path: path, "cannot create the output folder: \(RawFileSystem.errorText())")
    }
    createdFolders.insert(self.path)
    for name in classFolders where !name.isEmpty && name != "." && name != ".." && !name.contains("/")
      && !name.contains("\u{FFFD}")  // a name read from invalid UTF-8 is not the folder's name
    {
      try makeFolder(RawFileSystem.join(self.path, Array(name.utf8)))
    }
  }

  /// Copies the original file of every sample of `batch`.
  ///
  /// - Throws: ``DatasanError`` when the batch has no originals, or a file cannot be read or written.
  public func append(_ batch: SampleBatch) throws {
    precondition(!finished, "append after finish")
    guard let originals = batch.originals else {
      throw DatasanError(path: pathName, "a PNG folder can only be written from a PNG folder input")
    }
    for i in 0..<batch.count {
      let relative = Array(originals.record(i))
      let key = String(decoding: relative, as: UTF8.self)
      if listFileName != nil { appendListLine(relative, label: batch.labels?[i]) }
      let source = RawFileSystem.join(sourceRoot, relative)
      // A path that leaves the input folder (the reader made it `unreadable` without reading it)
      // is not copied: nothing outside the input is read, nothing outside the output written.
      guard let components = Self.components(relative), !components.isEmpty,
        RawFileSystem.staysInside(source, resolvedRoot: resolvedSourceRoot)
      else {
        missingSources.append(key)
        continue
      }
      var destination = path
      for component in components.dropLast() {
        destination = RawFileSystem.join(destination, component)
        try makeFolder(destination)
      }
      destination = RawFileSystem.join(destination, components[components.count - 1])
      if try copyFile(from: source, to: destination) { copied += 1 } else { missingSources.append(key) }
    }
  }

  /// Writes the list file (when asked for) and closes the output.
  public func finish() throws {
    guard !finished else { return }
    finished = true
    if let listFileName {
      let target = RawFileSystem.join(path, Array(listFileName.utf8))
      try writeFile(target, listText)
    }
  }

  /// Stops writing; the pipeline removes the folder.
  public func abort() { finished = true }

  // MARK: Helpers

  /// The components of a relative path once `.` and `..` are resolved (`a/../b` is `[b]`), or nil
  /// when it is absolute or climbs out of its folder.
  static func components(_ relative: [UInt8]) -> [[UInt8]]? {
    if RawFileSystem.leavesFolder(relative) { return nil }
    var result: [[UInt8]] = []
    for part in relative.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
      if part.elementsEqual([UInt8(ascii: ".")]) { continue }
      if part.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
        result.removeLast()
        continue
      }
      result.append(Array(part))
    }
    return result
  }

  private func appendListLine(_ relative: [UInt8], label: Double?) {
    listText.append(contentsOf: relative)
    if let label, label.isFinite, label == label.rounded(), abs(label) < 9.0e15 {
      listText.append(UInt8(ascii: " "))
      listText.append(contentsOf: String(Int64(label)).utf8)
    }
    listText.append(UInt8(ascii: "\n"))
  }

  private func makeFolder(_ folder: [UInt8]) throws {
    if createdFolders.contains(folder) { return }
    let rc = RawFileSystem.withCPath(folder) { mkdir($0, 0o777) }
    if rc != 0 && errno != EEXIST {
      throw DatasanError(
        path: String(decoding: folder, as: UTF8.self), "cannot create folder: \(RawFileSystem.errorText())")
    }
    createdFolders.insert(folder)
  }

  /// Copies `source` to `destination` (replacing it); false when `source` does not exist or is
  /// not a regular file.
  private func copyFile(from source: [UInt8], to destination: [UInt8]) throws -> Bool {
    var before = stat()
    if RawFileSystem.withCPath(source, { stat($0, &before) }) == 0 && (before.st_mode & S_IFMT) != S_IFREG {
      return false  // a FIFO, socket or device is never opened
    }
    let input = RawFileSystem.withCPath(source) { open($0, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY) }
    if input < 0 {
      if errno == ENOENT { return false }
      throw DatasanError(path: String(decoding: source, as: UTF8.self), "cannot open: \(RawFileSystem.errorText())")
    }
    defer { close(input) }
    var st = stat()
    if fstat(input, &st) != 0 || (st.st_mode & S_IFMT) != S_IFREG { return false }  // a FIFO, a folder: nothing to copy
    let output = try openForWriting(destination)
    defer { close(output) }
    let chunk = 1 << 20
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 16)
    defer { buffer.deallocate() }
    while true {
      let n = read(input, buffer, chunk)
      if n < 0 {
        if errno == EINTR { continue }
        throw DatasanError(path: String(decoding: source, as: UTF8.self), "cannot read: \(RawFileSystem.errorText())")
      }
      if n == 0 { break }
      try writeAll(output, buffer, n, destination)
    }
    return true
  }

  private func writeFile(_ destination: [UInt8], _ bytes: [UInt8]) throws {
    let output = try openForWriting(destination)
    defer { close(output) }
    try bytes.withUnsafeBytes { raw in
      if let base = raw.baseAddress { try writeAll(output, base, raw.count, destination) }
    }
  }

  private func openForWriting(_ destination: [UInt8]) throws -> Int32 {
    let fd = RawFileSystem.withCPath(destination) { open($0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666) }
    if fd < 0 {
      throw DatasanError(
        path: String(decoding: destination, as: UTF8.self), "cannot create: \(RawFileSystem.errorText())")
    }
    return fd
  }

  private func writeAll(_ fd: Int32, _ start: UnsafeRawPointer, _ count: Int, _ destination: [UInt8]) throws {
    var at = 0
    while at < count {
      let n = write(fd, start + at, count - at)
      if n < 0 {
        if errno == EINTR { continue }
        throw DatasanError(
          path: String(decoding: destination, as: UTF8.self), "cannot write: \(RawFileSystem.errorText())")
      }
      at += n
    }
  }
}
