extension FindingKind {
  public static let unknownClass = FindingKind(
    "unknown_class", .sample, meaning: "the sample's class folder is not in the given class list (--classes)")
}

/// Class names as data: the class list of a dataset (label `i` is class `names[i]`) and the rules
/// that keep labels from shifting silently.
///
/// The list comes from an image folder's class folders (in torchvision's `find_classes` order: the
/// sorted names of the root's sub-folders), from `--classes` / `classes:` in datasan.yml, from a
/// `--stats-in` file, or from an HDF5 label dataset's `classes` attribute. With a given list, an
/// image folder labels its folders by the list (not by the sorted names) and reports a file under a
/// folder outside the list as `unknown_class` (a sample finding the reader gives as the file's
/// ``ReaderProblem``); a class of the list without a folder is `class_missing` by name
/// (``LabelCheck``). So a deleted or renamed class folder fails the gate instead of shifting every
/// later label.
public enum ClassList {
  /// Why `names` is not a usable class list, or nil: at least one name, none empty, none twice,
  /// none holding `/` or a NUL nor `.` or `..` (a class is a folder name), none with a comma (lists are written
  /// comma-separated on the command line).
  public static func problem(_ names: [String]) -> String? {
    if names.isEmpty { return "names no class" }
    var seen = Set<String>()
    for name in names {
      if name.isEmpty { return "has an empty class name" }
      if name.contains("/") || name.contains("\0") || name == "." || name == ".." {
        return "class '\(name)' is not a folder name"
      }
      if name.contains(",") { return "class '\(name)' holds a comma" }
      if !seen.insert(name).inserted { return "names class '\(name)' twice" }
    }
    return nil
  }

  /// A class as details name it: `2 'dog'` with names, `2` without.
  public static func describe(_ label: Int64, _ names: [String]?) -> String {
    guard let names, label >= 0, label < Int64(names.count) else { return String(label) }
    return "\(label) '\(names[Int(label)])'"
  }

  /// The names, comma-separated, the first `limit` of them and then `... (N more)`.
  public static func list(_ names: [String], limit: Int = 10) -> String {
    let shown = names.prefix(limit).joined(separator: ", ")
    return names.count > limit ? shown + ", ... (\(names.count - limit) more)" : shown
  }

  /// The dataset's class list with the given one (`--classes`) in effect: the given list when the
  /// input has none of its own. An input whose own list (an HDF5 `classes` attribute) differs from
  /// the given one is refused: its labels mean other classes.
  ///
  /// - Throws: ``DatasanError`` naming the input and both lists.
  public static func reconcile(_ info: inout DatasetInfo, given: [String]?) throws {
    if case .vectors(let width) = info.labelEncoding, let names = given ?? info.classNames, names.count != width {
      throw DatasanError(
        path: info.path, "its labels have \(width) entries per sample but the class list names \(names.count) (\(list(names)))")
    }
    guard let given else { return }
    guard let own = info.classNames else {
      info.classNames = given
      return
    }
    if own != given {
      throw DatasanError(
        path: info.path,
        "its classes (\(list(own))) are not --classes (\(list(given))): its labels would mean other classes")
    }
  }
}
