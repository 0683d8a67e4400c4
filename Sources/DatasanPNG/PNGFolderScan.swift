import DatasanCore

/// How the samples of a PNG folder are found and labelled.
public enum PNGFolderLayout: Sendable, Equatable {
  /// `ROOT/<class>/.../<file>.png`; the label is the index of the class folder in byte order.
  case imageFolder
  /// `--list FILE` in convert_imageset's `relative/path.png LABEL` layout.
  case list
  /// `.png` files without labels.
  case flat
}

/// One sample of a PNG folder, as found before any file is read.
struct PNGEntry {
  /// Path relative to the root, as raw bytes.
  var path: [UInt8]
  /// The path as a user reads it (`/` separated; invalid UTF-8 replaced).
  var key: String
  /// The label, nil when the layout has none, NaN for a list line without a valid label.
  var label: Double?
  /// A problem known without reading the file (a bad list line).
  var problem: ReaderProblem?
}

/// What a walk of a PNG folder found.
struct PNGFolderScan {
  var layout: PNGFolderLayout
  var entries: [PNGEntry]
  var classNames: [String] = []
  /// Relative paths of the files that are not `.png` (sorted).
  var skipped: [String] = []
  /// Hidden folders at class level of an ImageFolder layout (sorted).
  var hiddenClassFolders: [String] = []
  /// The labels of given classes (`--classes`) without a folder.
  var missingClasses: [Int] = []

  /// Finds the samples of `root` (raw bytes of the path the user gave).
  ///
  /// - Without a list: when the root holds `.png` files directly, or no sub-folder, it is a flat
  ///   folder (every `.png` under it, recursively, without labels); otherwise it is an ImageFolder
  ///   whose classes are the root's sub-folders (non-`.png` files at the root are skipped and counted).
  /// - With a list: the list's lines, in the list's order.
  ///
  /// With `classes` (`--classes`), the folder is an ImageFolder labelled by that list: label = the
  /// index of the folder's name in the list. A class of the list without a folder is noted in
  /// ``missingClasses``; the files of a folder outside the list, and image files at the root (in no
  /// class folder), are samples with the problem `unknown_class`, never read.
  static func scan(root: [UInt8], rootName: String, listFile: String?, classes: [String]? = nil) throws -> PNGFolderScan {
    let (kind, _) = RawFileSystem.fileStatus(root)
    guard kind == .directory else {
      throw DatasanError(
        path: rootName, kind == .missing ? "no such directory" : "not a directory (a PNG folder is a directory)")
    }
    if let listFile {
      var scan = try scanList(listFile)
      scan.classNames = classes ?? []
      return scan
    }
    var walker = Walker(resolvedRoot: RawFileSystem.resolved(root) ?? root)
    let top = try walker.list(root, name: rootName)
    let pngsAtRoot = top.contains { !isHidden($0.name) && $0.kind != .directory && isImage($0.name) }
    let folders = top.filter { $0.kind == .directory }
    var scan: PNGFolderScan
    if let classes {
      return try scanGiven(classes, top: top, root: root, rootName: rootName, walker: &walker)
    }
    if pngsAtRoot || !folders.contains(where: { !isHidden($0.name) }) {
      var found: [[UInt8]] = []
      try walker.walk(root, relative: [], rootName: rootName, into: &found)
      scan = PNGFolderScan(
        layout: .flat, entries: found.map { PNGEntry(path: $0, key: text($0), label: nil, problem: walker.problem($0)) })
    } else {
      var found: [([UInt8], Int)] = []
      var classes: [[UInt8]] = []
      var hidden: [String] = []
      for entry in top.sorted(by: { $0.name.lexicographicallyPrecedes($1.name) }) {
        if entry.kind == .directory {
          if isHidden(entry.name) {
            hidden.append(text(entry.name))
          } else {
            classes.append(entry.name)
          }
        } else if !isHidden(entry.name) && !isImage(entry.name) {
          walker.skipped.append(entry.name)
        }
      }
      if let id = RawFileSystem.fileStatus(root).id { walker.visited.insert(id) }  // a link back to the root
      for (index, name) in classes.enumerated() {
        var files: [[UInt8]] = []
        try walker.walk(RawFileSystem.join(root, name), relative: name, rootName: rootName, into: &files)
        found.append(contentsOf: files.map { ($0, index) })
      }
      scan = PNGFolderScan(
        layout: .imageFolder,
        entries: found.map { PNGEntry(path: $0.0, key: text($0.0), label: Double($0.1), problem: walker.problem($0.0)) })
      scan.classNames = classes.map(text)
      scan.hiddenClassFolders = hidden
    }
    return try finished(scan, walker: walker, rootName: rootName)
  }

  /// Sorts the entries and the skipped files; refuses a folder without any image.
  private static func finished(_ scan: PNGFolderScan, walker: Walker, rootName: String) throws -> PNGFolderScan {
    var scan = scan
    scan.entries.sort { $0.path.lexicographicallyPrecedes($1.path) }
    scan.skipped = walker.skipped.sorted { $0.lexicographicallyPrecedes($1) }.map(text)
    if scan.entries.isEmpty {
      throw DatasanError(path: rootName, "no \(ImageCodecs.registered.extensionList) files found (not an image folder)")
    }
    return scan
  }

  /// An ImageFolder labelled by a given class list (see ``scan(root:rootName:listFile:classes:)``).
  /// A folder named in the list is a class even when hidden: the list says so.
  private static func scanGiven(
    _ classes: [String], top: [(name: [UInt8], kind: RawFileSystem.Kind, link: Bool)], root: [UInt8], rootName: String,
    walker: inout Walker
  ) throws -> PNGFolderScan {
    var labelOf: [[UInt8]: Int] = [:]
    for (i, name) in classes.enumerated() { labelOf[Array(name.utf8)] = i }
    var found: [PNGEntry] = []
    var present = Set<Int>()
    var hidden: [String] = []
    if let id = RawFileSystem.fileStatus(root).id { walker.visited.insert(id) }  // a link back to the root
    for entry in top.sorted(by: { $0.name.lexicographicallyPrecedes($1.name) }) {
      let label = labelOf[entry.name]
      if entry.kind != .directory {
        if isHidden(entry.name) { continue }
        if !isImage(entry.name) {
          walker.skipped.append(entry.name)
        } else {
          let problem = ReaderProblem(
            .unknownClass, "file at the root of the image folder, in no class folder of --classes", field: "label")
          found.append(PNGEntry(path: entry.name, key: text(entry.name), label: .nan, problem: problem))
        }
        continue
      }
      if label == nil && isHidden(entry.name) {
        hidden.append(text(entry.name))
        continue
      }
      var files: [[UInt8]] = []
      try walker.walk(RawFileSystem.join(root, entry.name), relative: entry.name, rootName: rootName, into: &files)
      if let label {
        present.insert(label)
        found += files.map { PNGEntry(path: $0, key: text($0), label: Double(label), problem: walker.problem($0)) }
      } else {
        let folder = text(entry.name)
        let problem = ReaderProblem(
          .unknownClass,
          "folder '\(folder.messageName)' is not a class of --classes (\(ClassList.list(classes, limit: 5))): "
            + "renamed, or a class to add to the list?", field: "label")
        found += files.map { PNGEntry(path: $0, key: text($0), label: .nan, problem: problem) }
      }
    }
    var scan = PNGFolderScan(layout: .imageFolder, entries: found)
    scan.classNames = classes
    scan.missingClasses = classes.indices.filter { !present.contains($0) }
    scan.hiddenClassFolders = hidden
    return try finished(scan, walker: walker, rootName: rootName)
  }

  private static func scanList(_ listFile: String) throws -> PNGFolderScan {
    let data: [UInt8]
    switch RawFileSystem.readFile(Array(listFile.utf8), limit: Int.max) {
    case .success(let d): data = d
    case .failure(let e): throw DatasanError(path: listFile, e.description)
    }
    let lines = ListFile.parse(data)
    if lines.isEmpty { throw DatasanError(path: listFile, "the list has no entries") }
    let entries = lines.map { line in
      PNGEntry(
        path: line.path, key: text(line.path), label: line.label.map(Double.init) ?? .nan,
        problem: line.problem.map { ReaderProblem(.unreadable, $0) })
    }
    return PNGFolderScan(layout: .list, entries: entries)
  }

  /// Whether a name starts with `.`.
  static func isHidden(_ name: [UInt8]) -> Bool { name.first == UInt8(ascii: ".") }

  /// Whether the folder takes a file by its name: the extension of a registered image codec
  /// (``ImageCodecs/takesFile(named:)``), in any case. The one place that decides.
  static func isImage(_ name: [UInt8]) -> Bool { ImageCodecs.registered.takesFile(named: name) }

  static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}

/// A recursive directory walk that visits each directory once and notes skipped files.
///
/// Symbolic links are followed only to what lies inside the root (their target resolved): a link
/// to a `.png` outside is a sample that is never read (`unreadable`), a link to a folder outside
/// is not walked and is counted with the skipped files. Nothing outside the input is read.
private struct Walker {
  /// The root with its symbolic links resolved.
  let resolvedRoot: [UInt8]
  var visited: Set<RawFileSystem.FileID> = []
  /// Relative paths of non-`.png` files (and of links to folders outside the root).
  var skipped: [[UInt8]] = []
  /// Relative paths of `.png` entries that are links to files outside the root.
  var outside: Set<[UInt8]> = []

  init(resolvedRoot: [UInt8]) { self.resolvedRoot = resolvedRoot }

  /// The problem known for the sample at `relative` without reading it.
  func problem(_ relative: [UInt8]) -> ReaderProblem? {
    outside.contains(relative)
      ? ReaderProblem(.unreadable, "symbolic link to a file outside the image folder: not read") : nil
  }

  func list(_ path: [UInt8], name: String) throws -> [(name: [UInt8], kind: RawFileSystem.Kind, link: Bool)] {
    do {
      return try RawFileSystem.list(path)
    } catch {
      throw DatasanError(path: name, "cannot list the directory: \(error.description)")
    }
  }

  /// Appends the relative paths of the `.png` files under `path` (recursively) to `found`.
  mutating func walk(_ path: [UInt8], relative: [UInt8], rootName: String, into found: inout [[UInt8]]) throws {
    // A class folder that is a link to a folder outside the root is a class without samples.
    if !relative.isEmpty && !RawFileSystem.staysInside(path, resolvedRoot: resolvedRoot) {
      skipped.append(relative)
      return
    }
    if let id = RawFileSystem.fileStatus(path).id {
      if visited.contains(id) { return }  // a symbolic-link cycle, or a folder seen through two links
      visited.insert(id)
    }
    let shown = relative.isEmpty ? rootName : rootName + "/" + PNGFolderScan.text(relative)
    for entry in try list(path, name: shown) where !PNGFolderScan.isHidden(entry.name) {
      let rel = RawFileSystem.join(relative, entry.name)
      if entry.link && !RawFileSystem.staysInside(RawFileSystem.join(path, entry.name), resolvedRoot: resolvedRoot) {
        if entry.kind == .directory {
          skipped.append(rel)
        } else if PNGFolderScan.isImage(entry.name) {
          found.append(rel)
          outside.insert(rel)
        } else {
          skipped.append(rel)
        }
        continue
      }
      switch entry.kind {
      case .directory:
        try walk(RawFileSystem.join(path, entry.name), relative: rel, rootName: rootName, into: &found)
      case .file, .missing, .other:
        // A dangling link or a FIFO named .png is a sample that will not read (`unreadable`).
        if PNGFolderScan.isImage(entry.name) { found.append(rel) } else { skipped.append(rel) }
      }
    }
  }
}
