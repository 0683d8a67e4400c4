/// An error that stops a command (exit code 2): one line naming the file and the problem.
public struct DatasanError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The file (and dataset / key / line) the problem is about, if any.
  public var path: String?
  /// What is wrong, in words a user can act on.
  public var message: String

  public init(path: String? = nil, _ message: String) {
    self.path = path
    self.message = message
  }

  public var description: String {
    if let path { return "\(path): \(message)" }
    return message
  }
}
