import ArgumentParser
import DatasanCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How to read a CSV file: its dialect and which columns are what.
public struct CSVReadOptions: FormatReadOptions, Equatable {
  /// `--delimiter`, nil to detect.
  public var delimiter: UInt8? = nil
  /// `--header` (true) / `--no-header` (false), nil to detect.
  public var header: Bool? = nil
  /// `--skip-rows`.
  public var skipRows = 0
  /// `--label-column` (a header name first, else a 0-based index).
  public var labelColumn: String? = nil
  /// `--text-columns`.
  public var textColumns: [String] = []
  /// `--decimal`: the decimal separator, nil to detect.
  public var decimal: CSVDecimal? = nil

  public init() {}
}

/// The decimal separator of a CSV file's numbers (`--decimal`, pandas' `decimal=`): `.`, or `,` as
/// European locales write them (then with `;` or tab between the fields).
public enum CSVDecimal: String, CaseIterable, Sendable, ExpressibleByArgument, Codable {
  case point = "."
  case comma = ","

  public static var allValueStrings: [String] { allCases.map { $0.rawValue } }

  /// The separator's byte.
  public var byte: UInt8 { self == .comma ? UInt8(ascii: ",") : UInt8(ascii: ".") }
}

extension ReadOptions {
  /// CSV: `--delimiter`, nil to detect.
  public var delimiter: UInt8? {
    get { self[CSVReadOptions.self].delimiter }
    set { self[CSVReadOptions.self].delimiter = newValue }
  }

  /// CSV: `--header` (true) / `--no-header` (false), nil to detect.
  public var header: Bool? {
    get { self[CSVReadOptions.self].header }
    set { self[CSVReadOptions.self].header = newValue }
  }

  /// CSV: `--skip-rows`.
  public var skipRows: Int {
    get { self[CSVReadOptions.self].skipRows }
    set { self[CSVReadOptions.self].skipRows = newValue }
  }

  /// CSV: `--label-column` (a header name first, else a 0-based index).
  public var labelColumn: String? {
    get { self[CSVReadOptions.self].labelColumn }
    set { self[CSVReadOptions.self].labelColumn = newValue }
  }

  /// CSV: `--text-columns`.
  public var textColumns: [String] {
    get { self[CSVReadOptions.self].textColumns }
    set { self[CSVReadOptions.self].textColumns = newValue }
  }

  /// CSV: `--decimal`, nil to detect.
  public var decimal: CSVDecimal? {
    get { self[CSVReadOptions.self].decimal }
    set { self[CSVReadOptions.self].decimal = newValue }
  }
}

/// The command-line options of CSV inputs (and their datasan.yml keys).
public struct CSVOptions: ParsableArguments, FormatOptionGroup {
  @Option(parsing: .unconditional, help: "CSV: field delimiter, detected among , ; tab when not given (e.g. --delimiter ';' or --delimiter tab).")
  public var delimiter: String?
  @Flag(inversion: .prefixedNo, help: "CSV: the first row is (--header) or is not (--no-header) a header; detected when not given.")
  public var header: Bool?
  @Option(help: "CSV: skip this many leading lines; default 0 (e.g. --skip-rows 2).")
  public var skipRows: Int?
  @Option(help: "CSV: the label column, a header name or a 0-based index; default the column named 'label' (e.g. --label-column target).")
  public var labelColumn: String?
  @Option(help: "CSV: columns to pass through as text, names or indexes (e.g. --text-columns id,comment).")
  public var textColumns: String?
  @Option(
    help: ArgumentHelp(
      "CSV: the decimal separator of the numbers, as pandas' decimal=; detected when not given: ',' when the "
        + "delimiter is ';' or tab and the numbers use commas (e.g. --decimal ,).", valueName: "separator"))
  public var decimal: CSVDecimal?

  public static let configTypes: [String: ConfigType] = ["delimiter": .delimiter, "skip-rows": .int(min: 0), "text-columns": .list]

  public init() {}

  public func validate() throws {
    if let delimiter, CSVOptions.byte(of: delimiter) == nil {
      throw ValidationError("--delimiter must be one character or 'tab', not '\(delimiter)'")
    }
    if let skipRows, skipRows < 0 { throw ValidationError("--skip-rows must be >= 0") }
  }

  /// `tab`, `\t` or one character.
  static func byte(of delimiter: String) -> UInt8? {
    switch delimiter {
    case "tab", "\\t", "\t": return UInt8(ascii: "\t")
    case _ where delimiter.utf8.count == 1: return delimiter.utf8.first
    default: return nil
    }
  }

  public func apply(to options: inout ReadOptions) {
    options.delimiter = delimiter.flatMap(CSVOptions.byte(of:))
    options.header = header
    options.skipRows = skipRows ?? 0
    options.labelColumn = labelColumn
    options.textColumns = textColumns.map { $0.split(separator: ",").map { $0.trimmingWhitespace() } } ?? []
    options.decimal = decimal
  }

  public static func template(for info: DatasetInfo, read: ReadOptions) -> [TemplateEntry] {
    guard info.format == .csv else { return [] }
    var entries: [TemplateEntry] = []
    var delimiter = read.delimiter
    if delimiter == nil, let layout = info.layout as? CSVLayout, layout.delimiter != UInt8(ascii: ",") {
      delimiter = layout.delimiter
    }
    if let d = delimiter {
      entries.append(TemplateEntry("delimiter", d == UInt8(ascii: "\t") ? "tab" : TemplateEntry.yaml(String(UnicodeScalar(d)))))
    }
    if let h = read.header { entries.append(TemplateEntry("header", h ? "true" : "false")) }
    if read.skipRows > 0 { entries.append(TemplateEntry("skip_rows", String(read.skipRows))) }
    if let labels = info.labelName {
      entries.append(TemplateEntry("label_column", TemplateEntry.yaml(read.labelColumn ?? labels)))
    } else {
      entries.append(
        TemplateEntry(
          "label_column", "label", comment: "no column named 'label'; name the label column (or its 0-based index)",
          commentedOut: true))
    }
    // The decimal separator and the text columns found, so that the gate reads the file as `init` did.
    let layout = info.layout as? CSVLayout
    if let decimal = read.decimal ?? (layout?.decimal == .comma ? .comma : nil) {
      entries.append(TemplateEntry("decimal", "'\(decimal.rawValue)'"))
    }
    var texts = read.textColumns
    var mixed: [String] = []
    for column in info.columns where column.role == .text && !texts.contains(column.name) {
      texts.append(column.name)
      if column.finding == FindingKind.mixedColumn.rawValue { mixed.append(column.name) }
    }
    if !texts.isEmpty {
      let comment =
        mixed.isEmpty
        ? "columns passed through as text (pandas reads them as text)"
        : "columns passed through as text; "
          + mixed.map { "'\($0.messageName)'" }.joined(separator: ", ")
          + " mostly numbers with some text (mixed_column): remove from this list if a feature, and fix its values"
      entries.append(
        TemplateEntry(
          "text_columns", "[" + texts.map(TemplateEntry.yaml).joined(separator: ", ") + "]", comment: comment))
    }
    return entries
  }
}
