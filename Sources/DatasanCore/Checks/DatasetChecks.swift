import Foundation

/// The dataset findings of SPEC.md, computed from the statistics of the clean samples.
public enum DatasetChecks {
  /// Every dataset finding for these statistics, in the order of ``FindingKind``.
  ///
  /// - Parameter fixCommand: the command a user can run to fix scale problems
  ///   (`datasan clean INPUT -o OUTPUT ...`), quoted in the details.
  public static func findings(
    groups: [GroupStats], labels: LabelStats?, options: CheckOptions, fixCommand: String
  ) -> [Finding] {
    let severity: Severity = options.strict ? .error : .warning
    var out: [Finding] = []
    func add(_ kind: FindingKind, field: String?, _ detail: String) {
      out.append(Finding(kind: kind, severity: severity, field: field, detail: detail))
    }
    let measured = groups.filter { $0.values.count > 0 }

    for g in measured where g.values.maxMagnitude > options.scaleLimit {
      add(
        .unnormalizedScale, field: g.name,
        "\(g.name.messageName) ranges over [\(num(g.values.min)), \(num(g.values.max))], largest magnitude "
          + "\(num(g.values.maxMagnitude)) > --scale-limit \(num(options.scaleLimit)); fix: \(fixCommand) --normalize minmax")
    }

    let varying = measured.filter { !$0.values.isConstant && $0.values.std > 0 }
    if varying.count >= 2 {
      let widest = varying.max { $0.values.std < $1.values.std }!
      let narrowest = varying.min { $0.values.std < $1.values.std }!
      let ratio = widest.values.std / narrowest.values.std
      if ratio > options.scaleImbalanceRatio {
        add(
          .scaleImbalance, field: nil,
          "std of \(widest.name.messageName) (\(num(widest.values.std))) is \(ratio.isFinite ? num(ratio) : "over 1e308")x that of \(narrowest.name.messageName) "
            + "(\(num(narrowest.values.std))); fix: \(fixCommand) --normalize zscore")
      }
    }

    for g in measured where g.values.isConstant {
      add(
        .constantFeature, field: g.name,
        "\(g.name.messageName) is constant (\(num(g.values.min))) over \(g.values.count) values: z-score would divide by zero; "
          + "datasan clean maps it to 0")
    }

    for g in measured where g.extremeCount > 0 {
      add(
        .extremeValue, field: g.name,
        "\(g.name.messageName) has \(g.extremeCount) value\(g.extremeCount == 1 ? "" : "s") with magnitude >= --max-abs "
          + "\(num(options.maxAbs)) (largest \(num(g.extremeMax)))")
    }

    if let labels, options.loss.isClassification, labels.values.count > 0 {
      if let k = options.numClasses {
        for c in 0..<k where labels.histogram[Int64(c)] == nil {
          add(.classMissing, field: "label", "class \(c) of --num-classes \(k) has no sample")
        }
      }
      let present = labels.histogram.filter { $0.value > 0 }
      if present.count >= 2 {
        let most = present.max { ($0.value, $1.key) < ($1.value, $0.key) }!
        let rarest = present.min { ($0.value, $0.key) < ($1.value, $1.key) }!
        if Double(rarest.value) < options.classImbalanceRatio * Double(most.value) {
          add(
            .classImbalance, field: "label",
            "class \(rarest.key) has \(rarest.value) sample\(rarest.value == 1 ? "" : "s"), "
              + "class \(most.key) has \(most.value) (\(num(Double(most.value) / Double(rarest.value)))x); "
              + "consider re-sampling or class weights")
        }
      }
    }
    return out
  }

  /// A number in a detail: integers without a fraction, others with 6 significant digits.
  public static func num(_ x: Double) -> String {
    if x.isNaN { return "NaN" }
    if x.isInfinite { return x > 0 ? "inf" : "-inf" }
    if x == x.rounded(), Swift.abs(x) < 1e15 { return String(Int64(x)) }
    return String(format: "%.6g", x)
  }
}
