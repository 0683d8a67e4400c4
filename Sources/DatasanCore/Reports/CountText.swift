extension Int {
  /// The number with a comma between groups of three digits ("4,090"), as details and the summary
  /// write counts.
  public var withSeparators: String {
    let digits = String(magnitude)
    var out = self < 0 ? "-" : ""
    for (k, c) in digits.enumerated() {
      if k > 0 && (digits.count - k) % 3 == 0 { out.append(",") }
      out.append(c)
    }
    return out
  }
}

/// What a dataset finding's statistics are over, in its detail.
public enum Over {
  /// "over the 342 clean samples" (the statistics of the dataset checks leave the flagged ones
  /// out), or "over the clean samples" when the count is not known.
  public static func cleanSamples(_ n: Int?) -> String {
    guard let n else { return "over the clean samples" }
    return n == 1 ? "over the 1 clean sample" : "over the \(n.withSeparators) clean samples"
  }
}
