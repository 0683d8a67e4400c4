import DatasanCore
@testable import DatasanHDF5
import DatasanTestSupport
import Testing

/// Label datasets: default, named, (N) and (N, 1), every numeric type; nested dataset paths.
@Suite struct HDF5ReaderLabelTests {
  let labels = Fixture.hdf5("labels.h5")
  let features = (0..<10).flatMap { i in [Double(10 * i), Double(10 * i + 1)] }

  func layout(_ info: DatasetInfo) -> HDF5Layout? {
    if let layout = info.layout as? HDF5Layout { return layout }
    return nil
  }

  @Test func defaultLabelDatasetIsUsedWhenPresent() throws {
    let result = try readAll(labels)
    #expect(result.values == features)
    #expect(result.labels == (0..<10).map { Double($0 % 3) })
    #expect(result.info.labelName == "label")
    #expect(layout(result.info)?.labelType == .int64)
    #expect(layout(result.info)?.labelRank == 1)
  }

  @Test func labelsOfShapeNBy1() throws {
    let result = try readAll(labels, labels: "label_n1")
    #expect(result.labels == (0..<10).map { Double($0) * 0.5 })
    #expect(result.info.labelName == "label_n1")
    #expect(layout(result.info)?.labelType == .float32)
    #expect(layout(result.info)?.labelRank == 2)
  }

  @Test func labelTypesAreConvertedToDouble() throws {
    #expect(try readAll(labels, labels: "label_u8").labels == (0..<10).map { Double(200 + $0) })
    #expect(try readAll(labels, labels: "label_be").labels == (0..<10).map { Double(-$0) })
    #expect(layout(try readAll(labels, labels: "label_be").info)?.labelType == .int32)
    #expect(try readAll(labels, labels: "label_f2").labels == (0..<10).map { Double($0) / 4 })
  }

  @Test func noLabelsWhenAbsentOrDisabled() throws {
    #expect(try readAll(Fixture.hdf5("dtypes.h5"), dataset: "f4").labels == nil)
    let disabled = try readAll(labels, labels: "")
    #expect(disabled.labels == nil)
    #expect(disabled.info.labelName == nil)
  }

  @Test func badLabelDatasets() throws {
    let missing = thrown(DatasanError.self) { _ = try readAll(labels, labels: "nope") }
    #expect(missing?.message.hasPrefix("no label dataset 'nope'") == true)
    #expect(missing?.message.contains("label_n1") == true)

    // (N, K) is one-hot / soft labels: K numbers per sample, the arg-max class as the label.
    let twoD = try readAll(labels, labels: "label_2d")
    #expect(twoD.info.labelEncoding == .vectors(width: 2))
    #expect(twoD.labels == [Double](repeating: 0, count: 10))

    let short = thrown(DatasanError.self) { _ = try readAll(labels, labels: "label_short") }
    #expect(short?.message == "label dataset 'label_short' has 9 labels but dataset 'data' has 10 samples")

    let strings = thrown(DatasanError.self) { _ = try readAll(labels, labels: "label_str") }
    #expect(strings?.message.hasPrefix("label dataset 'label_str': unsupported type string") == true)

    let mismatch = thrown(DatasanError.self) { _ = try readAll(Fixture.hdf5("label_mismatch.h5")) }
    #expect(mismatch?.path == Fixture.hdf5("label_mismatch.h5"))
    #expect(mismatch?.message == "label dataset 'label' has 9 labels but dataset 'data' has 10 samples")
  }

  @Test func datasetPathsInGroups() throws {
    let nested = Fixture.hdf5("nested.h5")
    for name in ["/train/images", "train/images"] {
      let result = try readAll(nested, dataset: name, labels: "/train/labels")
      #expect(result.info.featureName == name)
      #expect(result.info.labelName == "/train/labels")
      #expect(result.info.elementType == .uint8)
      #expect(result.info.sampleShape == [1, 4, 4])
      #expect(result.values == (0..<(12 * 16)).map { Double($0 % 256) })
      #expect(result.labels == (0..<12).map { Double($0 - 6) })
    }
    let missing = thrown(DatasanError.self) { _ = try readAll(nested) }
    #expect(missing?.message == "no dataset 'data' (no datasets at the root; groups: test/, train/)")
    let group = thrown(DatasanError.self) { _ = try readAll(nested, dataset: "/train") }
    #expect(group?.message.hasPrefix("'/train' is a group, not a dataset") == true)
    let deep = thrown(DatasanError.self) { _ = try readAll(nested, dataset: "/train/nope/images") }
    #expect(deep?.message.hasPrefix("no dataset '/train/nope/images'") == true)
  }
}
