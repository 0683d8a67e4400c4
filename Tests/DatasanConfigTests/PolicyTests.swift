import DatasanCore
import DatasanReports
import Testing

@testable import DatasanConfig

/// The policy on a report built by hand: 100 samples, 4 flagged (2 NaN only, 1 NaN + bad label,
/// 1 bad label only), one constant_feature and one class_imbalance warning.
@Suite struct PolicyTests {
  func report() -> ScanReport {
    let info = DatasetInfo(
      format: .hdf5, path: "train.h5", sampleCount: 100, elementType: .float32, sampleShape: [3],
      featureName: "data", labelName: "label")
    var r = ScanReport(info: info)
    r.total = 100
    r.flagged = 4
    r.clean = 96
    r.counts = [.nanValue: 3, .labelOutOfDomain: 2, .constantFeature: 1, .classImbalance: 1]
    r.flaggedKindSets = [[.nanValue]: 2, [.nanValue, .labelOutOfDomain]: 1, [.labelOutOfDomain]: 1]
    let warnings = [
      Finding(kind: .constantFeature, severity: .warning, field: "data[0]", detail: "constant"),
      Finding(kind: .classImbalance, severity: .warning, field: "label", detail: "imbalanced"),
    ]
    r.datasetFindings = warnings
    r.issues = warnings + [
      Finding(kind: .nanValue, severity: .error, index: 1, key: "1", field: "data", detail: "NaN"),
      Finding(kind: .nanValue, severity: .error, index: 2, key: "2", field: "data", detail: "NaN"),
      Finding(kind: .nanValue, severity: .error, index: 3, key: "3", field: "data", detail: "NaN"),
      Finding(kind: .labelOutOfDomain, severity: .error, index: 3, key: "3", field: "label", detail: "label 9"),
      Finding(kind: .labelOutOfDomain, severity: .error, index: 4, key: "4", field: "label", detail: "label -1"),
    ]
    r.passed = false
    return r
  }

  @Test func defaultPolicyChangesNothing() {
    let r = report().applying(Policy())
    #expect(!r.passed && r.flagged == 4)
    #expect(r.failingKinds == [.nanValue, .labelOutOfDomain])
    #expect(r.verdictLine == "FAIL: 4 flagged samples")
  }

  @Test func ignoreRemovesKindsAndRecountsFlagged() {
    let r = report().applying(Policy(ignore: [.labelOutOfDomain, .classImbalance]))
    #expect(r.counts[.labelOutOfDomain] == nil && r.counts[.classImbalance] == nil)
    #expect(r.flagged == 3 && r.clean == 97)  // the sample with only a bad label is no longer flagged
    #expect(!r.issues.contains { $0.kind == .labelOutOfDomain || $0.kind == .classImbalance })
    #expect(r.datasetFindings.map(\.kind) == [.constantFeature])
    #expect(!r.passed)
    let all = report().applying(Policy(ignore: [.labelOutOfDomain, .nanValue]))
    #expect(all.flagged == 0 && all.passed)
  }

  @Test func failOnPromotesWarnings() {
    let r = report().applying(Policy(failOn: [.constantFeature], maxFlaggedFraction: 0.05))
    #expect(r.datasetFindings.first { $0.kind == .constantFeature }?.severity == .error)
    #expect(r.issues.first { $0.kind == .constantFeature }?.severity == .error)
    #expect(r.datasetFindings.first { $0.kind == .classImbalance }?.severity == .warning)
    #expect(r.failingKinds == [.constantFeature])
    #expect(!r.passed)
    #expect(r.verdictLine == "FAIL: 1 dataset finding promoted to error")
  }

  @Test func maxFlaggedFractionIsInclusive() {
    #expect(report().applying(Policy(maxFlaggedFraction: 0.04)).passed)  // 4 / 100 == 0.04
    #expect(!report().applying(Policy(maxFlaggedFraction: 0.039)).passed)
    let passed = report().applying(Policy(maxFlaggedFraction: 0.04))
    #expect(passed.toleratedKinds == [.nanValue, .labelOutOfDomain])
    #expect(passed.verdictLine == "PASS: 4 flagged samples (4%) within max_flagged_fraction 0.04")
    #expect(report().applying(Policy(maxFlaggedFraction: 0.01)).verdictLine.hasPrefix("FAIL: 4 flagged samples (4%) over"))
  }

  @Test func aSampleKindInFailOnFailsWithinTheFraction() {
    let r = report().applying(Policy(failOn: [.labelOutOfDomain], maxFlaggedFraction: 0.5))
    #expect(!r.passed)
    #expect(r.failingKinds == [.labelOutOfDomain])
    #expect(r.toleratedKinds == [.nanValue])
    #expect(r.verdictLine == "FAIL: label_out_of_domain in fail_on")
  }

  @Test func applyingTwiceIsTheSame() {
    let p = Policy(failOn: [.constantFeature], ignore: [.labelOutOfDomain], maxFlaggedFraction: 0.01)
    let once = report().applying(p)
    let twice = once.applying(p)
    #expect(once.flagged == twice.flagged && once.counts == twice.counts && once.issues == twice.issues)
    #expect(once.passed == twice.passed)
  }

  @Test func jsonAndJUnitFollowThePolicy() {
    let r = report().applying(Policy(ignore: [.classImbalance], maxFlaggedFraction: 0.1))
    let json = JSONReport.value(of: r, version: "test").serialized()
    #expect(json.contains("\"passed\":true"))
    #expect(json.contains("\"policy\":{\"fail_on\":[],\"ignore\":[\"class_imbalance\"],\"max_flagged_fraction\":0.1}"))
    #expect(!json.contains("class_imbalance\":"))
    let xml = JUnitReport.xml(of: r)
    #expect(!xml.contains("<failure"))
    #expect(!xml.contains("datasan.class_imbalance"))
    #expect(xml.contains("tolerated"))
    #expect(!JSONReport.value(of: report(), version: "t").serialized().contains("\"policy\""))
  }

  @Test func kindNames() throws {
    #expect(try Policy.kinds(["all"], allowAll: true) == Policy.warningKinds)
    #expect(try Policy.kinds(["none"], allowAll: true).isEmpty)
    #expect(try Policy.kinds([" nan_value ", "constant_feature"], allowAll: false) == [.nanValue, .constantFeature])
    #expect(throws: PolicyError.self) { try Policy.kinds(["all"], allowAll: false) }
    #expect(Policy.suggestion(for: "nan", among: FindingKind.allCases.map(\.rawValue)) == "nan_value")
    #expect(Policy.suggestion(for: "xyz", among: FindingKind.allCases.map(\.rawValue)) == nil)
  }
}
