import DatasanCore
import Foundation
import Testing

@testable import DatasanPNG

/// PNGFolderWriter copies the original files, byte for byte, in the same layout.
@Suite struct WriterTests {
  func files(under root: String) throws -> [String: Data] {
    var result: [String: Data] = [:]
    let enumerator = FileManager.default.enumerator(atPath: root)
    while let rel = enumerator?.nextObject() as? String {
      var isDir: ObjCBool = false
      if FileManager.default.fileExists(atPath: root + "/" + rel, isDirectory: &isDir), !isDir.boolValue {
        result[rel] = try Data(contentsOf: URL(fileURLWithPath: root + "/" + rel))
      }
    }
    return result
  }

  @Test func copiesEverySampleByteExact() throws {
    let out = try TempFolder()
    let target = out.path + "/copy"
    let source = Fixture.png("imagefolder")
    let reader = try PNGFolderReader(path: source, options: readOptions(batchBytes: 100))
    let writer = try PNGFolderWriter(path: target, sourceRoot: source)
    while let batch = try reader.nextBatch() { try writer.append(batch) }
    try writer.finish()
    #expect(writer.copied == 6 && writer.missingSources.isEmpty)
    let written = try files(under: target)
    #expect(Set(written.keys) == ["B/b1.png", "B/sub/deeper/b2.png", "_x/x1.png", "_x/x2.png", "a/A2.PNG", "a/a1.png"])
    for (rel, data) in written {
      #expect(data == (try Data(contentsOf: URL(fileURLWithPath: source + "/" + rel))), "\(rel)")
    }
  }

  @Test func quarantineOfASubsetHoldsOnlyThoseFiles() throws {
    let out = try TempFolder()
    let target = out.path + "/q"
    let source = Fixture.png("train")
    let reader = try PNGFolderReader(path: source, options: ReadOptions())
    let writer = try PNGFolderWriter(path: target, sourceRoot: source)
    while let batch = try reader.nextBatch() {
      let flagged = (0..<batch.count).filter { batch.problems[$0] != nil }
      try writer.append(batch.subset(flagged))
    }
    try writer.finish()
    let written = try files(under: target)
    #expect(Set(written.keys) == ["dog/dog_03.png", "zebra/zebra_05.png"])
    #expect(written["dog/dog_03.png"] == (try Data(contentsOf: URL(fileURLWithPath: source + "/dog/dog_03.png"))))
  }

  @Test func listOutputSkipsMissingSourcesAndWritesAList() throws {
    let out = try TempFolder()
    let target = out.path + "/l"
    let source = Fixture.png("list")
    let reader = try PNGFolderReader(path: source, options: readOptions(list: Fixture.png("list/list.txt")))
    let writer = try PNGFolderWriter(path: target, sourceRoot: source, listFileName: "list.txt")
    while let batch = try reader.nextBatch() { try writer.append(batch) }
    try writer.finish()
    #expect(writer.missingSources == ["img/missing.png"])
    #expect(writer.copied == 8)
    let written = try files(under: target)
    #expect(
      written["img/with space.png"] == (try Data(contentsOf: URL(fileURLWithPath: source + "/img/with space.png"))))
    let list = String(decoding: written["list.txt"] ?? Data(), as: UTF8.self)
    #expect(
      list
        == "img/one.png 0\nimg/two.png 1\nimg/with space.png 2\nimg/three.png\nimg/four.png\nimg/missing.png 1\n"
        + "img/five.png -1\nsub/six.png\nimg/one.png 4\n")
  }

  @Test func pathsLeavingTheFoldersAreNeitherReadNorWritten() throws {
    let out = try TempFolder()
    let writer = try PNGFolderWriter(path: out.path + "/w", sourceRoot: Fixture.png("list") + "/img")
    var originals = OriginalRecords()
    let paths = ["../sub/six.png", "/etc/hostname", "one.png/../../sub/six.png", "./one.png"]
    for p in paths { originals.append(Array(p.utf8)) }
    let batch = SampleBatch(
      firstIndex: 0, count: paths.count, elementType: .uint8, shape: [0], storage: ByteStorage(byteCount: 0),
      labels: nil, keys: .strings(paths), originals: originals)
    try writer.append(batch)
    try writer.finish()
    // The three that leave the input are neither read nor written.
    #expect(writer.missingSources == Array(paths.prefix(3)))
    #expect(writer.copied == 1)
    #expect(FileManager.default.fileExists(atPath: out.path + "/w/one.png"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: out.path + "/w") == ["one.png"])
    #expect(
      PNGFolderWriter.components(Array("./a//b/./c.png".utf8)) == [
        Array("a".utf8), Array("b".utf8), Array("c.png".utf8),
      ])
    #expect(PNGFolderWriter.components(Array("x/../c.png".utf8)) == [Array("c.png".utf8)])
    #expect(PNGFolderWriter.components(Array("a/../../c.png".utf8)) == nil)
  }

  @Test func linksOutOfTheSourceAreNotCopied() throws {
    let source = try TempFolder()
    let outsideFile = try TempFolder()
    try Data("secret".utf8).write(to: URL(fileURLWithPath: outsideFile.path + "/secret.png"))
    try FileManager.default.createSymbolicLink(
      atPath: source.path + "/leak.png", withDestinationPath: outsideFile.path + "/secret.png")
    let out = try TempFolder()
    let writer = try PNGFolderWriter(path: out.path + "/w", sourceRoot: source.path)
    var originals = OriginalRecords()
    originals.append(Array("leak.png".utf8))
    let batch = SampleBatch(
      firstIndex: 0, count: 1, elementType: .uint8, shape: [0], storage: ByteStorage(byteCount: 0), labels: nil,
      keys: .strings(["leak.png"]), originals: originals)
    try writer.append(batch)
    try writer.finish()
    #expect(writer.missingSources == ["leak.png"])
    #expect(!FileManager.default.fileExists(atPath: out.path + "/w/leak.png"))
  }

  @Test func existingOutputIsRefused() throws {
    let out = try TempFolder()
    #expect(throws: DatasanError.self) { try PNGFolderWriter(path: out.path, sourceRoot: Fixture.png("flat")) }
  }

  @Test func batchWithoutOriginalsIsRefused() throws {
    let out = try TempFolder()
    let writer = try PNGFolderWriter(path: out.path + "/w", sourceRoot: Fixture.png("flat"))
    let batch = SampleBatch.uniform(firstIndex: 0, count: 1, elementType: .uint8, shape: [1], labels: nil)
    #expect(throws: DatasanError.self) { try writer.append(batch) }
    writer.abort()
  }
}
