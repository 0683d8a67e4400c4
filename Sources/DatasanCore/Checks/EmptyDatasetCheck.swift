extension FindingKind {
  /// An input of 0 samples: a gate that passes it would let a training run start on nothing (a
  /// header-only CSV, an empty dataset, list or folder, a wrong `--dataset`). An error by itself.
  public static let emptyDataset = FindingKind(
    "empty_dataset", .dataset, severity: .error, meaning: "the input holds no sample")
}

/// Counts the samples read (flagged or not); reports `empty_dataset` when there were none. The
/// count merges by adding, so shards of which some are empty give the whole input's answer.
public struct EmptyDatasetCheck: DatasetCheck {
  public static let kinds: [FindingKind] = [.emptyDataset]
  public static let name = "empty_dataset"

  public struct State: CheckState, Equatable {
    public var samples = 0

    public mutating func merge(_ other: State) { samples += other.samples }
  }

  public init() {}

  public func makeState(_ context: CheckContext) -> State { State() }

  public func add(_ checked: CheckedBatch, to state: inout State, _ context: CheckContext) {
    state.samples += checked.batch.count
  }

  public func finish(_ state: State, _ context: FinishContext) -> [Finding] {
    guard state.samples == 0 else { return [] }
    return [
      Finding(
        kind: .emptyDataset, severity: .error,
        detail: "\(context.info.path.messageName) holds no sample: nothing to check or to train on "
          + "(an empty table, dataset, list or folder, or the wrong one named?)")
    ]
  }
}
