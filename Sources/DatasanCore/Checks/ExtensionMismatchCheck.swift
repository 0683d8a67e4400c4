extension FindingKind {
  public static let extensionMismatch = FindingKind(
    "extension_mismatch", .dataset, meaning: "a file holds one image format under another format's extension")
}

/// `extension_mismatch`: clean samples whose bytes are one format under another format's file
/// extension (a PNG named `.JPEG`, as in ImageNet's training set). datasan decodes by the bytes, but
/// loaders that pick a decoder by the extension fail on such files. One finding naming the files (the
/// first ``NamedSamples/limit``) and the count; the reader notes each file
/// (``StorageNote/contentFormat``).
public struct ExtensionMismatchCheck: DatasetCheck {
  public static let kinds: [FindingKind] = [.extensionMismatch]
  public static let name = "extension_mismatch"

  public init() {}

  public func makeState(_ context: CheckContext) -> NamedSamples { NamedSamples() }

  public func add(_ checked: CheckedBatch, to state: inout NamedSamples, _ context: CheckContext) {
    let batch = checked.batch
    guard !batch.storageNotes.isEmpty else { return }
    checked.forEachClean { i in
      guard let note = batch.storageNotes[i], let content = note.contentFormat else { return }
      state.add(index: batch.firstIndex + i, key: batch.key(of: i), detail: "\(content) named \(note.nameFormat ?? "other")")
    }
  }

  public func finish(_ state: NamedSamples, _ context: FinishContext) -> [Finding] {
    guard state.count > 0 else { return [] }
    let n = state.count
    return [
      Finding(
        kind: .extensionMismatch, severity: context.severity,
        detail: "\(n) file\(n == 1 ? " holds" : "s hold") one image format under another's extension: \(state.list); "
          + "datasan decodes by the bytes, loaders that go by the extension fail; rename or re-encode")
    ]
  }
}
