/// How a reader typed one column of a table, and why: what the summary, the JSON report (`columns`)
/// and the HTML report show, so that no typing decision is silent.
public struct ColumnTyping: Sendable, Equatable, Codable {
  /// What a column is to datasan.
  public enum Role: String, Sendable, Codable {
    /// A numeric feature group.
    case feature
    /// The label.
    case label
    /// Passed through untouched (not checked, not normalized).
    case text
  }

  /// The column's name (its header field, or `column K` without a header).
  public var name: String
  public var role: Role
  /// Why, in a few words ("numbers: 1,000 of 1,000 values", "--text-columns", "text: 'PC 17609', ...").
  public var reason: String
  /// The kind of the dataset finding about the column (`mixed_column`), if any.
  public var finding: String?

  public init(name: String, role: Role, reason: String, finding: String? = nil) {
    self.name = name
    self.role = role
    self.reason = reason
    self.finding = finding
  }
}
