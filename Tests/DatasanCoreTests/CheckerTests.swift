import DatasanTestSupport
import Testing
@testable import DatasanCore
import DatasanReports

func makeInfo(shape: [Int], labels: Bool = true, format: DataFormat = .hdf5) -> DatasetInfo {
  DatasetInfo(
    format: format, path: "mem", sampleCount: nil, elementType: .float32, sampleShape: shape, featureName: "data",
    labelName: labels ? "label" : nil)
}

func floatBatch(first: Int = 0, _ samples: [[Float]], shape: [Int], labels: [Double]?) -> SampleBatch {
  let b = SampleBatch.uniform(firstIndex: first, count: samples.count, elementType: .float32, shape: shape, labels: labels)
  let n = shape.reduce(1, *)
  let dst = b.storage.typed(Float.self, count: samples.count * n)
  for (i, s) in samples.enumerated() { for (j, v) in s.enumerated() { dst[i * n + j] = v } }
  return b
}

@Suite struct SampleCheckerTests {
  @Test func flagsEachSampleKind() {
    var options = CheckOptions()
    options.numClasses = 3
    let checker = SampleChecker(options: options, info: makeInfo(shape: [2, 2]))
    var batch = floatBatch(
      [[1, 2, 3, 4], [1, .nan, 3, .nan], [1, 2, .infinity, 4], [1, 2, 3, 4], [1, 2, 3, 4], [0, 0, 0, 0]],
      shape: [2, 2], labels: [0, 1, 2, 5, .nan, 1])
    batch.problems[5] = ReaderProblem(.unreadable, "chunk read failed")
    let v = checker.check(batch)
    #expect(v.flagged == [1, 2, 3, 4, 5])
    #expect(v.findings[0].map(\.kind) == [.nanValue])
    #expect(v.findings[0][0].detail == "2 NaN values, first at [0, 1]")
    #expect(v.findings[1].map(\.kind) == [.infValue])
    #expect(v.findings[1][0].detail.contains("+Inf"))
    #expect(v.findings[2].map(\.kind) == [.labelOutOfDomain])
    #expect(v.findings[3].map(\.kind) == [.nanValue])
    #expect(v.findings[3][0].field == "label")
    #expect(v.findings[4].map(\.kind) == [.unreadable])
    #expect(v.cleanPositions(count: 6) == [0])
    // Only the clean sample reaches the statistics.
    #expect(checker.groupStats.map(\.values.count) == [2, 2])
    #expect(checker.groupStats[1].values.max == 4)
    #expect(checker.labelStats.histogram == [0: 1])
  }

  @Test func shapeMismatchAgainstFirstReadableSample() {
    let checker = SampleChecker(options: CheckOptions(), info: makeInfo(shape: [2], labels: false))
    let b = SampleBatch(
      firstIndex: 0, count: 3, elementType: .float32, shape: [2], shapes: [[2], [3], [2]], offsets: [0, 2, 5, 7],
      storage: ByteStorage(byteCount: 7 * 4), labels: nil, keys: .strings(["a", "b", "c"]))
    let v = checker.check(b)
    #expect(v.flagged == [1])
    #expect(v.findings[0][0].kind == .shapeMismatch)
    #expect(v.findings[0][0].key == "b")
  }

  @Test func statisticsMatchNaiveComputation() {
    var rng = SplitMix(state: 42)
    let samples = (0..<300).map { _ in (0..<12).map { _ in Float.random(in: 0...255, using: &rng).rounded() } }
    let checker = SampleChecker(options: CheckOptions(), info: makeInfo(shape: [3, 4], labels: false))
    for start in stride(from: 0, to: 300, by: 64) {
      let part = Array(samples[start..<min(300, start + 64)])
      _ = checker.check(floatBatch(first: start, part, shape: [3, 4], labels: nil))
    }
    for g in 0..<3 {
      let xs = samples.flatMap { Array($0[(g * 4)..<(g * 4 + 4)]) }.map(Double.init)
      let mean = xs.reduce(0, +) / Double(xs.count)
      let std = (xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count)).squareRoot()
      let s = checker.groupStats[g].values
      #expect(s.count == xs.count)
      #expect(abs(s.mean - mean) < 1e-9)
      #expect(abs(s.std - std) < 1e-9)
      #expect(s.min == xs.min()! && s.max == xs.max()!)
    }
  }
}

@Suite struct ColumnarStatisticsTests {
  /// Interleaved values (CSV rows [D], channel-last [H, W, C]) of clean samples go to the columnar
  /// kernel run by run; flagged samples in between end a run. Statistics, extreme counts and the
  /// flagged set must equal a value-by-value computation over the clean samples.
  @Test(arguments: [[7], [3, 5, 4]])
  func runsOfCleanSamplesMatchValueByValue(shape: [Int]) {
    var rng = SplitMix(state: 7)
    let n = shape.reduce(1, *)
    var options = CheckOptions()
    options.maxAbs = 900
    options.channelAxis = shape.count > 1 ? .last : .first
    let info = makeInfo(shape: shape, labels: false)
    let checker = SampleChecker(options: options, info: info)
    let groups = FeatureGroups(sampleShape: shape, channelAxis: shape.count > 1 ? .last : .first)
    var samples: [[Float]] = []
    for k in 0..<500 {
      var s = (0..<n).map { _ in Float.random(in: -1000...1000, using: &rng) }
      if k % 37 == 5 { s[k % n] = .nan }
      if k % 53 == 9 { s[(k + 1) % n] = -.infinity }
      samples.append(s)
    }
    var flagged: [Int] = []
    for start in stride(from: 0, to: samples.count, by: 90) {
      let part = Array(samples[start..<min(samples.count, start + 90)])
      let verdict = checker.check(floatBatch(first: start, part, shape: shape, labels: nil))
      flagged += verdict.flagged.map { $0 + start }
    }
    let clean = samples.indices.filter { k in samples[k].allSatisfy(\.isFinite) }
    #expect(flagged == samples.indices.filter { !clean.contains($0) })
    for g in 0..<groups.count {
      let xs = clean.flatMap { k in (0..<groups.valuesPerGroup).map { v in Double(samples[k][v * groups.count + g]) } }
      let mean = xs.reduce(0, +) / Double(xs.count)
      let std = (xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count)).squareRoot()
      let s = checker.groupStats[g]
      #expect(s.values.count == xs.count)
      #expect(abs(s.values.mean - mean) < 1e-9 && abs(s.values.std - std) < 1e-9)
      #expect(s.values.min == xs.min()! && s.values.max == xs.max()!)
      #expect(s.extremeCount == xs.filter { abs($0) >= 900 }.count)
      #expect(s.extremeMax == xs.map(abs).filter { $0 >= 900 }.max()!)
    }
  }
}

@Suite struct DatasetCheckTests {
  func stats(_ name: String, _ xs: [Double]) -> GroupStats {
    var g = GroupStats(name: name)
    xs.forEach { g.values.add($0) }
    return g
  }

  @Test func scaleConstantExtremeAndImbalance() {
    var big = stats("f2", [0, 2e4, -2e4])
    big.extremeCount = 1
    big.extremeMax = 2e6
    let groups = [stats("f0", [0.001, -0.001, 0]), stats("f1", [5, 5, 5]), big]
    let findings = DatasetChecks.findings(groups: groups, labels: nil, options: CheckOptions(), fixCommand: "datasan clean x -o y")
    let kinds = findings.map(\.kind)
    #expect(kinds == [.unnormalizedScale, .scaleImbalance, .constantFeature, .extremeValue])
    #expect(findings.allSatisfy { $0.severity == .warning })
    #expect(findings[0].detail.contains("datasan clean x -o y"))
  }

  @Test func classesMissingAndImbalanced() {
    var labels = LabelStats()
    for _ in 0..<500 { labels.add(0) }
    for _ in 0..<3 { labels.add(1) }
    var options = CheckOptions()
    options.numClasses = 4
    options.strict = true
    let findings = DatasetChecks.findings(groups: [], labels: labels, options: options, fixCommand: "")
    #expect(findings.map(\.kind) == [.classMissing, .classMissing, .classImbalance])
    #expect(findings.allSatisfy { $0.severity == .error })
  }
}

@Suite struct ReportTests {
  @Test func jsonHasTheSpecFields() {
    var report = ScanReport(info: makeInfo(shape: [1]))
    report.total = 3
    report.clean = 2
    report.flagged = 1
    report.counts[.nanValue] = 1
    report.issues = [Finding(kind: .nanValue, severity: .error, index: 1, key: "1", field: "data", detail: "1 NaN value")]
    report.passed = false
    let json = JSONReport.value(of: report, version: "0.1.0").serialized()
    #expect(json.hasPrefix(#"{"schema":"datasan-report/1","tool":{"name":"datasan","version":"0.1.0"}"#))
    #expect(json.contains(#""samples":{"total":3,"clean":2,"flagged":1}"#))
    #expect(json.contains(#""issues":[{"kind":"nan_value","severity":"error","index":1,"key":"1","field":"data","detail":"1 NaN value"}]"#))
    #expect(json.hasSuffix(#""passed":false}"#))
  }

  @Test func jsonEscapesAndNonFinite() {
    #expect(JSONValue.string("a\"b\n\u{1}").serialized() == #""a\"b\n\u0001""#)
    #expect(JSONValue.number(.nan).serialized() == "null")
    #expect(JSONValue.number(255).serialized() == "255")
  }
}

/// A reader's measured block moments stand in for the checker's own pass, with the same results;
/// a table that does not describe the batch's groups is ignored.
@Suite struct MeasuredBlocksTests {
  func byteBatch(_ rng: inout SplitMix, count: Int, shape: [Int]) -> SampleBatch {
    let b = SampleBatch.uniform(
      firstIndex: 0, count: count, elementType: .uint8, shape: shape, labels: (0..<count).map { Double($0 % 3) })
    let values = b.storage.typed(UInt8.self, count: b.elementCount)
    for i in 0..<values.count { values[i] = UInt8(truncatingIfNeeded: rng.next()) }
    return b
  }

  /// Measures every sample of `batch` into `table`, as a reader does record by record.
  func measureAll(_ table: MeasuredBlocks, _ batch: SampleBatch) {
    let values = UnsafePointer(batch.storage.typed(UInt8.self, count: batch.elementCount).baseAddress!)
    let length = batch.shape.reduce(1, *)
    for i in 0..<batch.count { table.measure(sample: i, values: values + i * length) }
  }

  func info(_ shape: [Int]) -> DatasetInfo {
    DatasetInfo(
      format: .lmdb, path: "mem", sampleCount: nil, elementType: .uint8, sampleShape: shape, featureName: "data",
      labelName: "label")
  }

  func checked(_ batch: SampleBatch, _ shape: [Int]) -> SampleChecker {
    let checker = SampleChecker(options: CheckOptions(), info: info(shape))
    _ = checker.check(batch)
    return checker
  }

  @Test func measuredMomentsGiveTheSameStatistics() {
    var rng = SplitMix(state: 7)
    let shape = [3, 8, 8]
    let plain = byteBatch(&rng, count: 50, shape: shape)
    var measured = plain
    let table = MeasuredBlocks(samples: 50, blocksPerSample: 3, blockLength: 64)
    measureAll(table, plain)
    measured.values = .stored(measured: table)
    measured.problems[4] = ReaderProblem(.unreadable, "bad record")  // skipped either way
    var withProblem = plain
    withProblem.problems[4] = ReaderProblem(.unreadable, "bad record")

    let a = SampleChecker(options: CheckOptions(), info: info(shape))
    let b = SampleChecker(options: CheckOptions(), info: info(shape))
    #expect(a.check(withProblem).flagged == [4])
    #expect(b.check(measured).flagged == [4])
    #expect(a.groupStats == b.groupStats)
    #expect(a.groupStats.map(\.values.count) == [49 * 64, 49 * 64, 49 * 64])

    // The checker does take them: moments measured on other values change its statistics.
    var other = plain
    let foreign = byteBatch(&rng, count: 50, shape: shape)
    let elsewhere = MeasuredBlocks(samples: 50, blocksPerSample: 3, blockLength: 64)
    measureAll(elsewhere, foreign)
    other.values = .stored(measured: elsewhere)
    let e = SampleChecker(options: CheckOptions(), info: info(shape))
    _ = e.check(other)
    #expect(e.groupStats != checked(plain, shape).groupStats)

    // New values drop what was measured of the old ones.
    var replaced = measured
    replaced.storage = ByteStorage(byteCount: plain.elementCount)
    #expect(replaced.measuredBlocks == nil && replaced.hasValues)

    // Blocks that are not the groups (here: whole samples) are not used.
    var mismatched = plain
    let whole = MeasuredBlocks(samples: 50, blocksPerSample: 1, blockLength: 192)
    mismatched.values = .stored(measured: whole)  // never measured: garbage if it were read
    let c = SampleChecker(options: CheckOptions(), info: info(shape))
    _ = c.check(mismatched)
    let d = SampleChecker(options: CheckOptions(), info: info(shape))
    _ = d.check(plain)
    #expect(c.groupStats == d.groupStats)
  }
}

/// The batch values contract: a batch read without values (moments only) is accepted for any image
/// size the reader can deliver, with the statistics of the stored values, and a run of unreadable
/// samples without values is flagged as a whole, whatever its length.
@Suite struct BatchValuesContractTests {
  let helper = MeasuredBlocksTests()

  /// Every small image shape, with `--shape` absent, right and wrong: the moments-only batch gives
  /// the verdicts and statistics of the same batch with its values.
  @Test(arguments: [[1, 1, 1], [1, 2, 2], [3, 1, 1], [1, 1, 2], [2, 3, 1], [3, 4, 4], [1, 16, 16], [4, 5, 7]])
  func momentsOnlyBatchesOfAnyImageSize(shape: [Int]) {
    var rng = SplitMix(state: UInt64(shape.reduce(17, *)))
    for expected in [nil, shape, [1, 2, 2], [shape.reduce(1, *)]] as [[Int]?] {
      var plain = helper.byteBatch(&rng, count: 40, shape: shape)
      plain.problems[3] = ReaderProblem(.unreadable, "bad record")
      let table = MeasuredBlocks(samples: 40, blocksPerSample: shape[0], blockLength: shape[1] * shape[2])
      helper.measureAll(table, plain)
      var lean = plain
      lean.storage = ByteStorage(byteCount: 0)
      lean.values = .momentsOnly(table)
      var options = CheckOptions()
      options.expectedShape = expected
      #expect(!SampleChecker.needsValues(options, keepingSamples: false))
      let a = SampleChecker(options: options, info: helper.info(shape))
      let b = SampleChecker(options: options, info: helper.info(shape))
      let va = a.check(plain)
      let vb = b.check(lean)
      #expect(va.flagged == vb.flagged)
      #expect(va.findings.map { $0.map(\.kind) } == vb.findings.map { $0.map(\.kind) })
      // The same sums, added in another order for groups of fewer than 16 values: equal to rounding.
      #expect(a.groupStats.count == b.groupStats.count)
      for (x, y) in zip(a.groupStats.map(\.values), b.groupStats.map(\.values)) {
        #expect(x.count == y.count && x.min == y.min && x.max == y.max)
        #expect(Swift.abs(x.mean - y.mean) <= 1e-12 * Swift.abs(x.mean))
        #expect(Swift.abs(x.m2 - y.m2) <= 1e-12 * Swift.abs(x.m2))
      }
      if expected == nil || expected == shape {
        #expect(vb.flagged == [3])
        #expect(b.groupStats.map(\.values.count) == Array(repeating: 39 * shape[1] * shape[2], count: shape[0]))
      } else {
        #expect(vb.flagged.count == 40)  // every sample is a shape_mismatch (or unreadable)
      }
    }
  }

  /// What makes the checks read values: each option alone.
  @Test func needsValuesFollowsTheOptions() {
    let base = CheckOptions()
    #expect(!SampleChecker.needsValues(base, keepingSamples: false))
    #expect(SampleChecker.needsValues(base, keepingSamples: true))
    var o = base
    o.histograms = true
    #expect(SampleChecker.needsValues(o, keepingSamples: false))
    o = base
    o.channelAxis = .last
    #expect(SampleChecker.needsValues(o, keepingSamples: false))
    o = base
    o.maxAbs = 255
    #expect(SampleChecker.needsValues(o, keepingSamples: false))
    o.maxAbs = 256
    #expect(!SampleChecker.needsValues(o, keepingSamples: false))
  }

  /// 2^40 never-written rows: one verdict, exact counts, issues listed up to --max-issues, at once.
  @Test func unreadableRunIsFlaggedWhole() {
    let n = 1 << 40
    let info = makeInfo(shape: [4])
    let checker = SampleChecker(options: CheckOptions(), info: info)
    let first = floatBatch([[1, 2, 3, 4], [5, 6, 7, 8]], shape: [4], labels: [0, 1])
    let run = SampleBatch.unreadableRun(
      firstIndex: 2, count: n, problem: ReaderProblem(.unreadable, "never written"), elementType: .float32, shape: [4])
    #expect(!run.hasValues && run.storage.bytes.isEmpty)
    var builder = ReportBuilder(info: info, maxIssues: 10)
    for (batch, verdict) in zip([first, run], checker.check(batches: [first, run])) { builder.add(verdict, of: batch) }
    let report = builder.finish(checker: checker, datasetFindings: [], bytesRead: 0, seconds: 0)
    #expect(report.total == n + 2 && report.flagged == n && report.clean == 2)
    #expect(report.counts[.unreadable] == n)
    #expect(report.issues.count == 10 && report.issuesTruncated)
    #expect(report.issues.map(\.index) == (2..<12).map { Optional($0) })
    #expect(report.issues.allSatisfy { $0.kind == .unreadable && $0.detail == "never written" })
    #expect(checker.total == n + 2 && checker.clean == 2)
    #expect(checker.groupStats.map(\.values.count) == [2, 2, 2, 2])
    let verdict = checker.check(run)
    #expect(verdict.flaggedCount(of: n) == n && verdict.cleanPositions(count: n).isEmpty)
    #expect(verdict.finding(n - 1, of: run)?.key == String(n + 1))
  }
}
