import Foundation
import Testing

/// Dataset findings say what they are over (issue 13 item 8): the statistics leave the flagged
/// samples out, and the details say so.
@Suite struct FindingScopeCLITests {
  /// Class 1's three samples all hold a NaN: "class 1 ... has no clean sample (3 flagged ...)",
  /// where class 3, which has no sample at all, "has no sample"; the ranges and the class counts
  /// name the number of clean samples they are over.
  @Test func classesAndRangesNameTheCleanSamples() throws {
    let dir = try makeTempDir()
    let input = dir + "/t.csv"
    var text = "a,b,label\n"
    for n in 0..<40 { text += "\(n * 3),\(n % 7),\(n % 20 == 0 ? 2 : 0)\n" }
    text += "1,nan,1\n2,NA,1\n3,,1\n"
    try text.write(toFile: input, atomically: false, encoding: .utf8)
    let r = try CLI.run(["scan", input, "--num-classes", "4", "--class-imbalance-ratio", "0.1", "--report", dir + "/r.json", "--no-config"])
    #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
    let report = try Report.load(dir + "/r.json")
    #expect(report.samples.clean == 40 && report.samples.flagged == 3)
    let missing = report.issues.filter { $0.kind == "class_missing" }.map(\.detail)
    #expect(missing.count == 2)
    #expect(missing.contains { $0.hasPrefix("class 1 of --num-classes 4 has no clean sample (3 flagged") }, "\(missing)")
    #expect(missing.contains("class 3 of --num-classes 4 has no sample"), "\(missing)")
    let scale = report.issues.filter { $0.kind == "unnormalized_scale" }.map(\.detail)
    #expect(scale == [
      "a has values in [0, 117] over the 40 clean samples, largest magnitude 117 > --scale-limit 10; "
        + "fix: datasan clean \(input) -o OUTPUT --normalize minmax"
    ])
    let rare = report.issues.first { $0.kind == "class_imbalance" }?.detail ?? ""
    #expect(rare.contains("class 2 has 2 samples") && rare.contains("over the 40 clean samples"), "\(rare)")
    #expect(r.stdout.contains("has no clean sample (3 flagged"))
  }
}
