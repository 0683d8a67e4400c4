extension FindingKind {
  /// A table column that is mostly numbers but holds some text: pandas reads it as text (object
  /// dtype), so it is no feature there. The reader reports it (``SampleReader/layoutFindings``), one
  /// finding per column, an error without `--strict`: the user decides (`--text-columns`, or fix the
  /// values), datasan does not silently drop a column that looks like a feature.
  public static let mixedColumn = FindingKind(
    "mixed_column", .dataset, severity: .error,
    meaning: "a mostly numeric column holds text; pandas reads it as text")
}
