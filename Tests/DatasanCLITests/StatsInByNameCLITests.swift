import Foundation
import DatasanTestSupport
import Testing

/// `clean --stats-in` pairs the saved statistics with the input's columns by name (issue 13 item 6).
@Suite struct StatsInByNameCLITests {
  let longley = CLI.fixture("tables/longley_decimal_comma.csv")

  /// statsmodels' longley table (`;`, decimal commas) as training set; as validation set the same
  /// rows with the columns in reverse order, written by pandas. Each column of the validation output
  /// is (x - mean) / std with the training statistics of the column of that name, as numpy computes
  /// them (before, the statistics were applied by position).
  @Test func reorderedValidationColumnsGetTheirOwnStatistics() throws {
    let dir = try makeTempDir()
    let options = ["--label-column", "TOTEMP", "--loss", "regression", "--normalize", "zscore", "--no-config"]
    let train = try CLI.run(["clean", longley, "-o", dir + "/train.csv", "--stats-out", dir + "/s.json"] + options)
    #expect(train.status == 0, "\(train.stdout)\(train.stderr)")
    let write = try Python.run(
      #"""
      import sys
      import pandas as pd
      df = pd.read_csv(sys.argv[1], sep=";", decimal=",")
      df[list(reversed(df.columns))].to_csv(sys.argv[2], sep=";", decimal=",", index=False)
      """#, [longley, dir + "/val.csv"])
    try #require(write.status == 0, "python3 (pandas) failed: \(write.stderr)")
    let val = try CLI.run(["clean", dir + "/val.csv", "-o", dir + "/val.clean.csv", "--stats-in", dir + "/s.json"] + options)
    #expect(val.status == 0, "\(val.stdout)\(val.stderr)")
    let check = try Python.run(
      #"""
      import json, sys
      import numpy as np
      import pandas as pd
      train = pd.read_csv(sys.argv[1], sep=";", decimal=",")
      out = pd.read_csv(sys.argv[2], sep=";", decimal=",")
      worst = 0.0
      for c in train.columns:
          if c == "TOTEMP":
              worst = max(worst, float(np.abs(out[c].to_numpy() - train[c].to_numpy()).max()))
              continue
          x = train[c].to_numpy(dtype=np.float64)
          expected = (x - x.mean()) / x.std()
          worst = max(worst, float(np.abs(out[c].to_numpy() - expected).max()))
      print(json.dumps({"columns": list(out.columns), "worst": worst}))
      """#, [longley, dir + "/val.clean.csv"])
    try #require(check.status == 0, "python3 (pandas) failed: \(check.stderr)")
    struct Check: Decodable { var columns: [String]; var worst: Double }
    let result = try JSONDecoder().decode(Check.self, from: check.stdout)
    #expect(result.columns.first == "YEAR" && result.columns.last == "TOTEMP")  // the input's order is kept
    #expect(result.worst < 1e-5, "largest difference from numpy: \(result.worst)")
  }

  /// A validation table without a column of the training set and with one it did not have: exit 2,
  /// one line naming both, nothing written.
  @Test func missingAndExtraColumnsAreOneLine() throws {
    let dir = try makeTempDir()
    let options = ["--label-column", "TOTEMP", "--loss", "regression", "--no-config"]
    #expect(try CLI.run(["clean", longley, "-o", dir + "/t.csv", "--stats-out", dir + "/s.json"] + options).status == 0)
    let text = try String(contentsOfFile: longley, encoding: .utf8)
      .replacingOccurrences(of: "TOTEMP;GNPDEFL;GNP;", with: "TOTEMP;DEFLATOR;GNP;")
    try text.write(toFile: dir + "/val.csv", atomically: false, encoding: .utf8)
    let r = try CLI.run(["clean", dir + "/val.csv", "-o", dir + "/v.csv", "--stats-in", dir + "/s.json"] + options)
    #expect(r.status == 2)
    let lines = r.stderr.split(separator: "\n")
    #expect(lines.count == 1, "\(r.stderr)")
    #expect(r.stderr.contains("'DEFLATOR'") && r.stderr.contains("'GNPDEFL'"), "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dir + "/v.csv"))
  }
}
