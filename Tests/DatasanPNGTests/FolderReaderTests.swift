import DatasanCore
import Foundation
import Testing

@testable import DatasanPNG

/// PNGFolderReader on the committed folder fixtures.
@Suite struct FolderReaderTests {
  /// The decoder's values for a fixture file, for comparison with what a batch holds.
  func decoded(_ name: String, axis: ChannelAxis = .first) throws -> [Int] {
    try decodeFixture(name, channelAxis: axis).get().values
  }

  @Test func imageFolderLabelsFollowTheByteOrderOfClassNames() throws {
    let reader = try PNGFolderReader(path: Fixture.png("imagefolder"), options: ReadOptions())
    #expect(reader.layout == .imageFolder)
    #expect(reader.classNames == ["B", "_x", "a"])
    let got = samples(try readAll(reader))
    #expect(got.map(\.key) == ["B/b1.png", "B/sub/deeper/b2.png", "_x/x1.png", "_x/x2.png", "a/A2.PNG", "a/a1.png"])
    #expect(got.map(\.label) == [0, 0, 1, 1, 2, 2])
    #expect(got.map(\.original) == got.map(\.key))
    for s in got {
      #expect(s.problem == nil)
      #expect(s.shape == [3, 4, 4])
      #expect(s.values == (try decoded("imagefolder/\(s.key)")))
    }
  }

  /// A given class list labels the folders by the list: "a" is listed first, the hidden folder is a
  /// class because the list names it, "_x" is not listed (its files are unknown_class, never read),
  /// and "gone" has no folder.
  @Test func givenClassListLabelsByTheListAndFlagsOtherFolders() throws {
    var options = ReadOptions()
    options.classNames = ["a", "gone", "B", ".hidden_class"]
    let reader = try PNGFolderReader(path: Fixture.png("imagefolder"), options: options)
    #expect(reader.layout == .imageFolder)
    #expect(reader.info.classNames == ["a", "gone", "B", ".hidden_class"])
    #expect(reader.info.classesWithoutFolder == [1])
    #expect(reader.hiddenClassFolders.isEmpty)
    let got = samples(try readAll(reader))
    #expect(got.map(\.key) == [
      ".hidden_class/h.png", "B/b1.png", "B/sub/deeper/b2.png", "_x/x1.png", "_x/x2.png", "a/A2.PNG", "a/a1.png",
    ])
    let labels = got.map { $0.label.map { $0.isNaN ? -9 : $0 } }
    #expect(labels == [3, 2, 2, -9, -9, 0, 0])
    for s in got where s.key.hasPrefix("_x/") {
      #expect(s.problem?.kind == .unknownClass && s.problem?.field == "label" && s.values.isEmpty)
      #expect(s.problem?.detail.contains("'_x'") == true)
    }
    #expect(got.filter { $0.problem != nil }.count == 2)
  }

  @Test func imageFolderReportsSkippedFilesAndHiddenClassFolders() throws {
    let reader = try PNGFolderReader(path: Fixture.png("imagefolder"), options: ReadOptions())
    #expect(reader.skippedFiles.count == 2)
    #expect(reader.skippedFiles.examples == ["README.md", "a/notes.txt"])
    #expect(reader.hiddenClassFolders == [".hidden_class"])
  }

  @Test func infoDescribesTheDataset() throws {
    let reader = try PNGFolderReader(path: Fixture.png("imagefolder"), options: ReadOptions())
    let info = reader.info
    #expect(info.format == .png)
    #expect(info.path == Fixture.png("imagefolder"))
    #expect(info.sampleCount == 6)
    #expect(info.elementType == .uint8)
    #expect(info.sampleShape == [3, 4, 4])
    #expect(info.featureName == "data")
    #expect(info.labelName == "label")
    #expect(info.layout as? PNGSourceLayout == PNGSourceLayout(listFile: nil))
  }

  @Test func flatFolderHasNoLabels() throws {
    let reader = try PNGFolderReader(path: Fixture.png("flat"), options: ReadOptions())
    #expect(reader.layout == .flat)
    #expect(reader.info.labelName == nil)
    #expect(reader.skippedFiles.count == 1 && reader.skippedFiles.examples == ["notes.txt"])
    #expect(reader.hiddenClassFolders.isEmpty && reader.classNames.isEmpty)
    let batches = try readAll(reader)
    #expect(batches.allSatisfy { $0.labels == nil })
    #expect(samples(batches).map(\.key) == ["a.png", "b.png", "c.png", "more/d.png"])
  }

  @Test func listLayoutKeepsTheListOrderAndFlagsBadLines() throws {
    let options = readOptions(list: Fixture.png("list/list.txt"))
    let reader = try PNGFolderReader(path: Fixture.png("list"), options: options)
    #expect(reader.layout == .list)
    #expect(reader.info.sampleCount == 9)
    #expect(reader.info.labelName == "label")
    let got = samples(try readAll(reader))
    #expect(
      got.map(\.key) == [
        "img/one.png", "img/two.png", "img/with space.png", "img/three.png", "img/four.png", "img/missing.png",
        "img/five.png", "sub/six.png", "img/one.png",
      ])
    let labels = got.map { $0.label.map { $0.isNaN ? "nan" : String(Int($0)) } ?? "nil" }
    #expect(labels == ["0", "1", "2", "nan", "nan", "1", "-1", "nan", "4"])
    #expect(got[3].problem == ReaderProblem(.unreadable, "list line 4: no label after the path"))
    #expect(got[4].problem == ReaderProblem(.unreadable, "list line 5: label 'x' is not an integer"))
    #expect(got[5].problem == ReaderProblem(.unreadable, "cannot open: No such file or directory"))
    #expect(got[7].problem == ReaderProblem(.unreadable, "list line 9: label '1.5' is not an integer"))
    for i in [0, 1, 2, 6, 8] {
      #expect(got[i].problem == nil)
      #expect(got[i].values == (try decoded("list/\(got[i].key)")))
    }
    for i in [3, 4, 5, 7] {
      #expect(got[i].values.isEmpty && got[i].shape == [0])
    }
  }

  @Test func otherBitDepthIsShapeMismatchButOtherSizeIsNot() throws {
    let reader = try PNGFolderReader(path: Fixture.png("mixed_depth"), options: ReadOptions())
    #expect(reader.info.elementType == .uint8)
    #expect(reader.info.sampleShape == [3, 4, 4])
    let got = samples(try readAll(reader))
    #expect(got.map(\.key) == ["a.png", "b.png", "c.png", "d.png"])
    #expect(got[1].problem == ReaderProblem(.shapeMismatch, "16-bit image in an 8-bit dataset"))
    #expect(got[1].values.isEmpty)
    #expect(got[0].problem == nil && got[2].problem == nil && got[3].problem == nil)
    #expect(got[2].shape == [3, 3, 4])
    #expect(got[3].shape == [1, 4, 4])
    #expect(got[2].values == (try decoded("mixed_depth/c.png")))
  }

  @Test func brokenFilesAreUnreadableWithLibpngsReason() throws {
    let reader = try PNGFolderReader(path: Fixture.png("broken"), options: ReadOptions())
    // crc_idat.png (16 x 16) comes first with a readable header, but jpeg.png is the first to decode:
    // a JPEG named .png is a JPEG (the bytes decide; the dataset check extension_mismatch names it).
    #expect(reader.info.sampleShape == [3, 8, 8])
    let got = samples(try readAll(reader))
    let problems = Dictionary(uniqueKeysWithValues: got.map { ($0.key, $0.problem?.detail ?? "ok") })
    #expect(problems["ok.png"] == "ok")
    #expect(problems["empty.png"] == "empty file (0 bytes)")
    #expect(problems["truncated.png"] == "unexpected end of file (truncated)")
    #expect(problems["crc_idat.png"] == "IDAT: CRC error")
    #expect(problems["crc_text.png"] == "tEXt: CRC error")
    #expect(problems["crc_text_end.png"] == "tEXt: CRC error")
    #expect(problems["bad_signature.png"] == "Not a PNG file")
    #expect(problems["jpeg.png"] == "ok")
    #expect(problems["text.png"] == "Not a PNG file")
    #expect(problems["bomb.png"] == "image of 100000 x 100000 = 10000000000 pixels exceeds --max-pixels 100000000")
    for s in got where s.key != "ok.png" && s.key != "jpeg.png" {
      #expect(s.problem?.kind == .unreadable, "\(s.key)")
      #expect(s.values.isEmpty && s.shape == [0], "\(s.key)")
    }
    #expect(got.first { $0.key == "ok.png" }?.values == (try decoded("broken/ok.png")))
    let jpeg = try decodeJPEG(try Fixture.bytes("broken/jpeg.png")).get()
    #expect(got.first { $0.key == "jpeg.png" }?.values == jpeg.1)
  }

  @Test func trainFixtureHasWhatTheCLITestsExpect() throws {
    let reader = try PNGFolderReader(path: Fixture.png("train"), options: ReadOptions())
    #expect(reader.classNames == ["cat", "dog", "zebra"])
    #expect(reader.skippedFiles.count == 1 && reader.skippedFiles.examples == ["readme.txt"])
    #expect(reader.info.sampleShape == [3, 8, 8])
    let got = samples(try readAll(reader))
    #expect(got.count == 24)
    #expect(got.map(\.label) == (0..<24).map { Double($0 / 8) })
    let flagged = got.filter { $0.problem != nil }
    #expect(flagged.map(\.key) == ["dog/dog_03.png", "zebra/zebra_05.png"])
    #expect(flagged[0].problem?.detail == "unexpected end of file (truncated)")
    #expect(flagged[1].problem?.detail.hasPrefix("IDAT: ") == true)
    #expect(got.filter { $0.shape != [3, 8, 8] && $0.problem == nil }.map(\.key) == ["cat/cat_07.png"])
    #expect(got.first { $0.key == "cat/cat_07.png" }?.shape == [3, 6, 8])
  }

  @Test func channelsLastGivesHeightWidthChannels() throws {
    let reader = try PNGFolderReader(path: Fixture.png("train"), options: readOptions(axis: .last))
    #expect(reader.info.sampleShape == [8, 8, 3])
    let got = samples(try readAll(reader))
    #expect(got.first { $0.key == "cat/cat_07.png" }?.shape == [6, 8, 3])
    #expect(got[0].values == (try decoded("train/cat/cat_00.png", axis: .last)))
  }

  @Test func maxPixelsRefusesEveryLargerImage() throws {
    let reader = try PNGFolderReader(path: Fixture.png("imagefolder"), options: readOptions(maxPixels: 15))
    #expect(reader.info.sampleShape == nil)
    let got = samples(try readAll(reader))
    #expect(got.count == 6)
    #expect(
      got.allSatisfy { $0.problem == ReaderProblem(.unreadable, "image of 4 x 4 = 16 pixels exceeds --max-pixels 15") })
  }

  @Test(arguments: [1, 100, 200, 1000, 8 << 20])
  func batchSizeDoesNotChangeTheSamples(_ batchBytes: Int) throws {
    let reference = samples(try readAll(try PNGFolderReader(path: Fixture.png("train"), options: ReadOptions())))
    let batches = try readAll(
      try PNGFolderReader(path: Fixture.png("train"), options: readOptions(batchBytes: batchBytes)))
    #expect(samples(batches) == reference)
    var next = 0
    for batch in batches {
      #expect(batch.firstIndex == next)
      #expect(batch.offsets?.count == batch.count + 1)
      #expect(batch.shapes?.count == batch.count)
      #expect(batch.storage.bytes.count >= batch.elementCount)
      next += batch.count
    }
    #expect(next == 24)
    if batchBytes == 1 { #expect(batches.count == 24) }
    if batchBytes == 8 << 20 { #expect(batches.count == 1) }
  }

  @Test func outputIsTheSameOnEveryRun() throws {
    for folder in ["train", "broken", "imagefolder"] {
      let a = samples(
        try readAll(try PNGFolderReader(path: Fixture.png(folder), options: readOptions(batchBytes: 500))))
      let b = samples(
        try readAll(try PNGFolderReader(path: Fixture.png(folder), options: readOptions(batchBytes: 500))))
      #expect(a == b, "\(folder)")
    }
  }

  @Test func bytesReadCountsTheFiles() throws {
    let reader = try PNGFolderReader(path: Fixture.png("flat"), options: ReadOptions())
    _ = try readAll(reader)
    var total = 0
    for name in ["a.png", "b.png", "c.png", "more/d.png"] { total += try Fixture.bytes("flat/\(name)").count }
    #expect(reader.bytesRead == total)
  }

  @Test func notAFolderIsAnError() {
    #expect(throws: DatasanError.self) { try PNGFolderReader(path: Fixture.png("missing"), options: ReadOptions()) }
    #expect(throws: DatasanError.self) {
      try PNGFolderReader(path: Fixture.png("kinds/rgb.png"), options: ReadOptions())
    }
    #expect(throws: DatasanError.self) {
      try PNGFolderReader(path: Fixture.png("list"), options: readOptions(list: Fixture.png("list/none.txt")))
    }
  }
}
