extension FindingKind {
  public static let classMissing = FindingKind("class_missing", .dataset, meaning: "a class without any sample")
  public static let classImbalance = FindingKind(
    "class_imbalance", .dataset, meaning: "the rarest class has under 1% of the most frequent one's samples")
}

/// The range and histogram of the labels of the clean samples (the JSON report's `stats.labels`),
/// and, for a classification loss, the classes that are missing or rare.
public struct LabelCheck: DatasetCheck {
  public static let kinds: [FindingKind] = [.classMissing, .classImbalance]
  public static let name = "labels"

  public struct State: CheckState, Equatable {
    public var labels = LabelStats()
    /// Count per class index of the flagged samples' labels (integers in [0, 2^31)), so that a
    /// class whose samples were all flagged is told apart from one without samples.
    public var flagged: [Int64: Int] = [:]

    public mutating func merge(_ other: State) {
      labels.merge(other.labels)
      flagged.merge(other.flagged, uniquingKeysWith: +)
    }
  }

  public init() {}

  public func makeState(_ context: CheckContext) -> State { State() }

  public func add(_ checked: CheckedBatch, to state: inout State, _ context: CheckContext) {
    guard let labels = checked.batch.labels else { return }
    checked.forEachClean { i in state.labels.add(labels[i]) }
    for i in checked.verdict.flagged where i < labels.count {
      let label = labels[i]
      if label == label.rounded(), label >= 0, label < 2_147_483_648 { state.flagged[Int64(label), default: 0] += 1 }
    }
  }

  public func finish(_ state: State, _ context: FinishContext) -> [Finding] {
    guard context.info.labelName != nil else { return [] }
    var labels = state.labels
    labels.settle()
    return Self.findings(
      labels: labels, options: context.options, info: context.info, flagged: state.flagged,
      cleanSamples: context.cleanSamples)
  }

  /// The class findings of these label statistics. With a class list (`info.classNames`), classes
  /// are named and its length is the number of classes unless `--num-classes` says otherwise.
  /// `flagged` counts the flagged samples per class: a class with only flagged samples "has no clean
  /// sample (3 flagged)".
  static func findings(
    labels: LabelStats, options: CheckOptions, info: DatasetInfo? = nil, flagged: [Int64: Int] = [:],
    cleanSamples: Int? = nil
  ) -> [Finding] {
    guard options.loss.isClassification, labels.values.count > 0 else { return [] }
    let severity: Severity = options.strict ? .error : .warning
    let num = DatasetChecks.num
    let names = info?.classNames
    let name = { (c: Int64) in ClassList.describe(c, names) }
    var out: [Finding] = []
    if let k = options.numClasses ?? names?.count {
      let source = options.classNames != nil ? "--classes" : options.numClasses != nil ? "--num-classes \(k)" : "the \(k) classes"
      let noFolder = Set(info?.classesWithoutFolder ?? [])
      for c in 0..<k where labels.histogram[Int64(c)] == nil {
        let detail: String
        let quarantined = flagged[Int64(c)] ?? 0
        if noFolder.contains(c), let names, c < names.count {
          detail = "class \(name(Int64(c))) of \(source) has no sample: the image folder has no folder '\(names[c])'"
            + " (deleted or renamed? the labels of the others still follow the list)"
        } else if quarantined > 0 {
          detail = "class \(name(Int64(c))) of \(source) has no clean sample (\(quarantined.withSeparators) flagged, "
            + "which datasan clean moves to the quarantine)"
        } else {
          detail = "class \(name(Int64(c))) of \(source) has no sample"
        }
        out.append(Finding(kind: .classMissing, severity: severity, field: "label", detail: detail))
      }
    }
    let present = labels.histogram.filter { $0.value > 0 }
    if present.count >= 2 {
      let most = present.max { ($0.value, $1.key) < ($1.value, $0.key) }!
      let rarest = present.min { ($0.value, $0.key) < ($1.value, $1.key) }!
      if Double(rarest.value) < options.classImbalanceRatio * Double(most.value) {
        out.append(
          Finding(
            kind: .classImbalance, severity: severity, field: "label",
            detail: "class \(name(rarest.key)) has \(rarest.value) sample\(rarest.value == 1 ? "" : "s"), "
              + "class \(name(most.key)) has \(most.value) (\(num(Double(most.value) / Double(rarest.value)))x) "
              + "\(Over.cleanSamples(cleanSamples)); consider re-sampling or class weights"))
      }
    }
    return out
  }
}
