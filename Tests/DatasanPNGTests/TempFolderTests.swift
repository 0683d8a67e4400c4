import DatasanCore
import Foundation
import Testing

@testable import DatasanPNG
import DatasanTestSupport

/// A fresh folder under the temporary directory, removed at the end.
final class TempFolder {
  let path: String
  init() throws {
    path = try TestTemporaryDirectory.make("datasan-png")
  }
  deinit { try? FileManager.default.removeItem(atPath: path) }

  func write(_ relative: String, _ bytes: [UInt8]) throws {
    let url = URL(fileURLWithPath: path + "/" + relative)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(bytes).write(to: url)
  }

  func copyFixture(_ fixture: String, to relative: String) throws { try write(relative, try Fixture.bytes(fixture)) }
}

/// Folder layouts that are easier to build on the fly than to commit.
@Suite struct TempFolderTests {
  @Test func emptyFolderIsNotAPNGFolder() throws {
    let dir = try TempFolder()
    try dir.write("notes.txt", Array("x".utf8))
    #expect(throws: DatasanError(path: dir.path, "no .png, .jpg or .jpeg files found (not an image folder)")) {
      try PNGFolderReader(path: dir.path, options: ReadOptions())
    }
  }

  @Test func emptyListIsAnError() throws {
    let dir = try TempFolder()
    try dir.write("list.txt", Array("\n  \n".utf8))
    #expect(throws: DatasanError.self) {
      try PNGFolderReader(path: dir.path, options: readOptions(list: dir.path + "/list.txt"))
    }
  }

  @Test func symbolicLinkCycleDoesNotHang() throws {
    let dir = try TempFolder()
    try dir.copyFixture("kinds/rgb.png", to: "c/x.png")
    try FileManager.default.createSymbolicLink(atPath: dir.path + "/c/loop", withDestinationPath: dir.path + "/c")
    try FileManager.default.createSymbolicLink(atPath: dir.path + "/c/root", withDestinationPath: dir.path)
    let got = samples(try readAll(try PNGFolderReader(path: dir.path, options: ReadOptions())))
    #expect(got.map(\.key) == ["c/x.png"])
  }

  @Test func fifoAndDanglingLinkNamedPNGAreUnreadableWithoutHanging() throws {
    let dir = try TempFolder()
    try dir.copyFixture("kinds/rgb.png", to: "a.png")
    #expect(mkfifo(dir.path + "/b.png", 0o600) == 0)
    try FileManager.default.createSymbolicLink(atPath: dir.path + "/c.png", withDestinationPath: dir.path + "/gone")
    let got = samples(try readAll(try PNGFolderReader(path: dir.path, options: ReadOptions())))
    #expect(got.map(\.key) == ["a.png", "b.png", "c.png"])
    #expect(got[0].problem == nil)
    #expect(got[1].problem == ReaderProblem(.unreadable, "not a regular file"))
    #expect(got[2].problem == ReaderProblem(.unreadable, "cannot open: No such file or directory"))
  }

  @Test func symbolicLinksAreFollowedOnlyInsideTheRoot() throws {
    let outside = try TempFolder()
    try outside.copyFixture("kinds/rgb.png", to: "secret.png")
    try outside.copyFixture("kinds/rgb.png", to: "elsewhere/e.png")
    let dir = try TempFolder()
    try dir.copyFixture("kinds/rgb.png", to: "real/a.png")
    let fm = FileManager.default
    try fm.createSymbolicLink(atPath: dir.path + "/inside.png", withDestinationPath: "real/a.png")
    try fm.createSymbolicLink(atPath: dir.path + "/leak.png", withDestinationPath: outside.path + "/secret.png")
    try fm.createSymbolicLink(atPath: dir.path + "/climb.png", withDestinationPath: "../" + URL(fileURLWithPath: outside.path).lastPathComponent + "/secret.png")
    try fm.createSymbolicLink(atPath: dir.path + "/away", withDestinationPath: outside.path + "/elsewhere")
    let reader = try PNGFolderReader(path: dir.path, options: ReadOptions())
    let got = samples(try readAll(reader))
    #expect(got.map(\.key) == ["climb.png", "inside.png", "leak.png", "real/a.png"])
    let outsideProblem = ReaderProblem(.unreadable, "symbolic link to a file outside the image folder: not read")
    #expect(got[0].problem == outsideProblem)
    #expect(got[1].problem == nil && got[1].values == got[3].values)
    #expect(got[2].problem == outsideProblem)
    // The folder link is not walked: it is counted with the skipped entries.
    #expect(reader.skippedFiles.examples == ["away"])
  }

  @Test func listEntriesOutsideTheRootAreUnreadableAndNotOpened() throws {
    let outside = try TempFolder()
    try outside.copyFixture("kinds/rgb.png", to: "secret.png")
    let dir = try TempFolder()
    try dir.copyFixture("kinds/rgb.png", to: "img/a.png")
    try FileManager.default.createSymbolicLink(
      atPath: dir.path + "/img/leak.png", withDestinationPath: outside.path + "/secret.png")
    let name = URL(fileURLWithPath: outside.path).lastPathComponent
    try dir.write(
      "list.txt",
      Array("img/a.png 0\n../../../../etc/passwd 1\n\(outside.path)/secret.png 2\nimg/../../\(name)/secret.png 3\nimg/leak.png 4\nimg/x/../a.png 5\n".utf8))
    let reader = try PNGFolderReader(path: dir.path, options: readOptions(list: dir.path + "/list.txt"))
    let got = samples(try readAll(reader))
    #expect(got.count == 6)
    #expect(got[0].problem == nil)
    #expect(got[1].problem?.detail.hasSuffix("is absolute or climbs out of the image folder: not read") == true)
    #expect(got[2].problem?.detail.hasPrefix("list line 3: path '/") == true)
    #expect(got[3].problem?.detail.hasPrefix("list line 4:") == true)
    #expect(got[4].problem == ReaderProblem(.unreadable, "resolves (through a symbolic link) outside the image folder: not read"))
    #expect(got[1...4].allSatisfy { $0.problem?.kind == .unreadable && $0.values.isEmpty })
    #expect(got.map(\.label)[1...4] == [1, 2, 3, 4])
    // Inside after its `..`: opened as any path (here img/x does not exist).
    #expect(got[5].problem == ReaderProblem(.unreadable, "cannot open: No such file or directory"))
    #expect(reader.bytesRead == (try Fixture.bytes("kinds/rgb.png")).count)
  }

  @Test func nonUTF8FileNamesAreReadAndKeptAsBytes() throws {
    let dir = try TempFolder()
    let name: [UInt8] = [
      UInt8(ascii: "x"), 0xFF, UInt8(ascii: "."), UInt8(ascii: "p"), UInt8(ascii: "n"), UInt8(ascii: "g"),
    ]
    let full = Array(dir.path.utf8) + [UInt8(ascii: "/")] + name
    let bytes = try Fixture.bytes("kinds/rgb.png")
    let fd = RawFileSystem.withCPath(full) { open($0, O_WRONLY | O_CREAT, 0o644) }
    #expect(fd >= 0)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    let batches = try readAll(try PNGFolderReader(path: dir.path, options: ReadOptions()))
    #expect(batches.count == 1)
    #expect(batches[0].problems.isEmpty)
    #expect(Array(batches[0].originals?.record(0) ?? []) == name)
    #expect(batches[0].key(of: 0) == "x\u{FFFD}.png")
  }

  @Test func rootWithPNGFilesAndSubfoldersIsFlat() throws {
    let dir = try TempFolder()
    try dir.copyFixture("kinds/rgb.png", to: "top.png")
    try dir.copyFixture("kinds/rgb.png", to: "cls/inner.png")
    let reader = try PNGFolderReader(path: dir.path, options: ReadOptions())
    #expect(reader.layout == .flat)
    #expect(samples(try readAll(reader)).map(\.key) == ["cls/inner.png", "top.png"])
  }

  @Test func classFolderWithoutImagesStillTakesALabel() throws {
    let dir = try TempFolder()
    try dir.copyFixture("kinds/rgb.png", to: "a/1.png")
    try dir.write("b/readme.txt", Array("x".utf8))
    try dir.copyFixture("kinds/rgb.png", to: "c/1.png")
    let reader = try PNGFolderReader(path: dir.path, options: ReadOptions())
    #expect(reader.classNames == ["a", "b", "c"])
    #expect(samples(try readAll(reader)).map(\.label) == [0, 2])
  }

  @Test func sixteenBitFirstMakesAUInt16Dataset() throws {
    let dir = try TempFolder()
    try dir.copyFixture("kinds/rgb16.png", to: "a.png")
    try dir.copyFixture("kinds/rgb.png", to: "b.png")
    try dir.copyFixture("kinds/gray16.png", to: "c.png")
    let reader = try PNGFolderReader(path: dir.path, options: ReadOptions())
    #expect(reader.info.elementType == .uint16)
    let batches = try readAll(reader)
    #expect(batches.allSatisfy { $0.elementType == .uint16 })
    let got = samples(batches)
    #expect(got[1].problem == ReaderProblem(.shapeMismatch, "8-bit image in a 16-bit dataset"))
    #expect(got[0].values == (try decodeFixture("kinds/rgb16.png").get().values))
    #expect(got[2].values == (try decodeFixture("kinds/gray16.png").get().values))
  }

  @Test func undecodableImageOfTheOtherDepthIsUnreadableNotAMismatch() throws {
    // a.png: 16-bit, header fine, IDAT CRC broken. It must not fix the dataset's type, and must be
    // unreadable (not shape_mismatch), so the first sample with values sets the reference shape.
    var broken = try Fixture.bytes("kinds/gray16.png")
    let idat = try #require(chunkEnd(broken, "IDAT"))
    broken[idat - 1] ^= 0x01
    let dir = try TempFolder()
    try dir.write("a.png", broken)
    try dir.copyFixture("kinds/rgb.png", to: "b.png")
    try dir.copyFixture("kinds/rgb16.png", to: "c.png")
    let reader = try PNGFolderReader(path: dir.path, options: ReadOptions())
    #expect(reader.info.elementType == .uint8)
    #expect(reader.info.sampleShape == [3, 4, 5])
    let got = samples(try readAll(reader))
    #expect(
      got.map(\.problem) == [
        ReaderProblem(.unreadable, "IDAT: CRC error"), nil,
        ReaderProblem(.shapeMismatch, "16-bit image in an 8-bit dataset"),
      ])
  }

  /// The offset just past the CRC of the first chunk of type `tag`.
  func chunkEnd(_ png: [UInt8], _ tag: String) -> Int? {
    var at = 8
    while at + 12 <= png.count {
      let length = png[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) }
      if Array(png[(at + 4)..<(at + 8)]) == Array(tag.utf8) { return at + 12 + length }
      at += 12 + length
    }
    return nil
  }

  @Test func undecodableFilesInTheMiddleOfABatchLeaveNoGap() throws {
    // Headers read, data broken: the decode fails after the values were reserved.
    let dir = try TempFolder()
    try dir.copyFixture("kinds/rgb_9x7.png", to: "1.png")
    try dir.copyFixture("broken/crc_idat.png", to: "2.png")
    try dir.copyFixture("kinds/rgb_9x7_adam7.png", to: "3.png")
    try dir.copyFixture("broken/idat_byte.png", to: "4.png")
    try dir.copyFixture("kinds/rgb_9x7.png", to: "5.png")
    let batches = try readAll(try PNGFolderReader(path: dir.path, options: ReadOptions()))
    #expect(batches.count == 1)
    #expect(batches[0].offsets == [0, 189, 189, 378, 378, 567])
    let got = samples(batches)
    let expected = try decodeFixture("kinds/rgb_9x7.png").get().values
    for i in [0, 2, 4] { #expect(got[i].values == expected) }
    #expect(got[1].problem == ReaderProblem(.unreadable, "IDAT: CRC error"))
    #expect(got[3].problem?.kind == .unreadable)
  }
}
