import Foundation
import Testing

@testable import DatasanCore

// What a new check is: one type (and, in the product, its line in `CheckCatalog`). These are a
// test's own, not findings of SPEC.md: a dataset check that counts the negative values of the clean
// samples, and a sample check that flags a sample whose first value is above 100.

extension FindingKind {
  static let negativeValues = FindingKind("negative_values", .dataset, meaning: "values below 0")
  static let largeFirstValue = FindingKind("large_first_value", .sample, meaning: "a first value above 100")
}

struct LargeFirstValueCheck: SampleCheck {
  static let kinds: [FindingKind] = [.largeFirstValue]
  init(options: CheckOptions, info: DatasetInfo) {}

  func check(_ batch: SampleBatch, positions: [Int], into findings: inout [SampleFinding]) {
    let values = batch.storage.typed(Float.self, count: batch.elementCount)
    for i in positions where values[batch.elementRange(of: i).lowerBound] > 100 {
      findings.append(SampleFinding(i, of: batch, kind: .largeFirstValue, field: "data", detail: "first value above 100"))
    }
  }
}

struct NegativeValuesCheck: DatasetCheck {
  static let kinds: [FindingKind] = [.negativeValues]
  static let name = "negative_values"

  struct State: CheckState, Equatable {
    var negative = 0
    mutating func merge(_ other: State) { negative += other.negative }
  }

  func makeState(_ context: CheckContext) -> State { State() }

  func add(_ checked: CheckedBatch, to state: inout State, _ context: CheckContext) {
    let batch = checked.batch
    let values = batch.storage.typed(Float.self, count: batch.elementCount)
    checked.forEachClean { i in
      for e in batch.elementRange(of: i) where values[e] < 0 { state.negative += 1 }
    }
  }

  func finish(_ state: State, _ context: FinishContext) -> [Finding] {
    state.negative == 0
      ? [] : [Finding(kind: .negativeValues, severity: context.severity, detail: "\(state.negative) negative values")]
  }
}

@Suite struct ExampleCheckTests {
  @Test func aCheckIsOneType() {
    let checker = SampleChecker(
      options: CheckOptions(), info: makeInfo(shape: [2], labels: false),
      checks: CheckCatalog.datasetChecks + [NegativeValuesCheck.self])
    // The NaN sample is flagged by the per-sample checks and never reaches the dataset checks.
    _ = checker.check(batches: [
      floatBatch([[-1, 2], [-3, .nan]], shape: [2], labels: nil),
      floatBatch(first: 2, [[-5, -6], [7, 8]], shape: [2], labels: nil),
    ])
    #expect(checker.state(NegativeValuesCheck.self) == NegativeValuesCheck.State(negative: 3))
    let findings = checker.datasetFindings(fixCommand: "")
    #expect(findings.last?.kind == .negativeValues)
    #expect(findings.last?.detail == "3 negative values")
  }

  @Test func aSampleCheckIsOneType() {
    let checker = SampleChecker(
      options: CheckOptions(), info: makeInfo(shape: [2]),
      sampleChecks: CheckCatalog.sampleChecks + [LargeFirstValueCheck.self])
    let v = checker.check(
      floatBatch([[1, 2], [200, .nan], [300, 1], [1, 1], [400, 0]], shape: [2], labels: [0, 0, -1, -1, 1]))
    #expect(v.flagged == [1, 2, 3, 4])
    // A sample's findings: the built-in ones, then each sample check's, in the catalog's order.
    #expect(v.findings.map { $0.map(\.kind) } == [
      [.nanValue, .largeFirstValue], [.labelOutOfDomain, .largeFirstValue], [.labelOutOfDomain], [.largeFirstValue],
    ])
    #expect(v.findings[3][0].index == 4)
    #expect(checker.groupStats.map(\.values.count) == [1, 1])  // only sample 0 is clean
  }
}
