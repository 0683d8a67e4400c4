import Foundation
import Testing

/// An input of 0 samples fails the gate with one `empty_dataset` error instead of passing.
@Suite struct EmptyDatasetCLITests {
  @Test func headerOnlyCSVFailsWithOneFinding() throws {
    let dir = try makeTempDir()
    try "a,b,label\n".write(toFile: dir + "/t.csv", atomically: false, encoding: .utf8)
    let r = try CLI.run(["scan", dir + "/t.csv", "--report", dir + "/r.json", "--no-config"])
    #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
    let report = try Report.load(dir + "/r.json")
    #expect(report.samples.total == 0 && !report.passed)
    #expect(report.issues.map(\.kind) == ["empty_dataset"] && report.issues[0].severity == "error")
    #expect(r.stdout.contains("empty_dataset (error): "))
    let ignored = try CLI.run(["scan", dir + "/t.csv", "--ignore", "empty_dataset", "--no-config"])
    #expect(ignored.status == 0, "\(ignored.stdout)\(ignored.stderr)")
  }
}
