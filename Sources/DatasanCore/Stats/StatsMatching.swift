/// How `clean --stats-in` pairs the saved statistics with the groups of the input it normalizes.
extension NormalizationParameters {
  /// The parameters in the order of `names`, the input's feature groups.
  ///
  /// When the input names its groups (CSV columns: `byName`), each group gets the statistics saved
  /// under its own name, whatever the order of the columns (the n-th group of a name repeated in the
  /// header gets the n-th saved group of that name); a group without statistics, or statistics for a
  /// group the input lacks, is exit 2 with one line listing them. Groups the input does not name
  /// (channels, the columns of an N x D array) are paired by position, and their counts must agree.
  ///
  /// - Parameters:
  ///   - file: the `--stats-in` path, and `input` the input's, for the message.
  public func matched(to names: [String], byName: Bool, file: String, input: String) throws -> NormalizationParameters {
    guard byName else {
      if groups.count != names.count {
        throw DatasanError(
          path: file, "has \(groups.count) feature groups, \(input) has \(names.count); it was written for other data")
      }
      return self
    }
    var saved: [String: [Int]] = [:]  // name -> positions in the file, in order
    for (k, g) in groups.enumerated() { saved[g.name, default: []].append(k) }
    var taken: [String: Int] = [:]
    var order: [Int] = []
    var missing: [String] = []
    for name in names {
      let n = taken[name, default: 0]
      taken[name] = n + 1
      if let positions = saved[name], n < positions.count {
        order.append(positions[n])
      } else {
        missing.append(name)
      }
    }
    var extra: [String] = []
    for (k, g) in groups.enumerated() where !(saved[g.name]!.firstIndex(of: k)! < taken[g.name, default: 0]) {
      extra.append(g.name)
    }
    if !missing.isEmpty || !extra.isEmpty {
      var parts: [String] = []
      if !missing.isEmpty {
        parts.append("no statistics for \(Self.list(missing)) of \(input)")
      }
      if !extra.isEmpty {
        parts.append("statistics for \(Self.list(extra)), not in \(input)")
      }
      throw DatasanError(
        path: file, "its feature groups are not \(input)'s (matched by name): " + parts.joined(separator: "; "))
    }
    var result = self
    result.groups = order.map { groups[$0] }
    return result
  }

  /// "'a', 'b', 'c'" (at most 5 names, then "and N more"), with the count first past one name.
  private static func list(_ names: [String]) -> String {
    let shown = names.prefix(5).map { "'\($0.messageName)'" }.joined(separator: ", ")
    let more = names.count > 5 ? " and \(names.count - 5) more" : ""
    return names.count == 1 ? "group \(shown)" : "\(names.count) groups (\(shown)\(more))"
  }
}
