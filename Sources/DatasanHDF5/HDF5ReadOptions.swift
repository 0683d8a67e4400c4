import ArgumentParser
import DatasanCore

/// How to read an HDF5 file: which datasets hold the features and the labels.
public struct HDF5ReadOptions: FormatReadOptions, Equatable {
  /// The feature dataset (`--dataset`).
  public var dataset = "data"
  /// The label dataset (`--labels`); nil means `label` when present.
  public var labels: String? = nil

  public init() {}
}

extension ReadOptions {
  /// HDF5: the feature dataset (`--dataset`).
  public var dataset: String {
    get { self[HDF5ReadOptions.self].dataset }
    set { self[HDF5ReadOptions.self].dataset = newValue }
  }

  /// HDF5: the label dataset (`--labels`); nil means `label` when present.
  public var labels: String? {
    get { self[HDF5ReadOptions.self].labels }
    set { self[HDF5ReadOptions.self].labels = newValue }
  }
}

/// The command-line options of HDF5 inputs (and their datasan.yml keys).
public struct HDF5Options: ParsableArguments, FormatOptionGroup {
  @Option(help: "HDF5: the feature dataset, axis 0 = samples; default data. NPZ: the feature array (e.g. --dataset /train/images, --dataset x_train).")
  public var dataset: String?
  @Option(help: "HDF5: the label dataset, shape (N) or (N,1); default 'label' when present. NPZ: the label array; NPY: the labels' .npy file (e.g. --labels y, --labels y_train.npy).")
  public var labels: String?

  public static let configTypes: [String: ConfigType] = [:]

  public init() {}

  public func apply(to options: inout ReadOptions) {
    if let dataset { options.dataset = dataset }
    options.labels = labels
  }

  public static func template(for info: DatasetInfo, read: ReadOptions) -> [TemplateEntry] {
    guard info.format == .hdf5 else { return [] }
    var entries = [TemplateEntry("dataset", TemplateEntry.yaml(read.dataset))]
    if let labels = info.labelName {
      entries.append(TemplateEntry("labels", TemplateEntry.yaml(labels)))
    } else {
      entries.append(TemplateEntry("labels", "label", comment: "no label dataset found; name it to check labels", commentedOut: true))
    }
    return entries
  }
}
