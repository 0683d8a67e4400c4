import DatasanCore

extension DataFormat {
  /// CSV (and TSV) files.
  public static let csv = DataFormat(rawValue: "csv")
}

/// How a CSV input is laid out, so that a CSV output can keep header, order and text columns.
public struct CSVLayout: SourceLayout, Equatable {
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
  /// The decimal separator of the numbers (a CSV output writes its numbers with it).
  public var decimal: CSVDecimal

  public init(
    delimiter: UInt8, header: [String]?, headerLine: [UInt8]?, columnCount: Int, featureColumns: [Int],
    labelColumn: Int?, textColumns: [Int], lineEnding: [UInt8], decimal: CSVDecimal = .point
  ) {
    self.decimal = decimal
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
