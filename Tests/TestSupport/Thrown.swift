import Testing

/// The error of type `E` that `body` throws; nil, recorded as a test failure, when it throws none
/// or another error. (`thrown(DatasanError.self) { ... }`: the test targets' error helper.)
public func thrown<E: Error>(
  _ type: E.Type, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) -> E? {
  do {
    try body()
    Issue.record("expected a \(E.self), nothing was thrown", sourceLocation: sourceLocation)
  } catch let error as E {
    return error
  } catch {
    Issue.record("expected a \(E.self), got \(error)", sourceLocation: sourceLocation)
  }
  return nil
}
