import DatasanCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a CSV reader counts over the records it reads for its `mixed_column` findings (per column:
/// the rows of a mixed column holding text or a placeholder, and the later text of a numeric column
/// with the first such value and its line), as a shard's partial report carries it.
struct CSVReaderState: Codable, Equatable {
  struct LateText: Codable, Equatable {
    var rows: Int
    var line: Int
    var value: String
  }

  var mixedRows: [Int]
  var placeholderRows: [Int]
  var lateText: [LateText?]

  enum CodingKeys: String, CodingKey {
    case mixedRows = "mixed_rows"
    case placeholderRows = "placeholder_rows"
    case lateText = "late_text"
  }
}

extension CSVReader {
  static let stateFormat = "csv"

  public var readerState: ReaderState? {
    let state = CSVReaderState(
      mixedRows: mixedRows, placeholderRows: placeholderRows,
      lateText: lateText.map { $0.map { CSVReaderState.LateText(rows: $0.rows, line: $0.first.line, value: $0.first.value) } })
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    guard let data = try? encoder.encode(state) else { return nil }
    return ReaderState(format: Self.stateFormat, data: data)
  }

  /// Adds a later shard's counts: rows add up, the first text of a column stays the earliest shard's.
  public func merge(_ state: ReaderState) throws {
    let n = mixedRows.count
    guard state.format == Self.stateFormat, let s = try? JSONDecoder().decode(CSVReaderState.self, from: state.data),
      s.mixedRows.count == n, s.placeholderRows.count == n, s.lateText.count == n
    else {
      throw DatasanError(path: path, "a partial report's CSV reader state does not fit this file's \(n) columns")
    }
    for c in 0..<n {
      mixedRows[c] += s.mixedRows[c]
      placeholderRows[c] += s.placeholderRows[c]
      guard let late = s.lateText[c] else { continue }
      if let mine = lateText[c] {
        lateText[c] = (mine.rows + late.rows, mine.first)
      } else {
        lateText[c] = (late.rows, (late.line, late.value))
      }
    }
  }
}
