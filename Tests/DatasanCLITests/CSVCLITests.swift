import Foundation
import DatasanTestSupport
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

/// Inputs that must not hang, copy unbounded header text or span lines (issue 10).
@Suite struct CSVHardeningCLITests {
  /// Runs datasan, killing it after `seconds` (a hang is a failure, not a stuck test run).
  func runBounded(_ arguments: [String], seconds: Double = 60) throws -> CLI.Result? {
    let process = try CLI.start(arguments)
    // Both pipes drained while it runs, so that its output never blocks it.
    let (out, err) = (Locked(Data()), Locked(Data()))
    let group = DispatchGroup()
    for (pipe, box) in [(process.standardOutput as! Pipe, out), (process.standardError as! Pipe, err)] {
      group.enter()
      DispatchQueue.global().async {
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        box.withLock { $0 = data }
        group.leave()
      }
    }
    let deadline = Date().addingTimeInterval(seconds)
    while process.isRunning && Date() < deadline { usleep(20_000) }
    if process.isRunning {
      process.terminate()
      process.waitUntilExit()
      group.wait()
      Issue.record("datasan \(arguments.joined(separator: " ")) did not finish in \(seconds) s")
      return nil
    }
    group.wait()
    return CLI.Result(
      status: process.terminationStatus, stdout: String(decoding: out.value, as: UTF8.self),
      stderr: String(decoding: err.value, as: UTF8.self))
  }

  @Test func fifosAndDevicesAreExit2WithoutBlocking() throws {
    let dir = try makeTempDir()
    let fifo = dir + "/pipe.csv"
    #expect(mkfifo(fifo, 0o600) == 0)
    let runs: [[String]] = [
      ["scan", fifo], ["scan", fifo, "--format", "csv"], ["scan", fifo, "--format", "hdf5"],
      ["scan", fifo, "--format", "lmdb"], ["scan", fifo, "--format", "png"],
      ["clean", fifo, "-o", dir + "/out.csv"], ["scan", "/dev/zero", "--format", "csv"], ["scan", "/dev/null"],
    ]
    for arguments in runs {
      guard let r = try runBounded(arguments, seconds: 20) else { continue }
      #expect(r.status == 2, "\(arguments): \(r.stderr)")
      #expect(r.stderr.split(separator: "\n").count == 1, "\(arguments): \(r.stderr)")
      #expect(r.stderr.contains("FIFO") || r.stderr.contains("device"), "\(arguments): \(r.stderr)")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["pipe.csv"])
  }

  /// A 100,000-character column name holding a line break: per-row messages print it cut to 64
  /// characters, every message and the summary stay one line, and an error naming it is one line.
  @Test func hugeColumnNameIsCutAndEscapedInEveryMessage() throws {
    let dir = try makeTempDir()
    let name = "bad\nname" + String(repeating: "n", count: 100_000)
    let path = dir + "/wide.csv"
    try writeCSV(path, header: "\"\(name)\",other,label\n", rows: 2000) { n in
      n % 3 == 0 ? "abc,\(n),0\n" : "\(n),\(n),1\n"
    }
    guard let r = try runBounded(["scan", path, "--report", dir + "/r.json"]) else { return }
    #expect(r.status == 1, "\(r.stderr)")
    let report = try Report.load(dir + "/r.json")
    // The column holds text on 667 rows: one mixed_column names it (pandas reads it as text).
    #expect(report.count("mixed_column") == 1 && report.count("unreadable") == 0)
    for issue in report.issues {
      #expect(issue.detail.count < 400, "\(issue.detail.count) characters")
      #expect(!issue.detail.contains("\n"))
    }
    #expect(
      report.issues.first { $0.kind == "mixed_column" }?.detail == "column 'bad\\nname" + String(repeating: "n", count: 56)
        + "…': 667 rows hold text such as 'abc', the rest numbers; pandas reads it as text; if it is not a feature, "
        + "pass --text-columns 0")
    #expect(r.stdout.split(separator: "\n").allSatisfy { $0.count < 400 })
    // (Line 3: the quoted header spans lines 1 and 2.) An exit-2 error that names the column: one
    // line, the name cut.
    guard let e = try runBounded(["scan", path, "--label-column", "0", "--text-columns", "0"]) else { return }
    #expect(e.status == 2)
    #expect(e.stderr.split(separator: "\n").count == 1 && e.stderr.count < 300, "\(e.stderr)")
    #expect(e.stderr.contains("'bad\\nname"))
  }

  /// One line of 100,000 fields (the fuzzer's had a million; the debug build is slow): one sample of
  /// 100,000 features. With --html, histograms for at most 64 columns (the charts the report draws),
  /// statistics for all; the summary prints 3 constant_feature lines and counts the rest.
  @Test func veryWideLineWithHTMLFinishesAndSummarizes() throws {
    let dir = try makeTempDir()
    let path = dir + "/one.csv"
    let line = (0..<100_000).map { String($0 % 10) }.joined(separator: ",") + "\n"
    try line.write(toFile: path, atomically: false, encoding: .utf8)
    guard let r = try runBounded(["scan", path, "--html", dir + "/r.html", "--report", dir + "/r.json"], seconds: 240)
    else { return }
    #expect([0, 1].contains(r.status), "\(r.stderr)")
    let report = try Report.load(dir + "/r.json")
    #expect(report.samples.total == 1 && report.stats.groups.count == 100_000)
    #expect(report.count("constant_feature") == 100_000)
    #expect(r.stdout.split(separator: "\n").count < 40, "\(r.stdout.prefix(2000))")
    // Columns constant at one value collapse into one line (10 values: 10 lines), 3 of them shown.
    #expect(r.stdout.contains("constant_feature (warning): 10,000 groups ("), "\(r.stdout.prefix(2000))")
    #expect(r.stdout.contains("    ... and 70,000 more (see --report)"))
    let html = try String(contentsOfFile: dir + "/r.html", encoding: .utf8)
    #expect(html.components(separatedBy: "class=\"hist\"").count - 1 <= 64)
  }
}
