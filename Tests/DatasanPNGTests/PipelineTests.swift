import DatasanCore
import Foundation
import Testing

@testable import DatasanPNG

/// A backend that knows only PNG folders, to run the core pipeline on the PNG reader and writer
/// (the real registry lives in the Datasan target).
struct PNGOnlyBackend: FormatBackend {
  func detectFormat(path: String) throws -> DataFormat { .png }

  func openReader(format: DataFormat, path: String, options: ReadOptions) throws -> SampleReader {
    try PNGFolderReader(path: path, options: options)
  }

  func makeWriter(format: DataFormat, path: String, request: WriterRequest) throws -> SampleWriter {
    guard format == .png, case .original = request.content else {
      throw DatasanError(path: path, "this test backend writes PNG folders of original files only")
    }
    return try PNGFolderWriter(path: path, sourceRoot: request.source.path)
  }

  func writesDirectory(_ format: DataFormat) -> Bool { true }
}

/// The core pipeline over PNG folders: the reader's batches go through the checker, and `clean
/// --normalize none` splits the files between the output and the quarantine.
@Suite struct PipelineTests {
  @Test func scanOfTheTrainFixture() throws {
    let config = ScanConfiguration(input: Fixture.png("train"), format: .png)
    let report = try Pipeline(backend: PNGOnlyBackend()).scan(config)
    #expect(report.total == 24)
    #expect(report.flagged == 3)
    #expect(report.counts[.unreadable] == 2)
    #expect(report.counts[.shapeMismatch] == 1)
    #expect(report.counts[.unnormalizedScale] == 3)
    #expect(report.passed == false)
    let keys = report.issues.filter { $0.kind.isSampleKind }.map { $0.key ?? "" }
    #expect(keys == ["cat/cat_07.png", "dog/dog_03.png", "zebra/zebra_05.png"])
    #expect(report.groupStats.map(\.name).count == 3)
  }

  @Test func cleanWithoutNormalizationCopiesTheFiles() throws {
    let out = try TempFolder()
    var config = CleanConfiguration(
      scan: ScanConfiguration(input: Fixture.png("train"), format: .png), output: out.path + "/clean",
      outputFormat: .png, quarantine: out.path + "/clean.quarantine")
    config.normalize = .none
    let result = try Pipeline(backend: PNGOnlyBackend()).clean(config)
    #expect(result.written == 21 && result.quarantined == 3, "\(result.written) \(result.quarantined)")
    let fm = FileManager.default
    let quarantined = try fm.subpathsOfDirectory(atPath: out.path + "/clean.quarantine").filter { $0.hasSuffix(".png") }
    #expect(quarantined.sorted() == ["cat/cat_07.png", "dog/dog_03.png", "zebra/zebra_05.png"])
    let kept = try fm.subpathsOfDirectory(atPath: out.path + "/clean").filter { $0.hasSuffix(".png") }
    #expect(kept.count == 21)
    for rel in kept {
      let a = try Data(contentsOf: URL(fileURLWithPath: out.path + "/clean/" + rel))
      let b = try Data(contentsOf: URL(fileURLWithPath: Fixture.png("train/" + rel)))
      #expect(a == b, "\(rel)")
    }
    let reasons = try String(contentsOfFile: out.path + "/clean.quarantine.reasons.jsonl", encoding: .utf8)
    #expect(reasons.split(separator: "\n").count == 3)
    #expect(reasons.contains("unexpected end of file (truncated)"))
  }
}
