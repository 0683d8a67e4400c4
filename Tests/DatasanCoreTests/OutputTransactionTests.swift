import Foundation
import Testing

@testable import DatasanCore
import DatasanTestSupport

/// Outputs appear only on commit, replace what was there (file or folder) only with `replace`,
/// and leave no temporary path behind either way.
@Suite struct OutputTransactionTests {
  func tempDir() throws -> String {
    try TestTemporaryDirectory.make("datasan-tx")
  }

  func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }
  func write(_ text: String, _ path: String) throws { try Data(text.utf8).write(to: URL(fileURLWithPath: path)) }

  @Test func replacesAnExistingFileAndFolderAndLeavesNoTemporaryPath() throws {
    let dir = try tempDir()
    try write("old file", dir + "/out.h5")
    try FileManager.default.createDirectory(atPath: dir + "/out.lmdb", withIntermediateDirectories: false)
    try write("old data", dir + "/out.lmdb/data.mdb")
    try write("old lock", dir + "/out.lmdb/lock.mdb")

    let t = OutputTransaction()
    let file = t.add(finalPath: dir + "/out.h5")
    let folder = t.add(finalPath: dir + "/out.lmdb")
    let fresh = t.add(finalPath: dir + "/out.reasons.jsonl")
    try write("new file", file)
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
    try write("new data", folder + "/data.mdb")
    try write("{}\n", fresh)
    try t.commit(replace: true)

    #expect(try read(dir + "/out.h5") == "new file")
    #expect(try read(dir + "/out.lmdb/data.mdb") == "new data")
    #expect(!FileManager.default.fileExists(atPath: dir + "/out.lmdb/lock.mdb"))  // the old folder is gone whole
    #expect(try read(dir + "/out.reasons.jsonl") == "{}\n")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["out.h5", "out.lmdb", "out.reasons.jsonl"])
  }

  @Test func withoutReplaceAnExistingOutputIsKept() throws {
    let dir = try tempDir()
    try write("old file", dir + "/out.h5")
    let t = OutputTransaction()
    let file = t.add(finalPath: dir + "/out.h5")
    try write("new file", file)
    #expect(throws: DatasanError.self) { try t.commit(replace: false) }
    t.rollback()
    #expect(try read(dir + "/out.h5") == "old file")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.h5"])
  }
}
