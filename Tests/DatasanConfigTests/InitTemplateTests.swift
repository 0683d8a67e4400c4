import DatasanCore
import Testing

@testable import DatasanConfig

@Suite struct InitTemplateTests {
  func template() -> String {
    let info = DatasetInfo(
      format: DataFormat(rawValue: "hdf5"), path: "train.h5", sampleCount: 4, elementType: .float32, sampleShape: [2],
      featureName: "data", labelName: nil)
    let facts = InitTemplate.Facts(
      input: "train.h5", info: info, read: ReadOptions(), header: nil, total: 4, flagged: 0, labels: nil, groups: [])
    return InitTemplate.render(facts).text
  }

  /// The gate's comment names the kinds that fail it by default from the check catalog: a new
  /// finding kind of severity error appears in it without an edit here.
  @Test func theGateCommentNamesEveryErrorKind() throws {
    let text = template()
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    let start = try #require(lines.firstIndex { $0.hasPrefix("# The gate: error findings (") })
    let block = lines[start...].prefix { $0.hasPrefix("#") }
    let comment = block.map { $0.dropFirst(1) }.joined()
    let errorKinds = FindingKind.allCases.filter { $0.defaultSeverity == .error }
    #expect(errorKinds.count >= 5)
    for kind in FindingKind.allCases {
      #expect(comment.contains(kind.rawValue) == (kind.defaultSeverity == .error), "\(kind)")
    }
    #expect(comment.contains("fail it; dataset warnings do not, unless listed in fail_on."))
    for line in block { #expect(line.count <= 90, "\(line)") }
    // It still reads back as a config file.
    _ = try ConfigFile.parse(text, path: "datasan.yml")
  }
}
