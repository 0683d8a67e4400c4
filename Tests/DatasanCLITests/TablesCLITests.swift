import Foundation
import DatasanTestSupport
import Testing

/// Real third-party tables (Fixtures/make_table_fixtures.py: OpenML's titanic as OpenML's CSV writes
/// it, statsmodels' tables written by pandas with decimal commas): datasan's column typing against
/// pandas' `read_csv` dtypes, column by column, and decimal commas read and written back.
@Suite struct TablesCLITests {
  let titanic = CLI.fixture("tables/titanic_openml.csv")
  let longley = CLI.fixture("tables/longley_decimal_comma.csv")
  let macrodata = CLI.fixture("tables/macrodata_decimal_comma.tsv")

  /// The JSON report's additive members for tables.
  struct TableReport: Decodable {
    struct Column: Decodable { var name: String; var role: String; var reason: String; var finding: String? }
    struct Input: Decodable { var reading_notes: [String]? }
    var input: Input
    var columns: [Column]
    var issues: [Report.Issue]
    var counts: [String: Int]

    static func load(_ path: String) throws -> TableReport {
      try JSONDecoder().decode(TableReport.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }
  }

  /// Runs a Python script (pandas) and decodes its JSON output.
  func pandas<T: Decodable>(_ script: String, _ arguments: [String], as type: T.Type) throws -> T {
    let run = try Python.run(script, arguments)
    try #require(run.status == 0, "python3 (pandas) failed (make pydeps installs pandas): \(run.stderr)")
    return try JSONDecoder().decode(T.self, from: run.stdout)
  }

  /// Per column: whether pandas reads it as numbers, and of its values that are not NA tokens and not
  /// numbers, how many are '?' and how many other text.
  struct PandasColumn: Decodable { var numeric: Bool; var placeholders: Int; var texts: Int }
  static let dtypesScript = #"""
    import json, sys
    import pandas as pd
    from pandas.api.types import is_numeric_dtype
    path, sep, decimal = sys.argv[1], sys.argv[2], sys.argv[3]
    typed = pd.read_csv(path, sep=sep, decimal=decimal)
    raw = pd.read_csv(path, sep=sep, dtype=str)
    out = {}
    for c in typed.columns:
        s = raw[c].dropna()
        numbers = pd.to_numeric(s.str.replace(decimal, ".", regex=False) if decimal != "." else s, errors="coerce")
        text = s[numbers.isna()]
        out[c] = {"numeric": bool(is_numeric_dtype(typed[c])), "placeholders": int((text.str.strip() == "?").sum()),
                  "texts": int((text.str.strip() != "?").sum())}
    print(json.dumps(out))
    """#

  @Test func titanicTypingIsPandas() throws {
    let dir = try makeTempDir()
    let r = try CLI.run([
      "scan", titanic, "--label-column", "survived", "--report", dir + "/r.json", "--html", dir + "/r.html",
    ])
    #expect(r.status == 1)
    // The HTML report has the table of columns, the mixed ones marked.
    let html = try String(contentsOfFile: dir + "/r.html", encoding: .utf8)
    #expect(html.contains("<section id=\"columns\">"))
    #expect(html.contains("<tr class=\"error\"><td>ticket</td><td>text</td><td>mostly numbers, but "))
    #expect(html.contains("<tr><td>pclass</td><td>feature</td><td>numbers in the first 1,000 rows</td></tr>"))
    let report = try TableReport.load(dir + "/r.json")
    let view = try pandas(Self.dtypesScript, [titanic, ",", "."], as: [String: PandasColumn].self)
    let mixed = Dictionary(
      report.issues.filter { $0.kind == "mixed_column" }.map { ($0.field ?? "", $0.detail) }, uniquingKeysWith: { a, _ in a })
    #expect(report.columns.map(\.name) == ["pclass", "survived", "name", "sex", "age", "sibsp", "parch", "ticket",
      "fare", "cabin", "embarked", "boat", "body", "home.dest"])
    for column in report.columns {
      let p = try #require(view[column.name])
      // pandas reads a column as numbers exactly when datasan does and no mixed_column names it.
      let datasanNumeric = column.role != "text" && mixed[column.name] == nil
      #expect(datasanNumeric == p.numeric, "\(column.name): datasan \(column.role) (\(column.reason)), pandas numeric \(p.numeric)")
      #expect(!column.reason.isEmpty)
      // A mostly numeric column that pandas reads as text: one finding counting the rows pandas finds.
      if let detail = mixed[column.name] {
        if column.role == "text" {
          #expect(column.finding == "mixed_column")
          if p.texts > 0 {
            #expect(detail.contains(": \(grouped(p.texts)) row"), "\(column.name): \(detail)")
            if p.placeholders > 0 { #expect(detail.contains("(and \(grouped(p.placeholders)) rows '?' for missing values)")) }
          } else {
            #expect(detail.contains(": \(grouped(p.placeholders)) rows hold '?', a placeholder for missing values"), "\(detail)")
          }
        } else {
          // Numbers over the first 1,000 rows, text later: those rows are unreadable.
          #expect(detail.contains("\(p.texts + p.placeholders) later row"), "\(column.name): \(detail)")
        }
      }
    }
    #expect(mixed["ticket"]?.contains("text such as 'PC 17609'") == true)
    #expect(mixed["ticket"]?.contains("if it is not a feature, pass --text-columns ticket") == true)
    #expect(mixed["age"]?.contains("a placeholder for missing values") == true)
    // One finding per column, not one unreadable per row.
    #expect(report.counts["mixed_column"] == mixed.count && mixed.count == 5)
    #expect(report.counts["unreadable"] == view["fare"].map { $0.texts + $0.placeholders })
    // The summary names every column's role and why.
    #expect(r.stdout.contains("columns: 4 features (pclass, sibsp, parch, fare), 9 text"))
    #expect(r.stdout.contains("    label 'survived': --label-column"))
    #expect(r.stdout.contains("    text 'ticket': mostly numbers, but "))
    #expect(r.stdout.contains("    text 'age': numbers and "))
    #expect(r.stdout.contains("FAIL: 1 flagged sample, 5 dataset errors"))

    // Made text, the mixed columns are passed through and their rows are clean.
    let texts = mixed.keys.sorted().joined(separator: ",")
    let again = try CLI.run(["scan", titanic, "--label-column", "survived", "--text-columns", texts, "--report", dir + "/t.json"])
    let t = try TableReport.load(dir + "/t.json")
    #expect(again.status == 0, "\(again.stdout)")
    #expect(t.counts["mixed_column", default: 0] == 0 && t.counts["unreadable", default: 0] == 0)
    #expect(t.columns.filter { $0.role == "feature" }.map(\.name) == ["pclass", "sibsp", "parch"])
    #expect(t.columns.first { $0.name == "ticket" }?.reason == "named by --text-columns")

    // `init` writes the text columns it found, the mixed ones named in the comment.
    let yml = dir + "/datasan.yml"
    let i = try CLI.run(["init", titanic, "-o", yml])
    #expect(i.status == 0, "\(i.stderr)")
    let config = try String(contentsOfFile: yml, encoding: .utf8)
    let line = try #require(config.split(separator: "\n").first { $0.hasPrefix("text_columns:") })
    #expect(line.hasPrefix("text_columns: [name, sex, age, ticket, cabin, embarked, boat, body, home.dest]"))
    #expect(line.contains("'age', 'ticket', 'boat', 'body' mostly numbers with some text (mixed_column)"))
  }

  func grouped(_ n: Int) -> String {
    let s = String(n)
    var out = ""
    for (k, ch) in s.enumerated() {
      if k > 0 && (s.count - k) % 3 == 0 { out.append(",") }
      out.append(ch)
    }
    return out
  }

  /// Column means pandas computes, by name.
  static let meansScript = #"""
    import json, sys
    import pandas as pd
    df = pd.read_csv(sys.argv[1], sep=sys.argv[2], decimal=sys.argv[3])
    print(json.dumps({c: float(df[c].mean()) for c in df.columns}))
    """#

  @Test func decimalCommasAreDetectedAsPandasReadsThem() throws {
    for (path, sep) in [(longley, ";"), (macrodata, "\t")] {
      let dir = try makeTempDir()
      let r = try CLI.run(["scan", path, "--report", dir + "/r.json"])
      #expect(r.status == 0, "\(r.stdout)")
      #expect(r.stdout.contains("  decimal comma detected ("))
      let report = try TableReport.load(dir + "/r.json")
      let full = try Report.load(dir + "/r.json")
      #expect(report.input.reading_notes?.first?.hasPrefix("decimal comma detected") == true)
      let means = try pandas(Self.meansScript, [path, sep, ","], as: [String: Double].self)
      #expect(report.columns.allSatisfy { $0.role == "feature" })
      #expect(full.stats.groups.map(\.name).sorted() == means.keys.sorted())
      for g in full.stats.groups {
        let m = try #require(means[g.name])
        #expect(abs((g.mean ?? .nan) - m) <= 1e-9 * max(1, abs(m)), "\(g.name): \(g.mean ?? .nan) vs pandas \(m)")
      }
      // `--decimal .` reads them as pandas does without decimal=',': text.
      let dots = try CLI.run(["scan", path, "--decimal", ".", "--report", dir + "/d.json"])
      let d = try TableReport.load(dir + "/d.json")
      let view = try pandas(Self.dtypesScript, [path, sep, "."], as: [String: PandasColumn].self)
      for column in d.columns {
        let p = try #require(view[column.name])
        let mixed = d.issues.contains { $0.kind == "mixed_column" && $0.field == column.name }
        #expect((column.role != "text" && !mixed) == p.numeric, "\(column.name): \(column.reason)")
      }
      #expect(dots.status == 1 || d.columns.allSatisfy { $0.role == "text" })
    }
  }

  /// The clean output read back by pandas with sep=';', decimal=',': the labels as they were, the
  /// features minmax-normalized from pandas' own values (float32).
  static let readBackScript = #"""
    import json, sys
    import numpy as np
    import pandas as pd
    src = pd.read_csv(sys.argv[1], sep=";", decimal=",")
    out = pd.read_csv(sys.argv[2], sep=";", decimal=",")
    worst = 0.0
    for c in src.columns:
        if c == sys.argv[3]:
            same = bool((out[c] == src[c]).all())
            continue
        x = src[c].to_numpy(np.float64)
        expected = ((x - x.min()) / (x.max() - x.min()) * 2 - 1).astype(np.float32)
        worst = max(worst, float(np.abs(out[c].to_numpy(np.float64) - expected.astype(np.float64)).max()))
    print(json.dumps({"columns": list(out.columns) == list(src.columns), "labels": same, "worst": worst,
                      "numeric": all(str(t).startswith("float") or str(t).startswith("int") for t in out.dtypes)}))
    """#
  struct ReadBack: Decodable { var columns: Bool; var labels: Bool; var worst: Double; var numeric: Bool }

  @Test func cleanWritesDecimalCommasBack() throws {
    let dir = try makeTempDir()
    let r = try CLI.run(["clean", longley, "-o", dir + "/out.csv", "--label-column", "TOTEMP"])
    #expect(r.status == 0, "\(r.stderr)")
    let text = try String(contentsOfFile: dir + "/out.csv", encoding: .utf8)
    #expect(text.hasPrefix("TOTEMP;GNPDEFL;GNP;UNEMP;ARMED;POP;YEAR\n60323,0;-1,0;"))
    let back = try pandas(Self.readBackScript, [longley, dir + "/out.csv", "TOTEMP"], as: ReadBack.self)
    #expect(back.columns && back.labels && back.numeric)
    #expect(back.worst <= 1e-6, "largest difference \(back.worst)")
  }

  @Test func initWritesTheDecimalCommaAndTheGateReadsIt() throws {
    let dir = try makeTempDir()
    let yml = dir + "/datasan.yml"
    let i = try CLI.run(["init", longley, "-o", yml])
    #expect(i.status == 0, "\(i.stderr)")
    let config = try String(contentsOfFile: yml, encoding: .utf8)
    #expect(config.contains("\ndecimal: ','"), "\(config)")
    let r = try CLI.run(["scan", "--config", yml, "--report", dir + "/r.json"])
    #expect(r.status == 0, "\(r.stdout)")
    #expect(r.stdout.contains("  decimal comma (given: --decimal , or datasan.yml's decimal)"))
    #expect(try TableReport.load(dir + "/r.json").columns.allSatisfy { $0.role == "feature" })
    // The command line wins over the file: points make every column text.
    let dots = try CLI.run(["scan", "--config", yml, "--decimal", ".", "--report", dir + "/d.json"])
    #expect(dots.status == 0)
    #expect(try TableReport.load(dir + "/d.json").columns.allSatisfy { $0.role == "text" })
  }

  @Test func decimalCommaNeedsAnotherDelimiter() throws {
    let r = try CLI.run(["scan", CLI.fixture("csv/dirty.csv"), "--decimal", ","])
    #expect(r.status == 2)
    #expect(r.stderr.contains("--decimal , needs another delimiter than ','"))
  }
}
