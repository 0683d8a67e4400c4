#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Shard `index` of `count` (0-based): a contiguous part of the samples of a dataset, scanned by one
/// process of a Slurm job array or a Kubernetes Indexed Job (`--shard I/N`).
public struct Shard: Codable, Sendable, Equatable, CustomStringConvertible {
  public var index: Int
  public var count: Int

  public init(index: Int, count: Int) {
    self.index = index
    self.count = count
  }

  /// `I/N`, 0 <= I < N.
  public init?(parsing text: String) {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 0, i < n else { return nil }
    self.init(index: i, count: n)
  }

  public var description: String { "\(index)/\(count)" }

  /// Samples `[total * I / N, total * (I + 1) / N)`: consecutive shards cover `0..<total` once.
  public func samples(of total: Int) -> Range<Int> { part(of: total) }

  /// Bytes `[size * I / N, size * (I + 1) / N)` of a file (readers deliver the records that start
  /// in them), the last shard reaching past the end.
  public func bytes(of size: Int) -> Range<Int> {
    let r = part(of: size)
    return r.lowerBound..<(index == count - 1 ? Int.max : r.upperBound)
  }

  private func part(of total: Int) -> Range<Int> {
    func boundary(_ k: Int) -> Int {
      let (product, overflow) = total.multipliedReportingOverflow(by: k)
      return overflow ? Int(Double(total) * Double(k) / Double(count)) : product / count
    }
    return boundary(index)..<boundary(index + 1)
  }
}

/// What identifies the run a shard belongs to: shards of one run scan the same dataset with the
/// same options; ``PartialScan`` carries it so that `merge` refuses a foreign part.
public struct ShardRun: Codable, Sendable, Equatable {
  /// The input as given, its absolute path, its format.
  public var input: String
  public var path: String
  public var format: String
  /// The input's size in bytes (a file), its sample count when the format knows it.
  public var bytes: Int?
  public var samples: Int?
  /// The directory the scan ran in (relative paths of the arguments are relative to it).
  public var directory: String
  /// The scan's arguments in effect (config file keys, then the command line), without the shard
  /// and the report paths: what `merge` parses again to check the merged state as one run does.
  public var arguments: [String]

  public init(
    input: String, path: String, format: String, bytes: Int?, samples: Int?, directory: String, arguments: [String]
  ) {
    self.input = input
    self.path = path
    self.format = format
    self.bytes = bytes
    self.samples = samples
    self.directory = directory
    self.arguments = arguments
  }
}

/// What a sharded scan writes (`--shard I/N --report part-I.json`): marked partial, the run it
/// belongs to, the checker's mergeable state and the sample findings; `datasan merge` combines the
/// parts of every shard into the report of one process over the whole dataset.
public struct PartialScan: Codable, Sendable {
  public var partial = true
  public var version: String
  public var shard: Shard
  public var run: ShardRun
  /// Whether the findings' indices count from the shard's first sample (CSV byte ranges, whose
  /// first sample's index is not known to the shard) rather than from the dataset's.
  public var localIndices: Bool
  public var checker: SampleChecker.Partial
  /// The reader's own mergeable state (``SampleReader/readerState``), nil when it has none.
  public var readerState: ReaderState?
  public var findings: SampleFindings
  public var bytesRead: Int
  public var seconds: Double

  enum CodingKeys: String, CodingKey {
    case partial, version, shard, run
    case localIndices = "local_indices"
    case checker, findings
    case readerState = "reader_state"
    case bytesRead = "bytes_read"
    case seconds
  }

  public init(
    version: String, shard: Shard, run: ShardRun, localIndices: Bool, state: ScanState
  ) {
    self.version = version
    self.shard = shard
    self.run = run
    self.localIndices = localIndices
    checker = state.checker.partial
    readerState = state.readerState
    findings = state.builder.findings
    bytesRead = state.bytesRead
    seconds = state.seconds
  }
}

/// A reader's mergeable state (``SampleReader/readerState``): an opaque value the format encodes,
/// decodes and adds (DatasanCore does not look inside).
public struct ReaderState: Codable, Sendable, Equatable {
  /// The format that wrote it (e.g. `csv`).
  public var format: String
  /// The format's encoding of its state.
  public var data: Data

  public init(format: String, data: Data) {
    self.format = format
    self.data = data
  }
}

/// What a scan gathered before its dataset findings (``Pipeline/scanState(_:)``).
public struct ScanState {
  public var checker: SampleChecker
  public var builder: ReportBuilder
  /// The reader's layout findings (severity set).
  public var layoutFindings: [Finding]
  /// The reader's mergeable state (``SampleReader/readerState``).
  public var readerState: ReaderState?
  public var bytesRead: Int
  public var seconds: Double
}

extension SampleFindings {
  /// The findings with their indices moved by `offset` (a shard's local indices made global).
  public func shifted(by offset: Int) -> SampleFindings {
    guard offset != 0 else { return self }
    var moved = self
    func shift(_ f: Finding) -> Finding {
      var f = f
      f.index = f.index.map { $0 + offset }
      return f
    }
    moved.issues = issues.map(shift)
    moved.examples = examples.mapValues { $0.map(shift) }
    return moved
  }
}

extension Pipeline {
  /// A reader of the whole input (no sample range), for what it is rather than its values, and its
  /// info with the class list reconciled as a run over the whole input reconciles it.
  private func openWholeInput(_ config: ScanConfiguration) throws -> (any SampleReader, DatasetInfo) {
    var read = config.read
    read.sampleRange = nil
    read.keepOriginals = false
    read.valuesNeeded = false
    let reader = try backend.openReader(format: config.format, path: config.input, options: read)
    var info = reader.info
    try ClassList.reconcile(&info, given: config.checks.classNames)
    return (reader, info)
  }

  /// The reference shape a run over the whole input fixes, for a shard's checker to start with: that
  /// of the first readable sample of the input (read from its start until one is found). Nil for a
  /// run over the whole input, or one that starts at its start.
  func wholeInputReference(_ config: ScanConfiguration) throws -> [Int]? {
    guard config.checks.expectedShape == nil, let range = config.read.sampleRange else { return nil }
    switch range {
    case .samples(let r) where r.lowerBound <= 0: return nil
    case .bytes(let r) where r.lowerBound <= 0: return nil
    default: break
    }
    // Closed before the shard's own reader opens (HDF5 external links allow one open file).
    let (reader, info) = try openWholeInput(config)
    let checker = SampleChecker(options: config.checks, info: info, checks: [], sampleChecks: [])
    while let batch = try reader.nextBatch() {
      if let shape = checker.referenceCandidate(in: batch) { return shape }
    }
    return nil
  }

  /// The report of one scan over the whole input from the partial scans of its shards, in shard
  /// order: the checkers' states and sample findings merged, then the dataset findings of the merged
  /// state, as ``scan(_:)`` gives them. Opens the input for what it is (its info and layout), reading
  /// no sample.
  public func mergeScan(_ config: ScanConfiguration, parts: [PartialScan], seconds: Double) throws -> ScanReport {
    let (reader, info) = try openWholeInput(config)
    let checker = SampleChecker(options: config.checks, info: info)
    var builder = ReportBuilder(info: info, maxIssues: config.maxIssues)
    var offset = 0
    for part in parts {
      checker.merge(part.checker)
      if let state = part.readerState { try reader.merge(state) }
      builder.merge(part.localIndices ? part.findings.shifted(by: offset) : part.findings)
      offset += part.findings.total
    }
    return builder.finish(
      checker: checker, datasetFindings: layoutFindings(reader, config.checks) + datasetFindings(checker, config: config),
      bytesRead: parts.reduce(0) { $0 + $1.bytesRead }, seconds: seconds)
  }
}

extension Pipeline {
  /// The size of a regular file (nil for a folder, a device, a missing path).
  public static func fileSize(of path: String) -> Int? { inputBytes(of: path) }
}
