import Foundation
import Testing

/// A clean run killed halfway leaves no output and an untouched input.
@Suite struct InterruptTests {
  /// A CSV big enough that cleaning it takes a while (~25 MB).
  static func bigCSV(in dir: String) throws -> String {
    let path = dir + "/big.csv"
    try writeCSV(path, header: "a,b,c,d,e,f,g,h,label\n", rows: 400_000) { row in
      let v = Double(row % 977)
      return "\(v),\(v * 0.5),\(v + 1),\(v * 3.25),\(row % 13),\(v - 7),\(v * 1e-3),\(v * 2),\(row % 10)\n"
    }
    return path
  }

  @Test(arguments: [SIGINT, SIGTERM])
  func interruptedCleanLeavesNothing(signal: Int32) throws {
    let dir = try makeTempDir()
    let input = try InterruptTests.bigCSV(in: dir)
    let before = try Data(contentsOf: URL(fileURLWithPath: input))
    let outDir = dir + "/out"
    try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)

    // Wait until the second pass has created its temporary outputs, then interrupt.
    let (process, sawTemporary) = try CLI.startAwaitingTemporary(["clean", input, "-o", outDir + "/clean.h5", "--quiet"], in: outDir)
    #expect(sawTemporary, "the clean run finished before it could be interrupted")
    kill(process.processIdentifier, signal)
    process.waitUntilExit()
    #expect(process.terminationStatus == 128 + signal)
    #expect(try FileManager.default.contentsOfDirectory(atPath: outDir).isEmpty)
    #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == before)
  }
}
