import Foundation
import Testing

@testable import DatasanCore

// What a new dataset check is: one type (and, in the product, its line in `CheckCatalog`). This one
// is a test's own, not a finding of SPEC.md: it counts the negative values of the clean samples.

extension FindingKind {
  static let negativeValues = FindingKind("negative_values", .dataset, meaning: "values below 0")
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
}
