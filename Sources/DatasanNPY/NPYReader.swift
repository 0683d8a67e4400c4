import DatasanCore
#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Reads a NumPy array (axis 0 is the sample axis) as a stream of batches: a `.npy` file, or an
/// array of an `.npz` archive (stored members read in place, deflated ones inflated as a stream).
///
/// Every dtype NumPy saves for numbers (bool, int8..int64, uint8..uint64, float16/32/64) in either
/// byte order is read as its native equivalent (bool as uint8, float16 as float32); C and Fortran
/// order. The header's shape is checked against the bytes that exist before anything is read, and
/// memory is one batch of about ``ReadOptions/batchBytes`` (at least one sample) plus a scratch
/// buffer, whatever the header says. Bytes that cannot be read (a file truncated while read, corrupt
/// compressed data) make their samples `unreadable`, zero-filled, and the scan goes on.
public final class NPYReader: SampleReader {
  public private(set) var info: DatasetInfo
  public var bytesRead: Int { features.source.storedBytesRead + (labels?.array.source.storedBytesRead ?? 0) }

  private let features: NPYArray
  private let labels: NPYLabels?
  private let batchRows: Int
  private var nextRow = 0
  private var endRow = 0
  private var scratch: [UInt8] = []

  /// Opens `path` (`.npy` or `.npz`) and the arrays `options[NPYReadOptions.self]` names.
  ///
  /// - Throws: ``DatasanError`` naming the file and the problem in one line.
  public init(path: String, options: ReadOptions) throws {
    let named = options[NPYReadOptions.self]
    let file = try NPYFile(path: path)
    let magic = file.bytes(at: 0, count: 8)
    func fail(_ message: String, _ at: String = path) -> DatasanError { DatasanError(path: at, message) }
    func wrap<T>(_ at: String = path, _ body: () throws(NPYHeaderError) -> T) throws -> T {
      do { return try body() } catch { throw fail("\(error)", at) }
    }

    let featureArray: NPYArray
    var labelArray: NPYArray? = nil
    var featureName: String
    var labelName: String? = nil
    if NPYFormat.isNPY(magic: magic) {
      if let dataset = named.dataset {
        throw fail("is one .npy array; --dataset '\(dataset.oneLine(limit: 40))' names an array of an .npz archive")
      }
      featureName = URL(fileURLWithPath: path).lastPathComponent
      featureArray = try wrap { () throws(NPYHeaderError) in
        try NPYArray(source: NPYStoredSource(file: file, base: 0, length: file.size), name: "'\(featureName)'")
      }
      if let labelPath = named.labels, !labelPath.isEmpty {
        let labelFile = try NPYFile(path: labelPath)
        guard NPYFormat.isNPY(magic: labelFile.bytes(at: 0, count: 8)) else {
          throw fail("not a NumPy .npy array (no \\x93NUMPY magic); --labels names the labels' .npy file", labelPath)
        }
        labelArray = try wrap(labelPath) { () throws(NPYHeaderError) in
          try NPYArray(source: NPYStoredSource(file: labelFile, base: 0, length: labelFile.size), name: "'\(labelPath)'")
        }
        labelName = labelPath
      }
    } else if NPYZipDirectory.looksLikeZip(magic) {
      let directory = try wrap { () throws(NPYHeaderError) in try NPYZipDirectory.parse(fileSize: file.size, read: file.bytes) }
      let arrays = directory.members.filter { $0.name.hasSuffix(".npy") }
      let names = arrays.map { String($0.name.dropLast(4)) }
      let listed = names.isEmpty ? "no arrays" : "arrays " + names.prefix(12).map { $0.oneLine(limit: 40) }.joined(separator: ", ")
      func member(_ name: String, role: String) throws -> NPYArray {
        guard let m = arrays.first(where: { $0.name == name + ".npy" }) else {
          throw fail("no \(role) array '\(name.oneLine(limit: 40))' (\(listed))")
        }
        return try wrap { () throws(NPYHeaderError) in
          let start = try NPYZipDirectory.dataStart(of: m, fileSize: file.size, read: file.bytes)
          let shown = "array '\(name.oneLine(limit: 40))'"
          if m.flags & 1 != 0 { throw .unsupported("\(shown) is encrypted") }
          switch m.method {
          case 0:
            return try NPYArray(source: NPYStoredSource(file: file, base: start, length: m.compressedSize), name: shown)
          case 8:
            let source: NPYDeflateSource
            do {
              source = try NPYDeflateSource(
                file: file, member: name, compressedStart: start, compressedSize: m.compressedSize, length: m.uncompressedSize)
            } catch { throw .unsupported("\(error)") }
            return try NPYArray(source: source, name: shown, compressedBytes: m.compressedSize)
          default:
            throw .unsupported("\(shown) is compressed with zip method \(m.method); datasan reads stored and deflated members (np.savez, np.savez_compressed)")
          }
        }
      }
      if let dataset = named.dataset {
        featureName = dataset
      } else if names.contains("data") {
        featureName = "data"
      } else if names.count == 1 {
        featureName = names[0]
      } else {
        throw fail("holds \(listed); name the features with --dataset (e.g. --dataset \(names.first ?? "x"))")
      }
      featureArray = try member(featureName, role: "feature")
      if let asked = named.labels {
        if !asked.isEmpty { labelName = asked }
      } else if names.contains("label") {
        labelName = "label"
      }
      if let labelName { labelArray = try member(labelName, role: "label") }
    } else {
      throw fail("not a NumPy .npy or .npz file")
    }

    if let labelArray {
      labels = try wrap { () throws(NPYHeaderError) in
        try NPYLabels(array: labelArray, samples: featureArray.rows, featureName: featureArray.name)
      }
    } else {
      labels = nil
    }
    features = featureArray
    let rowBytes = featureArray.rowElements * featureArray.dtype.elementType.size + (labels == nil ? 0 : 8)
    batchRows = Swift.max(1, options.batchBytes / Swift.max(1, rowBytes))
    info = DatasetInfo(
      format: .npy, path: path, sampleCount: featureArray.rows, elementType: featureArray.dtype.elementType,
      sampleShape: featureArray.sampleShape, featureName: featureName, labelName: labelName,
      layout: NPYLayout(labelType: labels?.storedType, labelRank: labels?.rank ?? 1, fortranOrder: featureArray.header.fortranOrder))
    endRow = featureArray.rows
    if let range = options.sampleRange {
      guard let rows = range.samples(clampedTo: featureArray.rows) else {
        throw fail("a NumPy array is read by row ranges, not byte ranges")
      }
      (nextRow, endRow) = (rows.lowerBound, rows.upperBound)
      info.sampleCount = rows.count
    }
  }

  public func nextBatch() throws -> SampleBatch? {
    guard nextRow < endRow else { return nil }
    let start = nextRow
    let count = Swift.min(batchRows, endRow - start)
    nextRow = start + count
    var batch = SampleBatch.uniform(
      firstIndex: start, count: count, elementType: features.dtype.elementType, shape: features.sampleShape, labels: nil,
      zeroed: false)
    var problems: [Int: ReaderProblem] = [:]
    let base = batch.storage.bytes.baseAddress!
    do {
      try features.readRows(start: start, count: count, into: base, scratch: &scratch)
    } catch {
      // Row by row, so that only the rows that cannot be read are flagged.
      let rowBytes = features.rowElements * features.dtype.elementType.size
      for r in 0..<count {
        do {
          try features.readRows(start: start + r, count: 1, into: base + r * rowBytes, scratch: &scratch)
        } catch {
          (base + r * rowBytes).initializeMemory(as: UInt8.self, repeating: 0, count: rowBytes)
          problems[r] = ReaderProblem(.unreadable, "\(error)")
          if r + 1 < count, problems.count > 64 {
            // A stream that fails keeps failing: the rest of the batch with the same problem.
            for rest in (r + 1)..<count { problems[rest] = ReaderProblem(.unreadable, "\(error)") }
            (base + (r + 1) * rowBytes).initializeMemory(as: UInt8.self, repeating: 0, count: (count - r - 1) * rowBytes)
            break
          }
        }
      }
    }
    if let labels {
      do {
        batch.labels = try labels.read(start: start, count: count)
      } catch {
        batch.labels = [Double](repeating: .nan, count: count)
        for r in 0..<count where problems[r] == nil { problems[r] = ReaderProblem(.unreadable, "label: \(error)") }
      }
    }
    batch.problems = problems
    return batch
  }
}
