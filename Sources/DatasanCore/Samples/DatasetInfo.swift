/// A format's name, as `--format`, the summary and the JSON report show it ("hdf5"). The format
/// targets define theirs (`DataFormat.hdf5` in DatasanHDF5) and register with the umbrella
/// `Datasan` library; the core names none.
public struct DataFormat: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
  public let rawValue: String

  public init(rawValue: String) { self.rawValue = rawValue }

  public var description: String { rawValue }
}

/// What a format keeps about how its input is laid out (an HDF5 file's chunks and label type, a
/// CSV file's header and columns), so that a same-format output can keep it. Each format defines
/// its own; the core reads only what this protocol says.
public protocol SourceLayout: Sendable {
  /// The element type the input stores its labels as, when the format keeps one: the labels of a
  /// clean output keep it.
  var labelType: ElementType? { get }
}

extension SourceLayout {
  public var labelType: ElementType? { nil }
}

/// What a reader knows about its dataset once it is open.
public struct DatasetInfo: Sendable {
  /// The format of the input.
  public var format: DataFormat
  /// The input path as the user gave it.
  public var path: String
  /// Number of samples, when the format knows it up front.
  public var sampleCount: Int?
  /// Element type of the feature values the reader yields.
  public var elementType: ElementType
  /// Shape of a sample (without the sample axis), when every sample shares one known shape.
  public var sampleShape: [Int]?
  /// Name of the features ("data", "/train/images"; "features" for CSV).
  public var featureName: String
  /// Name of the labels ("label"; the CSV column name), nil when the dataset has none.
  public var labelName: String?
  /// Names of the feature groups when the format has them (CSV column names).
  public var groupNames: [String]?
  /// Format-specific layout, nil when there is nothing to keep beyond names and shapes.
  public var layout: (any SourceLayout)?
  // What the reader tells the checks and the reports about its samples (set after init).
  /// Every sample is an image (the HTML report shows thumbnails of flagged ones).
  public var samplesAreImages = false
  /// A missing value is read as NaN (details say "NaN or missing").
  public var missingValuesReadAsNaN = false
  /// A sample's key is its line number in the input file (annotations point at the line).
  public var keysAreLineNumbers = false
  /// The file types of a folder's samples as users name them (".png, .jpg or .jpeg"), for messages
  /// about the files that are not.
  public var sampleFileType: String? = nil
  /// The names of the classes in label order (label `i` is class `classNames[i]`), when known: an
  /// image folder's class folders, `--classes`, an HDF5 label dataset's `classes` attribute.
  public var classNames: [String]? = nil
  /// The labels of the given classes (`--classes`) that have no folder in an image folder: their
  /// `class_missing` says so.
  public var classesWithoutFolder: [Int] = []
  /// A table's columns as the reader typed them (feature, label, text, and why), in file order;
  /// empty for formats without columns.
  public var columns: [ColumnTyping] = []
  /// Where the labels come from, as the summary and the JSON report name it ("column 'species'",
  /// "dataset '/label'", "class folder names"); nil: said from ``labelName``. No labels: "none".
  public var labelSource: String? = nil
  /// How the input stores its labels (numbers, class names, vectors of K entries).
  public var labelEncoding: LabelEncoding = .numbers
  /// Decisions about how the input was read that the summary states in one line each ("decimal
  /// comma (detected: ...)").
  public var readingNotes: [String] = []

  public init(
    format: DataFormat, path: String, sampleCount: Int?, elementType: ElementType, sampleShape: [Int]?,
    featureName: String, labelName: String?, groupNames: [String]? = nil, layout: (any SourceLayout)? = nil
  ) {
    self.format = format
    self.path = path
    self.sampleCount = sampleCount
    self.elementType = elementType
    self.sampleShape = sampleShape
    self.featureName = featureName
    self.labelName = labelName
    self.groupNames = groupNames
    self.layout = layout
  }
}

/// How an input stores its labels; the batches always carry one number per sample (``SampleBatch/labels``).
public enum LabelEncoding: Sendable, Equatable {
  /// One number per sample (a class index or a target value).
  case numbers
  /// One string per sample, mapped to the index of its class in ``DatasetInfo/classNames`` (sorted as
  /// scikit-learn's `LabelEncoder` does, or in the given `--classes` order).
  case classNames(given: Bool)
  /// One-hot or soft labels: `width` numbers per sample (``SampleBatch/labelVectors``); the batch's
  /// `labels` hold each row's arg-max class (the first largest entry).
  case vectors(width: Int)

  /// The JSON report's word for it.
  public var name: String {
    switch self {
    case .numbers: return "numbers"
    case .classNames: return "class_names"
    case .vectors: return "vectors"
    }
  }
}

extension DatasetInfo {
  /// Where the labels come from and how they are stored, in one line for the summary and the
  /// report: "column 'species' (class names mapped to indices, sorted as LabelEncoder)", or
  /// "none, not checked".
  public var labelDescription: String {
    guard let labelName else { return "none, not checked" }
    let source = labelSource ?? "'\(labelName)'"
    switch labelEncoding {
    case .numbers: return source
    case .classNames(let given):
      return source + " (class names, mapped to indices "
        + (given ? "in the order of --classes)" : "in sorted order as scikit-learn's LabelEncoder does)")
    case .vectors(let width):
      return source + " (one-hot / soft: \(width) entries per sample; counted by arg-max class)"
    }
  }
}
