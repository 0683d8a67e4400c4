/// Everything a scan found: the content of the summary, the JSON report and the JUnit file.
public struct ScanReport: Sendable {
  public var info: DatasetInfo
  public var total = 0
  public var clean = 0
  public var flagged = 0
  /// Samples per sample kind (a sample counts under each of its kinds); findings per dataset kind.
  public var counts: [FindingKind: Int] = [:]
  /// The findings listed in the report: dataset findings first, then sample findings in
  /// stream order, at most `--max-issues` in all.
  public var issues: [Finding] = []
  public var issuesTruncated = false
  /// Every dataset finding.
  public var datasetFindings: [Finding] = []
  /// The first few sample findings of each kind (for the human summary).
  public var examples: [FindingKind: [Finding]] = [:]
  public var groupStats: [GroupStats] = []
  public var labelStats: LabelStats?
  /// How many decoded samples have each size (shape), flagged or not.
  public var sizes = SizeDistribution()
  /// Whether the scan passes the gate: no finding of severity error (under ``policy``).
  public var passed = true
  /// The gate policy this report was evaluated under (``applying(_:)``).
  public var policy = Policy()
  /// Flagged samples by the set of their sample kinds, so that a policy that ignores kinds can
  /// recount the flagged samples exactly.
  public var flaggedKindSets: [Set<FindingKind>: Int] = [:]
  /// The first flagged samples with their values (one-sample batches, in stream order), when
  /// the scan was asked to keep them (`ScanConfiguration.keepFlaggedSamples`).
  public var flaggedSamples: [SampleBatch] = []
  /// Bytes of input read, and seconds the scan took.
  public var bytesRead = 0
  public var seconds = 0.0

  public init(info: DatasetInfo) { self.info = info }
}

/// The sample findings of some batches as a report lists them: counts per kind and per set of kinds,
/// the first `maxIssues` findings and the first few of each kind (by their global index). Merges
/// exactly: the merge of the findings of consecutive parts of a stream is those of the whole.
public struct SampleFindings: CheckState, Equatable {
  public var maxIssues: Int
  public var total = 0
  public var flagged = 0
  /// Samples per sample kind (a sample counts under each of its kinds).
  public var counts: [FindingKind: Int] = [:]
  /// Flagged samples by the set of their sample kinds.
  public var flaggedKindSets: [Set<FindingKind>: Int] = [:]
  /// The first `maxIssues` sample findings, in stream order.
  public var issues: [Finding] = []
  /// Whether some finding did not fit in ``issues``.
  public var issuesTruncated = false
  /// The first ``examplesPerKind`` findings of each kind, in stream order.
  public var examples: [FindingKind: [Finding]] = [:]
  public static let examplesPerKind = 3

  public init(maxIssues: Int) { self.maxIssues = maxIssues }

  /// Adds the verdict of `batch`.
  public mutating func add(_ verdict: BatchVerdict, of batch: SampleBatch) {
    total += batch.count
    flagged += verdict.flaggedCount(of: batch.count)
    if let f = verdict.everySample {
      // A run of samples with one finding: counted at once; listed as far as there is room.
      counts[f.kind, default: 0] += batch.count
      flaggedKindSets[[f.kind], default: 0] += batch.count
      let listed = Swift.min(batch.count, Swift.max(maxIssues - issues.count, SampleFindings.examplesPerKind))
      for i in 0..<listed { list(verdict.finding(i, of: batch)!) }
      if batch.count > listed { issuesTruncated = true }
      return
    }
    for findings in verdict.findings {
      var seen: Set<FindingKind> = []
      for f in findings {
        if seen.insert(f.kind).inserted { counts[f.kind, default: 0] += 1 }
        list(f)
      }
      flaggedKindSets[seen, default: 0] += 1
    }
  }

  /// Lists `f` among the issues while there is room, and among the examples of its kind.
  private mutating func list(_ f: Finding) {
    if issues.count < maxIssues { issues.append(f) } else { issuesTruncated = true }
    if examples[f.kind, default: []].count < SampleFindings.examplesPerKind { examples[f.kind, default: []].append(f) }
  }

  /// Adds the findings of the batches after these (their indexes are global, so lists stay in order).
  public mutating func merge(_ other: SampleFindings) {
    total += other.total
    flagged += other.flagged
    counts.merge(other.counts, uniquingKeysWith: +)
    flaggedKindSets.merge(other.flaggedKindSets, uniquingKeysWith: +)
    issuesTruncated = issuesTruncated || other.issuesTruncated || issues.count + other.issues.count > maxIssues
    issues += other.issues.prefix(Swift.max(0, maxIssues - issues.count))
    for (kind, more) in other.examples {
      examples[kind, default: []] += more.prefix(SampleFindings.examplesPerKind - examples[kind, default: []].count)
    }
  }
}

/// Collects the sample findings of batches into a ``ScanReport``.
public struct ReportBuilder {
  private var report: ScanReport
  /// The sample findings so far (``merge(_:)`` adds another process's).
  public private(set) var findings: SampleFindings
  public static let examplesPerKind = SampleFindings.examplesPerKind

  public init(info: DatasetInfo, maxIssues: Int) {
    report = ScanReport(info: info)
    findings = SampleFindings(maxIssues: maxIssues)
  }

  /// Adds the verdict of `batch`.
  public mutating func add(_ verdict: BatchVerdict, of batch: SampleBatch) { findings.add(verdict, of: batch) }

  /// Adds the sample findings of the batches after these, gathered elsewhere.
  public mutating func merge(_ other: SampleFindings) { findings.merge(other) }

  /// Keeps copies of the flagged samples of `batch` until `limit` are kept.
  public mutating func keepFlagged(_ batch: SampleBatch, _ verdict: BatchVerdict, upTo limit: Int) {
    // A run without values has nothing to show.
    guard report.flaggedSamples.count < limit, batch.hasValues else { return }
    for position in verdict.flagged.prefix(limit - report.flaggedSamples.count) {
      report.flaggedSamples.append(batch.subset([position]))
    }
  }

  /// Completes the report with the statistics and dataset findings of `checker`, evaluated
  /// under `policy` (``ScanReport/applying(_:)``).
  public mutating func finish(
    checker: SampleChecker, datasetFindings: [Finding], bytesRead: Int, seconds: Double, policy: Policy = Policy()
  ) -> ScanReport {
    let maxIssues = findings.maxIssues
    let sampleIssues = findings.issues
    report.total = findings.total
    report.flagged = findings.flagged
    report.counts = findings.counts
    report.flaggedKindSets = findings.flaggedKindSets
    report.examples = findings.examples
    report.issuesTruncated = findings.issuesTruncated
    report.clean = report.total - report.flagged
    report.groupStats = checker.groupStats
    report.labelStats = report.info.labelName == nil ? nil : checker.labelStats
    report.sizes = checker.state(SizeDistributionCheck.self) ?? SizeDistribution()
    report.datasetFindings = datasetFindings
    for f in datasetFindings { report.counts[f.kind, default: 0] += 1 }
    let room = Swift.max(0, maxIssues - datasetFindings.count)
    var issues = Array(datasetFindings.prefix(maxIssues))
    issues.append(contentsOf: sampleIssues.prefix(room))
    if sampleIssues.count > room || datasetFindings.count > maxIssues { report.issuesTruncated = true }
    report.issues = issues
    report.passed = report.flagged == 0 && !datasetFindings.contains { $0.severity == .error }
    report.bytesRead = bytesRead
    report.seconds = seconds
    return policy.isDefault ? report : report.applying(policy)
  }
}
