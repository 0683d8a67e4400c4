import ArgumentParser
import DatasanCore

extension DataFormat {
  /// NumPy arrays: `.npy` files and `.npz` archives of them.
  public static let npy = DataFormat(rawValue: "npy")
}

/// Recognizes NumPy files by their bytes, for format auto-detection.
public enum NPYFormat {
  /// Whether bytes start with the `.npy` magic.
  public static func isNPY(magic: some Collection<UInt8>) -> Bool { magic.starts(with: NPYHeader.magic) }

  /// Whether a zip archive (its first bytes `magic`) at `path` holds `.npy` members: an `.npz`.
  /// Nil when it is no zip archive; false for a zip of other things.
  public static func zipHoldsArrays(path: String, magic: some Collection<UInt8>) -> Bool? {
    guard NPYZipDirectory.looksLikeZip(magic) else { return nil }
    guard let file = try? NPYFile(path: path) else { return false }
    guard let directory = try? NPYZipDirectory.parse(fileSize: file.size, read: file.bytes) else { return false }
    return directory.members.contains { $0.name.hasSuffix(".npy") } || directory.members.isEmpty
  }
}

/// How an NPY input is laid out, so that an NPY output can keep its label type.
public struct NPYLayout: SourceLayout, Equatable {
  public var labelType: ElementType?
  /// Rank of the label array: 1 for (N,), 2 for (N, 1).
  public var labelRank: Int
  /// Whether the features were stored in Fortran order (an output is always C order).
  public var fortranOrder: Bool

  public init(labelType: ElementType? = nil, labelRank: Int = 1, fortranOrder: Bool = false) {
    self.labelType = labelType
    self.labelRank = labelRank
    self.fortranOrder = fortranOrder
  }
}

/// How to read an NPY input: which arrays hold the features and the labels. Set from the options
/// `--dataset` and `--labels` (declared once, with HDF5's, meaning the same: the feature array and
/// the label array of an `.npz`; for a `.npy` input, `--labels` names the labels' `.npy` file).
public struct NPYReadOptions: FormatReadOptions, Equatable {
  /// The feature array of an `.npz` (`--dataset`); nil: `data`, or the only array.
  public var dataset: String? = nil
  /// The label array of an `.npz` or the labels' `.npy` file (`--labels`); nil: an `.npz`'s
  /// `label` member when present, none for a `.npy`; empty: none.
  public var labels: String? = nil

  public init() {}
}

/// The NPY input's own command-line options: none; `--dataset` and `--labels` are HDF5's options,
/// which the registry hands to ``NPYReadOptions`` too. What `datasan init` writes for an NPY input.
public struct NPYOptions: ParsableArguments, FormatOptionGroup {
  public static let configTypes: [String: ConfigType] = [:]

  public init() {}

  public func apply(to options: inout ReadOptions) {}

  public static func template(for info: DatasetInfo, read: ReadOptions) -> [TemplateEntry] {
    guard info.format == .npy else { return [] }
    var entries: [TemplateEntry] = []
    if let dataset = read[NPYReadOptions.self].dataset { entries.append(TemplateEntry("dataset", TemplateEntry.yaml(dataset))) }
    if let labels = info.labelName {
      entries.append(TemplateEntry("labels", TemplateEntry.yaml(labels)))
    } else {
      entries.append(
        TemplateEntry("labels", "y_train.npy", comment: "no labels given; name the labels' .npy file (or .npz array) to check them", commentedOut: true))
    }
    return entries
  }
}
