extension FindingKind {
  public static let extensionMismatch = FindingKind(
    "extension_mismatch", .dataset, meaning: "a file holds one image format under another format's extension")
}

/// `extension_mismatch`: clean samples whose bytes are one format under another format's file
/// extension (a PNG named `.JPEG`, as in ImageNet's training set). datasan decodes by the bytes, but
/// loaders that pick a decoder by the extension fail on such files. The reader notes each file
/// (``StorageNote/contentFormat``).
public struct ExtensionMismatchCheck: StorageNoteCheck {
  public static let kind = FindingKind.extensionMismatch

  public init() {}

  public static func noted(_ note: StorageNote) -> String? {
    note.contentFormat.map { "\($0) named \(note.nameFormat ?? "other")" }
  }

  public static func detail(count n: Int, list: String) -> String {
    "\(n) file\(n == 1 ? " holds" : "s hold") one image format under another's extension: \(list); "
      + "datasan decodes by the bytes, loaders that go by the extension fail; rename or re-encode"
  }
}
