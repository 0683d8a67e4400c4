#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The dataset findings of statistics gathered elsewhere, and how details write numbers.
public enum DatasetChecks {
  /// The findings of ``FeatureStatisticsCheck`` and ``LabelCheck`` for these statistics, in the
  /// order of ``FindingKind``.
  ///
  /// - Parameter fixCommand: the command a user can run to fix scale problems
  ///   (`datasan clean INPUT -o OUTPUT ...`), quoted in the details.
  public static func findings(
    groups: [GroupStats], labels: LabelStats?, options: CheckOptions, fixCommand: String
  ) -> [Finding] {
    FeatureStatisticsCheck.findings(groups: groups, options: options, fixCommand: fixCommand)
      + (labels.map { LabelCheck.findings(labels: $0, options: options) } ?? [])
  }

  /// A number in a detail: integers without a fraction, others with 6 significant digits.
  public static func num(_ x: Double) -> String {
    if x.isNaN { return "NaN" }
    if x.isInfinite { return x > 0 ? "inf" : "-inf" }
    if x == x.rounded(), Swift.abs(x) < 1e15 { return String(Int64(x)) }
    return String(cFormat: "%.6g", x)
  }
}
