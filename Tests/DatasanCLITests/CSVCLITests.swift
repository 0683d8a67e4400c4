import Foundation
import Testing

/// Fixtures/csv/dirty.csv (Fixtures/make_csv_fixtures.py): header f0..f3,label, 30 rows (lines 2..31);
/// NaN/NA/empty on lines 4, 7, 10; inf/-inf/1e400 on lines 13, 16, 19; a ragged row on line 22,
/// 'abc' on line 25, label -1 on line 28.
@Suite struct CSVCLITests {
  let dirty = CLI.fixture("csv/dirty.csv")
  let flaggedLines = ["4", "7", "10", "13", "16", "19", "22", "25", "28"]

  func lines(_ path: String) throws -> [String] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
      .map(String.init).filter { !$0.isEmpty }
  }

  @Test func scanDirtyCountsEveryKindWithLineKeys() throws {
    let dir = try makeTempDir()
    let r = try CLI.run(["scan", dirty, "--report", dir + "/r.json"])
    #expect(r.status == 1)
    let report = try Report.load(dir + "/r.json")
    #expect(report.input.format == "csv")
    #expect(report.samples.total == 30 && report.samples.flagged == 9)
    #expect(report.count("nan_value") == 3 && report.count("inf_value") == 3)
    #expect(report.count("unreadable") == 2 && report.count("label_out_of_domain") == 1)
    #expect(report.issues.compactMap(\.key) == flaggedLines)
    #expect(report.issues.first { $0.key == "4" }?.detail.contains("missing") == true)
    #expect(report.issues.first { $0.key == "22" }?.detail.contains("line 22") == true)
    #expect(report.stats.groups.map(\.name) == ["f0", "f1", "f2", "f3"])
    #expect(report.stats.labels?.histogram.keys.sorted() == ["0", "1", "2"])
  }

  @Test func cleanNoneIsByteExactSplit() throws {
    let dir = try makeTempDir()
    let r = try CLI.run(["clean", dirty, "-o", dir + "/out.csv", "--normalize", "none"])
    #expect(r.status == 0, "\(r.stderr)")
    let input = try lines(dirty)
    let clean = try lines(dir + "/out.csv")
    let quarantine = try lines(dir + "/out.quarantine.csv")
    #expect(clean.first == input[0] && quarantine.first == input[0])  // both keep the header
    // Nothing lost, nothing changed: merging by line number gives the input back.
    let flagged = Set(flaggedLines.map { Int($0)! })
    var c = 1
    var q = 1
    var merged = [input[0]]
    for line in 2...31 {
      if flagged.contains(line) { merged.append(quarantine[q]); q += 1 } else { merged.append(clean[c]); c += 1 }
    }
    #expect(merged == input)
    let reasons = try Reason.load(dir + "/out.quarantine.csv.reasons.jsonl")
    #expect(reasons.map(\.key) == flaggedLines)
    #expect(reasons.map(\.index) == [2, 5, 8, 11, 14, 17, 20, 23, 26])
  }

  @Test func cleanZscoreKeepsTextColumnsAndLabels() throws {
    let dir = try makeTempDir()
    let input = CLI.fixture("csv/text_columns.csv")
    let r = try CLI.run(["clean", input, "-o", dir + "/out.csv", "--normalize", "zscore"])
    #expect(r.status == 0, "\(r.stderr)")
    let text = try String(contentsOfFile: dir + "/out.csv", encoding: .utf8)
    let original = try String(contentsOfFile: input, encoding: .utf8)
    #expect(text.hasPrefix("id,comment,x1,x2,label\n"))
    #expect(text.contains("\"needs review, maybe\""))
    #expect(text.contains("\"two\nlines\""))
    #expect(text.components(separatedBy: "\n").count == original.components(separatedBy: "\n").count)
    // The numeric columns now have mean 0 and std 1.
    let report = try CLI.run(["scan", dir + "/out.csv", "--report", dir + "/r.json"])
    #expect(report.status == 0)
    for g in try Report.load(dir + "/r.json").stats.groups {
      #expect(abs(g.mean ?? 9) < 1e-6 && abs((g.std ?? 9) - 1) < 1e-5)
    }
  }

  @Test func csvToHDF5AndBack() throws {
    let dir = try makeTempDir()
    let r = try CLI.run(["clean", dirty, "-o", dir + "/out.h5"])
    #expect(r.status == 0, "\(r.stderr)")
    let data = try #require(HDF5ReadBack.read(dir + "/out.h5", "data"))
    #expect(data.dims == [21, 4] && data.typeClass == "float" && data.typeSize == 4)
    #expect(data.values.min() == -1 && data.values.max() == 1)
    let label = try #require(HDF5ReadBack.read(dir + "/out.h5", "label"))
    #expect(label.dims == [21] && label.typeClass == "integer")
    // The quarantine of a CSV input is CSV.
    #expect(try lines(dir + "/out.quarantine.csv").count == 10)

    let back = try CLI.run(["clean", dir + "/out.h5", "-o", dir + "/back.csv", "--normalize", "none"])
    #expect(back.status == 0, "\(back.stderr)")
    let rows = try lines(dir + "/back.csv")
    #expect(rows[0] == "f0,f1,f2,f3,label")
    #expect(rows.count == 22)
  }

  @Test func statsOutThenStatsIn() throws {
    let dir = try makeTempDir()
    let train = CLI.fixture("csv/scale.csv")
    #expect(try CLI.run(["clean", train, "-o", dir + "/a.csv", "--stats-out", dir + "/s.json"]).status == 0)
    #expect(try CLI.run(["clean", train, "-o", dir + "/b.csv", "--stats-in", dir + "/s.json"]).status == 0)
    #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/a.csv")) == Data(contentsOf: URL(fileURLWithPath: dir + "/b.csv")))
    let bad = try CLI.run(["clean", train, "-o", dir + "/c.csv", "--stats-in", dirty])
    #expect(bad.status == 2 && bad.stderr.split(separator: "\n").count == 1)
  }

  @Test func labelColumnByIndexAndDomain() throws {
    let dir = try makeTempDir()
    let r = try CLI.run(["scan", dirty, "--label-column", "4", "--loss", "binary", "--report", dir + "/r.json"])
    #expect(r.status == 1)
    let report = try Report.load(dir + "/r.json")
    // Labels 2 are outside [0, 1] for a binary loss, as is -1.
    #expect(report.count("label_out_of_domain") > 1)
    let unknown = try CLI.run(["scan", dirty, "--label-column", "nope"])
    #expect(unknown.status == 2 && unknown.stderr.contains("nope"))
  }
}
