import Foundation
import DatasanTestSupport
import Testing

/// The summary stays short on any data (issue 13 item 7); the JSON report stays complete.
@Suite struct ShortSummaryCLITests {
  /// A CSV of 64x64 pixels (4,096 columns, written by pandas; the first two image rows are black,
  /// the others random 0..255): before, one summary line per column. Now a few lines per kind, the
  /// 128 black columns in one line, and the rest counted; the report lists every finding (up to
  /// --max-issues).
  @Test func pixelCSVSummaryIsAFewLines() throws {
    let dir = try makeTempDir()
    let input = dir + "/pixels.csv"
    let write = try Python.run(
      #"""
      import sys
      import numpy as np
      import pandas as pd
      rng = np.random.default_rng(13)
      x = rng.integers(0, 256, size=(40, 64 * 64))
      x[:, :128] = 0
      df = pd.DataFrame(x, columns=[f"pixel{i}" for i in range(64 * 64)])
      df["label"] = np.arange(40) % 10
      df.to_csv(sys.argv[1], index=False)
      """#, [input])
    try #require(write.status == 0, "python3 (pandas) failed: \(write.stderr)")
    let r = try CLI.run(["scan", input, "--report", dir + "/r.json", "--max-issues", "10000", "--no-config"])
    #expect(r.status == 0, "\(r.stderr)")
    let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.count < 30, "\(r.stdout.prefix(4000))")
    let report = try Report.load(dir + "/r.json")
    let scale = report.count("unnormalized_scale")
    #expect(scale == 4096 - 128)
    #expect(report.count("constant_feature") == 128)
    #expect(report.issues.filter { $0.kind == "unnormalized_scale" }.count == scale)  // complete
    #expect(r.stdout.contains(
      "  constant_feature (warning): 128 groups (pixel0, pixel1, pixel2 and 125 more), each: is constant (0) over the 40 clean samples"))
    // 3 unnormalized_scale lines, then the rest counted (a line may stand for several columns of one range).
    let shown = lines.filter { $0.hasPrefix("  unnormalized_scale (warning): ") }
    #expect(shown.count == 3)
    let standsFor = shown.reduce(0) { n, line in
      guard line.contains(" groups (pixel") else { return n + 1 }
      return n + Int(line.split(separator: ":")[1].split(separator: " ")[0].replacingOccurrences(of: ",", with: ""))!
    }
    #expect(r.stdout.contains("    ... and \((scale - standsFor).formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US")))) more (see --report)"))
  }
}
