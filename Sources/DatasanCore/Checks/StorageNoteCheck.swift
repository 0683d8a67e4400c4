/// A dataset check of how clean samples are stored, from the notes readers attach to them
/// (``StorageNote``): one finding of ``kind`` naming the noted samples (the first
/// ``NamedSamples/limit``, each with what its note says) and their count. A conformance says which
/// notes count and words the finding; collecting, merging and listing are here.
public protocol StorageNoteCheck: DatasetCheck where State == NamedSamples {
  /// The one kind the check reports.
  static var kind: FindingKind { get }
  /// What `note` says for this check (listed after the sample's key), nil when it is not this
  /// check's concern.
  static func noted(_ note: StorageNote) -> String?
  /// The finding's detail for `count` samples, listed as `list`.
  static func detail(count: Int, list: String) -> String
}

extension StorageNoteCheck {
  public static var kinds: [FindingKind] { [kind] }
  public static var name: String { kind.rawValue }

  public func makeState(_ context: CheckContext) -> NamedSamples { NamedSamples() }

  public func add(_ checked: CheckedBatch, to state: inout NamedSamples, _ context: CheckContext) {
    let batch = checked.batch
    guard !batch.storageNotes.isEmpty else { return }
    checked.forEachClean { i in
      guard let note = batch.storageNotes[i], let detail = Self.noted(note) else { return }
      state.add(index: batch.firstIndex + i, key: batch.key(of: i), detail: detail)
    }
  }

  public func finish(_ state: NamedSamples, _ context: FinishContext) -> [Finding] {
    guard state.count > 0 else { return [] }
    return [Finding(kind: Self.kind, severity: context.severity, detail: Self.detail(count: state.count, list: state.list))]
  }
}
