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

/// What `scan` needs: the input, how to read it, what to check.
public struct ScanConfiguration: Sendable {
  public var input: String
  /// The input's format (already detected).
  public var format: DataFormat
  public var read: ReadOptions
  public var checks: CheckOptions
  /// `--max-issues`.
  public var maxIssues: Int = 1000
  /// How many flagged samples to keep, values and all, in ``ScanReport/flaggedSamples``
  /// (thumbnails of an HTML report); 0 keeps none.
  public var keepFlaggedSamples: Int = 0

  public init(input: String, format: DataFormat, read: ReadOptions = ReadOptions(), checks: CheckOptions = CheckOptions()) {
    self.input = input
    self.format = format
    self.read = read
    self.checks = checks
  }
}

/// What `clean` needs on top of a scan.
public struct CleanConfiguration: Sendable {
  public var scan: ScanConfiguration
  public var output: String
  public var outputFormat: DataFormat
  /// The quarantine path (its reasons file is this plus `.reasons.jsonl`).
  public var quarantine: String
  public var normalize: NormalizationMethod = .minmax
  public var range: (Double, Double) = (-1, 1)
  /// `--stats-in`: parameters to apply instead of computing them, and the file they came from.
  public var statsIn: NormalizationParameters? = nil
  public var statsInPath: String? = nil
  /// `--stats-out`: where to write the parameters.
  public var statsOut: String? = nil
  /// `--force`: replace existing outputs.
  public var force = false
  /// `--caffe-mean FILE`: where to write the mean image of the clean samples as written (the
  /// normalized values when normalizing, like `compute_image_mean` run on the output), and how to
  /// encode it (C, H, W, C x H x W values -> file bytes).
  public var meanImageOut: String? = nil
  public var meanImageEncoder: (@Sendable (Int, Int, Int, [Float]) -> [UInt8])? = nil

  public init(scan: ScanConfiguration, output: String, outputFormat: DataFormat, quarantine: String) {
    self.scan = scan
    self.output = output
    self.outputFormat = outputFormat
    self.quarantine = quarantine
  }

  /// The reasons file beside the quarantine.
  public var reasonsPath: String { quarantine + ".reasons.jsonl" }
}

/// What `clean` did.
public struct CleanResult: Sendable {
  /// The scan of the input (its `passed` is what `scan` would say).
  public var report: ScanReport
  public var written: Int
  public var quarantined: Int
  public var parameters: NormalizationParameters?
  /// Where the clean samples and the quarantine went.
  public var output: String
  public var quarantine: String
}

/// `scan` = read → check → statistics → report; `clean` = a statistics pass, then a
/// second pass that normalizes and writes the clean samples and the quarantine.
public final class Pipeline {
  /// Batches checked at once, one per core.
  static let parallelBatches = Swift.max(1, Machine.cores)

  public let backend: FormatBackend
  public var progress: ProgressObserver?

  public init(backend: FormatBackend, progress: ProgressObserver? = nil) {
    self.backend = backend
    self.progress = progress
  }

  // MARK: scan

  /// Reads the whole input once and reports what the checks found.
  public func scan(_ config: ScanConfiguration) throws -> ScanReport {
    var state = try scanState(config)
    return state.builder.finish(
      checker: state.checker, datasetFindings: state.layoutFindings + datasetFindings(state.checker, config: config),
      bytesRead: state.bytesRead, seconds: state.seconds)
  }

  /// What a scan gathered before its dataset findings: the checker's state and the sample findings
  /// (those of one shard, with ``ReadOptions/sampleRange``, merged into the whole by ``mergeScan``).
  public func scanState(_ config: ScanConfiguration) throws -> ScanState {
    let started = Date()
    let snapshot = InputSnapshot(config.input)
    var read = config.read
    read.keepOriginals = false  // a scan writes nothing: no reader needs to keep original bytes
    read.valuesNeeded = SampleChecker.needsValues(config.checks, keepingSamples: config.keepFlaggedSamples > 0)
    let reference = try wholeInputReference(config)
    let reader = try backend.openReader(format: config.format, path: config.input, options: read)
    // The reader is the stream's thread's until the stream is closed (BatchStream): what the pass
    // needs of it is read before, progress comes from the stream.
    var info = reader.info
    try ClassList.reconcile(&info, given: config.checks.classNames)
    let checker = SampleChecker(options: config.checks, info: info)
    if let reference { checker.fixReference(reference) }
    var builder = ReportBuilder(info: info, maxIssues: config.maxIssues)
    let stream = BatchStream(reader: reader)
    defer { stream.close() }
    var samples = 0
    progress?.begin(pass: "scan", inputBytes: Pipeline.inputBytes(of: config.input))
    while true {
      let batches = try stream.next(upTo: Pipeline.parallelBatches)
      if batches.isEmpty { break }
      for (batch, verdict) in zip(batches, checker.check(batches: batches)) {
        builder.add(verdict, of: batch)
        builder.keepFlagged(batch, verdict, upTo: config.keepFlaggedSamples)
        samples += batch.count
      }
      progress?.update(pass: "scan", samples: samples, expected: info.sampleCount, bytes: stream.bytesRead)
    }
    progress?.finish()
    stream.close()  // the reader is this thread's again
    try snapshot?.check(config.input)
    return ScanState(
      checker: checker, builder: builder, layoutFindings: layoutFindings(reader, config.checks),
      readerState: reader.readerState, bytesRead: stream.bytesRead, seconds: Date().timeIntervalSince(started))
  }

  /// The reader's own dataset findings, with the severity `--strict` gives them.
  func layoutFindings(_ reader: SampleReader, _ checks: CheckOptions) -> [Finding] {
    reader.layoutFindings.map { f in
      var f = f
      f.severity = checks.strict ? .error : f.kind.defaultSeverity
      return f
    }
  }

  func datasetFindings(_ checker: SampleChecker, config: ScanConfiguration) -> [Finding] {
    checker.datasetFindings(fixCommand: "datasan clean \(config.input) -o OUTPUT")
  }

  // MARK: clean

  /// Writes the clean samples (normalized) and the quarantine, atomically.
  public func clean(_ config: CleanConfiguration) throws -> CleanResult {
    let started = Date()
    let snapshot = InputSnapshot(config.scan.input)
    let needsStatsPass = config.normalize != .none && config.statsIn == nil
    var firstReport: ScanReport? = nil
    var parameters: NormalizationParameters? = nil
    if needsStatsPass {
      let report = try scan(config.scan)
      firstReport = report
      parameters = NormalizationParameters(
        method: config.normalize, range: config.range, channelAxis: config.scan.checks.channelAxis,
        stats: report.groupStats)
    } else if config.normalize != .none {
      parameters = config.statsIn
    }

    let transaction = OutputTransaction()
    var writers: [SampleWriter] = []
    do {
      let reader = try backend.openReader(format: config.scan.format, path: config.scan.input, options: config.scan.read)
      var info = reader.info  // read before the stream's thread owns the reader (see scan)
      try ClassList.reconcile(&info, given: config.scan.checks.classNames)
      let checker = SampleChecker(options: config.scan.checks, info: info)
      var builder = ReportBuilder(info: info, maxIssues: config.scan.maxIssues)
      progress?.begin(pass: "clean", inputBytes: Pipeline.inputBytes(of: config.scan.input))
      // The writer is the slow end of a clean: reading further ahead would only hold memory.
      let stream = BatchStream(reader: reader, depth: 2)
      defer { stream.close() }

      // The first batch fixes the reference shape before any output file is created.
      var pending = try stream.next(upTo: Pipeline.parallelBatches)
      var pendingVerdicts = checker.check(batches: pending, collectStats: !needsStatsPass)
      let shape = checker.referenceShape ?? info.sampleShape ?? []
      if let statsIn = config.statsIn, config.normalize != .none, !pending.isEmpty {
        parameters = try Pipeline.matched(statsIn, to: shape, info, config)
      }
      // The input's stored label type when its format keeps one, else what the loss implies.
      let labelType = info.layout?.labelType ?? (config.scan.checks.loss == .crossEntropy ? .int64 : .float64)
      let normalizer = parameters.map(Normalizer.init)
      var cleanRequest = WriterRequest(
        role: .clean, source: info, content: parameters.map { .normalized($0) } ?? .original,
        sampleShape: shape, elementType: parameters == nil ? info.elementType : .float32, labelType: labelType)
      var quarantineRequest = WriterRequest(
        role: .quarantine, source: info, content: .original, sampleShape: info.sampleShape ?? shape,
        elementType: info.elementType, labelType: labelType)
      cleanRequest.channelAxis = config.scan.checks.channelAxis
      quarantineRequest.channelAxis = config.scan.checks.channelAxis
      cleanRequest.finalPath = config.output
      quarantineRequest.finalPath = config.quarantine
      cleanRequest.reserveCompanion = { transaction.add(finalPath: $0) }
      quarantineRequest.reserveCompanion = { transaction.add(finalPath: $0) }

      let cleanWriter = try backend.makeWriter(
        format: config.outputFormat, path: transaction.add(finalPath: config.output), request: cleanRequest)
      writers.append(cleanWriter)
      let quarantineWriter = try backend.makeWriter(
        format: config.scan.format, path: transaction.add(finalPath: config.quarantine), request: quarantineRequest)
      writers.append(quarantineWriter)
      let reasons = try BufferedFile(path: transaction.add(finalPath: config.reasonsPath))
      let statsOutTemp = config.statsOut.map { transaction.add(finalPath: $0) }
      let meanTemp = config.meanImageOut.map { transaction.add(finalPath: $0) }
      var mean = MeanImage(shape: shape)

      var written = 0
      var quarantined = 0
      var samples = 0
      // One batch of outputs waiting for the writer is enough to overlap; more only costs memory.
      let writes = WriteQueue(depth: 1)
      // On an error, the writer thread stops before the catch below aborts the writers.
      defer { writes.cancel() }
      while !pending.isEmpty {
        // Subset, normalize and format each batch's outputs on all cores; write them in order
        // on the writer thread while the next batches are read and checked.
        let outputs = try Pipeline.prepareOutputs(pending, pendingVerdicts, normalizer: normalizer)
        for (k, (batch, verdict)) in zip(pending, pendingVerdicts).enumerated() {
          if !needsStatsPass {
            builder.add(verdict, of: batch)
            builder.keepFlagged(batch, verdict, upTo: config.scan.keepFlaggedSamples)
          }
          let out = outputs[k]
          // The mean of the records as written (normalized when normalizing): what Caffe
          // subtracts from the records it reads with this mean_file.
          if let clean = out.clean, meanTemp != nil { try mean.add(clean) }
          try writes.submit {
            if let clean = out.clean { try cleanWriter.append(clean) }
            if let rejected = out.quarantine { try quarantineWriter.append(rejected) }
            if !out.reasons.isEmpty { try reasons.write(out.reasons) }
          }
          written += out.clean?.count ?? 0
          quarantined += out.quarantine?.count ?? 0
          samples += batch.count
        }
        progress?.update(pass: "clean", samples: samples, expected: info.sampleCount, bytes: stream.bytesRead)
        pending = try stream.next(upTo: Pipeline.parallelBatches)
        pendingVerdicts = checker.check(batches: pending, collectStats: !needsStatsPass)
      }
      try writes.finish()
      progress?.finish()
      stream.close()  // the reader is this thread's again
      if let first = firstReport, first.flagged != quarantined || first.total != samples {
        throw DatasanError(
          path: config.scan.input,
          "changed while it was being cleaned (first pass: \(first.total) samples, \(first.flagged) flagged; "
            + "second pass: \(samples), \(quarantined))")
      }
      for w in writers { try w.finish() }
      writers.removeAll()
      try reasons.close()
      var report: ScanReport
      if let firstReport {
        report = firstReport
      } else {
        report = builder.finish(
          checker: checker, datasetFindings: layoutFindings(reader, config.scan.checks) + datasetFindings(checker, config: config.scan),
          bytesRead: stream.bytesRead, seconds: Date().timeIntervalSince(started))
        if config.normalize == .none { parameters = nil }
      }
      if let statsOutTemp {
        var saved =
          parameters
          ?? NormalizationParameters(
            method: .none, range: config.range, channelAxis: config.scan.checks.channelAxis, stats: report.groupStats)
        saved.classes = info.classNames  // the class list the labels follow, for a --stats-in run
        try StatsFile.write(saved, to: statsOutTemp)
      }
      if let meanTemp, let encode = config.meanImageEncoder {
        var (c, h, w, values) = mean.caffeLayout(channelAxis: config.scan.checks.channelAxis)
        if cleanWriter.swapsColourChannelsOnRead && c >= 3 {
          let plane = h * w
          for e in 0..<plane { values.swapAt(e, 2 * plane + e) }
        }
        let file = try BufferedFile(path: meanTemp)
        try file.write(bytes: encode(c, h, w, values))
        try file.close()
      }
      try snapshot?.check(config.scan.input)
      try transaction.commit(replace: config.force)
      report.seconds = Date().timeIntervalSince(started)
      return CleanResult(
        report: report, written: written, quarantined: quarantined, parameters: parameters, output: config.output,
        quarantine: config.quarantine)
    } catch {
      for w in writers { w.abort() }
      transaction.rollback()
      throw transaction.naming(error)
    }
  }

  /// The `--stats-in` parameters for this input's feature groups: by name when the input names
  /// them (CSV columns, in any order), else by position. Refuses parameters made for other data
  /// (other groups, or groups along the other channel axis) before any output is created.
  static func matched(
    _ parameters: NormalizationParameters, to shape: [Int], _ info: DatasetInfo, _ config: CleanConfiguration
  ) throws -> NormalizationParameters {
    let file = config.statsInPath ?? "--stats-in"
    let axis = config.scan.checks.channelAxis
    if shape.count > 1 && parameters.channelAxis != axis {
      throw DatasanError(
        path: file,
        "was computed with --channel-axis \(parameters.channelAxis.rawValue), this run uses --channel-axis \(axis.rawValue)")
    }
    let groups = FeatureGroups(sampleShape: shape, channelAxis: axis)
    let named = info.groupNames.map { $0.count == groups.count } ?? false
    return try parameters.matched(
      to: groups.names(featureName: info.featureName, given: info.groupNames), byName: named, file: file,
      input: config.scan.input)
  }

  /// What one batch contributes to the outputs of `clean`.
  struct BatchOutputs {
    /// The clean samples as written (nil when none), the rejected ones.
    var clean: SampleBatch?
    var quarantine: SampleBatch?
    /// The reasons-file lines of the rejected samples.
    var reasons = ""
  }

  /// Splits each batch into its clean and rejected samples and normalizes the clean ones,
  /// one batch per core.
  private static func prepareOutputs(_ batches: [SampleBatch], _ verdicts: [BatchVerdict], normalizer: Normalizer?) throws
    -> [BatchOutputs]
  {
    let results = parallelMap(batches.count) { k in
      Result<BatchOutputs, Error> {
        let batch = batches[k]
        let verdict = verdicts[k]
        var o = BatchOutputs()
        let keep = verdict.cleanPositions(count: batch.count)
        if !keep.isEmpty {
          let kept = keep.count == batch.count ? batch : batch.subset(keep)
          o.clean = try normalizer.map { try $0.apply(to: kept) } ?? kept
        }
        if verdict.everySample != nil {
          // A run of samples without values, all with one problem: to the quarantine as it is.
          o.quarantine = batch
          o.reasons = Pipeline.reasonLine(verdict, of: batch)
        } else if !verdict.flagged.isEmpty {
          o.quarantine = batch.subset(verdict.flagged)
          for (n, position) in verdict.flagged.enumerated() {
            o.reasons += Pipeline.reasonLine(
              verdict.findings[n], index: batch.firstIndex + position, key: batch.key(of: position))
          }
        }
        return o
      }
    }
    return try results.map { try $0.get() }
  }

  /// The reasons-file line of a run of samples that all have one finding (``BatchVerdict/everySample``):
  /// the first sample's line with the number of samples it stands for (`count`).
  private static func reasonLine(_ verdict: BatchVerdict, of batch: SampleBatch) -> String {
    guard let f = verdict.everySample else { return "" }
    if batch.count == 1 { return reasonLine([f], index: f.index ?? batch.firstIndex, key: f.key ?? batch.key(of: 0)) }
    return JSONValue.object([
      ("index", .int(batch.firstIndex)), ("key", .string(batch.key(of: 0))), ("count", .int(batch.count)),
      ("kinds", .array([.string(f.kind.rawValue)])),
      ("detail", .string("samples \(batch.firstIndex) to \(batch.firstIndex + batch.count - 1): \(f.detail)")),
    ]).serialized() + "\n"
  }

  private static func reasonLine(_ findings: [Finding], index: Int, key: String) -> String {
    var kinds: [String] = []
    for f in findings where !kinds.contains(f.kind.rawValue) { kinds.append(f.kind.rawValue) }
    let detail = findings.map { f in
      guard let field = f.field, !f.detail.hasPrefix(field) else { return f.detail }
      return "\(field): \(f.detail)"
    }.joined(separator: "; ")
    return JSONValue.object([
      ("index", .int(index)), ("key", .string(key)), ("kinds", .array(kinds.map { .string($0) })),
      ("detail", .string(detail)),
    ]).serialized() + "\n"
  }
}

/// `--stats-out` / `--stats-in` files.
public enum StatsFile {
  public static func write(_ parameters: NormalizationParameters, to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    let data = try encoder.encode(parameters)
    guard FileManager.default.createFile(atPath: path, contents: data + Data("\n".utf8)) else {
      throw DatasanError(path: path, "cannot write the statistics file")
    }
  }

  public static func read(_ path: String) throws -> NormalizationParameters {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw DatasanError(path: path, "cannot read the statistics file")
    }
    do {
      let p = try JSONDecoder().decode(NormalizationParameters.self, from: data)
      guard p.schema == "datasan-stats/1" else { throw DatasanError(path: path, "unknown schema '\(p.schema)'") }
      return p
    } catch let e as DatasanError {
      throw e
    } catch {
      throw DatasanError(path: path, "not a datasan statistics file (written by --stats-out)")
    }
  }
}

/// A small buffered writer for text outputs (reasons files, reports).
public final class BufferedFile {
  private let fd: Int32
  private let path: String
  private var buffer: [UInt8] = []

  public init(path: String) throws {
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    self.path = path
    if fd < 0 { throw DatasanError(path: path, "cannot create: \(String(cString: strerror(errno)))") }
    buffer.reserveCapacity(1 << 16)
  }

  public func write(_ text: String) throws {
    buffer.append(contentsOf: text.utf8)
    if buffer.count >= 1 << 16 { try flush() }
  }

  public func write(bytes: [UInt8]) throws {
    buffer.append(contentsOf: bytes)
    if buffer.count >= 1 << 16 { try flush() }
  }

  public func flush() throws {
    var offset = 0
    while offset < buffer.count {
      let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
      if n < 0 {
        if errno == EINTR { continue }
        throw DatasanError(path: path, "write failed: \(String(cString: strerror(errno)))")
      }
      offset += n
    }
    buffer.removeAll(keepingCapacity: true)
  }

  private var closed = false

  public func close() throws {
    try flush()
    closed = true
    if Glibc.close(fd) != 0 { throw DatasanError(path: path, "close failed: \(String(cString: strerror(errno)))") }
  }

  deinit { if !closed { Glibc.close(fd) } }
}
