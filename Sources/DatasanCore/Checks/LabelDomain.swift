extension FindingKind {
  public static let labelOutOfDomain = FindingKind(
    "label_out_of_domain", .sample, meaning: "the label is outside the domain of the loss")
}

/// The label rules of SPEC.md: which labels each loss accepts. As a check, each readable sample's
/// label: `nan_value` / `inf_value` for a NaN or infinite label, else `label_out_of_domain`.
public struct LabelDomain: SampleCheck {
  public static let kinds: [FindingKind] = [.nanValue, .infValue, .labelOutOfDomain]

  public let loss: LossKind
  public let numClasses: Int?
  public let ignoreLabel: Double?
  /// The label's name in findings.
  let field: String
  /// The class list, when known: then its length is the number of classes (unless --num-classes).
  var classNames: [String]? = nil

  public init(loss: LossKind, numClasses: Int?, ignoreLabel: Double?) {
    self.loss = loss
    self.numClasses = numClasses
    self.ignoreLabel = ignoreLabel
    field = "label"
  }

  public init(options: CheckOptions, info: DatasetInfo) {
    loss = options.loss
    numClasses = options.numClasses ?? info.classNames?.count
    ignoreLabel = options.ignoreLabel
    field = info.labelName ?? "label"
    classNames = info.classNames
  }

  public func check(_ batch: SampleBatch, positions: [Int], into findings: inout [SampleFinding]) {
    guard let labels = batch.labels else { return }
    if let vectors = batch.labelVectors {
      checkVectors(vectors, width: batch.labelWidth, batch, positions: positions, into: &findings)
      return
    }
    for i in positions {
      let label = labels[i]
      if label.isNaN {
        findings.append(SampleFinding(i, of: batch, kind: .nanValue, field: field, detail: "label is NaN or missing"))
      } else if label.isInfinite {
        findings.append(SampleFinding(i, of: batch, kind: .infValue, field: field, detail: "label is \(label > 0 ? "+Inf" : "-Inf")"))
      } else if let why = violation(label) {
        findings.append(SampleFinding(i, of: batch, kind: .labelOutOfDomain, field: field, detail: why))
      }
    }
  }

  /// One-hot / soft labels of K entries: NaN / Inf entries are `nan_value` / `inf_value`; with
  /// cross-entropy a row must be a distribution (entries in [0, 1] summing to 1 within 1e-6), with
  /// binary (multi-label) every entry in [0, 1], with log every entry >= 0.
  func checkVectors(
    _ vectors: [Double], width k: Int, _ batch: SampleBatch, positions: [Int], into findings: inout [SampleFinding]
  ) {
    for i in positions {
      let row = vectors[(i * k)..<((i + 1) * k)]
      if let j = row.firstIndex(where: { $0.isNaN }) {
        findings.append(SampleFinding(i, of: batch, kind: .nanValue, field: field, detail: "label entry \(j - i * k) is NaN or missing"))
        continue
      }
      if let j = row.firstIndex(where: { $0.isInfinite }) {
        let sign = row[j] > 0 ? "+Inf" : "-Inf"
        findings.append(SampleFinding(i, of: batch, kind: .infValue, field: field, detail: "label entry \(j - i * k) is \(sign)"))
        continue
      }
      var why: String? = nil
      switch loss {
      case .crossEntropy, .binary:
        if let j = row.firstIndex(where: { $0 < 0 || $0 > 1 }) {
          why = "label entry \(j - i * k) is \(LabelDomain.format(row[j])), outside [0, 1] (--loss \(loss == .binary ? "binary" : "cross-entropy"))"
        } else if loss == .crossEntropy {
          let sum = row.reduce(0, +)
          if Swift.abs(sum - 1) > 1e-6 {
            why = "label entries sum to \(LabelDomain.format(sum)), not 1 (--loss cross-entropy needs a distribution over the \(k) classes)"
          }
        }
      case .log:
        if let j = row.firstIndex(where: { $0 < 0 }) {
          why = "label entry \(j - i * k) is \(LabelDomain.format(row[j])), negative (--loss log)"
        }
      case .regression, .none:
        break
      }
      if let why { findings.append(SampleFinding(i, of: batch, kind: .labelOutOfDomain, field: field, detail: why)) }
    }
  }

  /// Why `label` is outside the domain, or nil when it is allowed.
  /// NaN and Inf are not judged here: they are `nan_value` / `inf_value`.
  public func violation(_ label: Double) -> String? {
    if !label.isFinite { return nil }
    if let ignoreLabel, label == ignoreLabel { return nil }
    var text: String { LabelDomain.format(label) }  // only for a label outside the domain: not per sample
    switch loss {
    case .crossEntropy:
      if label != label.rounded() { return "label \(text) is not an integer class index (--loss cross-entropy)" }
      if label < 0 { return "label \(text) is negative (--loss cross-entropy needs a class index >= 0)" }
      if let k = numClasses, label >= Double(k) {
        if numClasses != classNames?.count || classNames == nil {
          return "label \(text) is not below --num-classes \(k) (valid classes are 0..\(k - 1))"
        }
        return "label \(text) is not below the \(k) classes (\(ClassList.list(classNames ?? [], limit: 5)); valid labels are 0..\(k - 1))"
      }
    case .log:
      if label < 0 { return "label \(text) is negative (--loss log needs labels >= 0)" }
    case .binary:
      if label < 0 || label > 1 { return "label \(text) is outside [0, 1] (--loss binary)" }
    case .regression, .none:
      break
    }
    return nil
  }

  /// A label as a user would write it: integers without a fraction.
  public static func format(_ x: Double) -> String {
    if x == x.rounded(), Swift.abs(x) < 1e15 { return String(Int64(x)) }
    return String(x)
  }
}
