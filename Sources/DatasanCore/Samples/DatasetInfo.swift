/// The formats datasan reads and writes.
public enum DataFormat: String, Sendable, CaseIterable, Codable {
  case hdf5, lmdb, png, csv

  /// The file extension the format's outputs get (without the dot; empty for a folder).
  public var fileExtension: String {
    switch self {
    case .hdf5: return "h5"
    case .lmdb: return "lmdb"
    case .csv: return "csv"
    case .png: return ""
    }
  }
}

/// How an HDF5 input stores its datasets, so that an HDF5 output can keep it.
public struct HDF5Layout: Sendable, Equatable {
  /// Chunk dimensions of the feature dataset (sample axis first), nil when contiguous.
  public var chunks: [Int]?
  /// gzip (deflate) level, nil when not compressed.
  public var gzipLevel: Int?
  public var shuffle: Bool
  public var fletcher32: Bool
  /// Element type of the label dataset as stored.
  public var labelType: ElementType?
  /// Rank of the label dataset: 1 for (N), 2 for (N, 1).
  public var labelRank: Int

  public init(
    chunks: [Int]? = nil, gzipLevel: Int? = nil, shuffle: Bool = false, fletcher32: Bool = false,
    labelType: ElementType? = nil, labelRank: Int = 1
  ) {
    self.chunks = chunks
    self.gzipLevel = gzipLevel
    self.shuffle = shuffle
    self.fletcher32 = fletcher32
    self.labelType = labelType
    self.labelRank = labelRank
  }
}

/// How a CSV input is laid out, so that a CSV output can keep header, order and text columns.
public struct CSVLayout: Sendable, Equatable {
  /// The field separator.
  public var delimiter: UInt8
  /// The header's field names, or nil when the file has no header.
  public var header: [String]?
  /// The header line exactly as it was in the file (without its line ending).
  public var headerLine: [UInt8]?
  /// Number of fields in every record.
  public var columnCount: Int
  /// Column indexes of the numeric feature columns, in order (feature group `g` is column `featureColumns[g]`).
  public var featureColumns: [Int]
  /// Column index of the label, if any.
  public var labelColumn: Int?
  /// Column indexes of text columns (passed through).
  public var textColumns: [Int]
  /// The line ending the file uses ("\n" or "\r\n").
  public var lineEnding: [UInt8]

  public init(
    delimiter: UInt8, header: [String]?, headerLine: [UInt8]?, columnCount: Int, featureColumns: [Int],
    labelColumn: Int?, textColumns: [Int], lineEnding: [UInt8]
  ) {
    self.delimiter = delimiter
    self.header = header
    self.headerLine = headerLine
    self.columnCount = columnCount
    self.featureColumns = featureColumns
    self.labelColumn = labelColumn
    self.textColumns = textColumns
    self.lineEnding = lineEnding
  }
}

/// Format-specific layout of an input, kept so a same-format output can preserve it.
public enum SourceLayout: Sendable, Equatable {
  /// Nothing to preserve beyond names and shapes.
  case plain
  case hdf5(HDF5Layout)
  case csv(CSVLayout)
  /// A PNG folder; `listFile` is the name of the `--list` file when samples came from one.
  case pngFolder(listFile: String?)
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
  /// Format-specific layout.
  public var layout: SourceLayout

  // What the reader tells the checks and the reports about its samples (set after init).
  /// Every sample is an image (the HTML report shows thumbnails of flagged ones).
  public var samplesAreImages = false
  /// A missing value is read as NaN (details say "NaN or missing").
  public var missingValuesReadAsNaN = false
  /// A sample's key is its line number in the input file (annotations point at the line).
  public var keysAreLineNumbers = false
  /// The file type of a folder's samples ("png"), for messages about the files that are not.
  public var sampleFileType: String? = nil

  public init(
    format: DataFormat, path: String, sampleCount: Int?, elementType: ElementType, sampleShape: [Int]?,
    featureName: String, labelName: String?, groupNames: [String]? = nil, layout: SourceLayout = .plain
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
