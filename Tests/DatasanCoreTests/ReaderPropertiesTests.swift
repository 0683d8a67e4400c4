import Testing

@testable import DatasanCore

/// What a reader says about its samples (DatasetInfo's properties) decides the wording of findings,
/// not the format's name.
@Suite struct ReaderPropertiesTests {
  @Test func missingValuesReadAsNaNSayNaNOrMissing() {
    for missing in [false, true] {
      var info = makeInfo(shape: [3], labels: false)
      info.missingValuesReadAsNaN = missing
      let v = SampleChecker(options: CheckOptions(), info: info).check(floatBatch([[1, .nan, 2]], shape: [3], labels: nil))
      #expect(v.findings[0][0].detail == (missing ? "1 NaN value (NaN or missing), first at [1]" : "1 NaN value, first at [1]"))
    }
  }

  @Test func skippedFilesNameTheSampleFileType() {
    var info = makeInfo(shape: [3], labels: false)
    #expect(FindingKind.skippedFiles.meaning(for: info) == "files that are not samples were skipped")
    info.sampleFileType = ".png, .jpg or .jpeg"
    #expect(FindingKind.skippedFiles.meaning(for: info) == "files that are not .png, .jpg or .jpeg were skipped")
  }

  @Test func kindsAreTheCatalogInSpecOrder() {
    #expect(FindingKind.allCases.map(\.rawValue) == [
      "nan_value", "inf_value", "unreadable", "label_out_of_domain", "shape_mismatch", "unknown_class",
      "unnormalized_scale", "scale_imbalance", "constant_feature", "extreme_value", "class_missing", "class_imbalance", "skipped_files",
      "hidden_class_folder", "mixed_column", "extension_mismatch", "cmyk_image", "empty_dataset",
    ])
    #expect(FindingKind.allCases.filter(\.isSampleKind).count == 6)
    #expect(FindingKind(rawValue: "class_missing") == .classMissing)
    #expect(FindingKind(rawValue: "no_such_kind") == nil)
    #expect(FindingKind.nanValue < .shapeMismatch && FindingKind.shapeMismatch < .unnormalizedScale)
  }
}
