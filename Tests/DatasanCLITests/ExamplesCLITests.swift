import Foundation
import Testing

/// The CI examples in examples/ and .pre-commit-hooks.yaml: each is parsed as YAML, the
/// `datasan scan` command it contains is taken out and run, as the CI system would, in a
/// repository-like folder whose datasan.yml was written by `datasan init`.
enum Examples {
  static func yaml(_ relative: String) throws -> Any {
    let text = try String(contentsOf: CLI.root.appendingPathComponent(relative), encoding: .utf8)
    return try #require(try loadYAML(text))
  }

  /// The lines of shell in `text` that run `datasan scan`.
  static func scanLines(_ text: String) -> [String] {
    text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("datasan scan") }
  }

  /// Splits one shell command line into words (quotes, no expansions).
  static func words(_ line: String) -> [String] {
    var out: [String] = []
    var current = ""
    var quote: Character? = nil
    var inWord = false
    for c in line {
      if let q = quote {
        if c == q { quote = nil } else { current.append(c) }
      } else if c == "\"" || c == "'" {
        quote = c
        inWord = true
      } else if c == " " || c == "\t" {
        if inWord { out.append(current) }
        current = ""
        inWord = false
      } else {
        current.append(c)
        inWord = true
      }
    }
    if inWord { out.append(current) }
    return out
  }

  /// Runs `datasan scan ...` (the words of a CI command) in `repo`, as the CI system would.
  static func run(_ command: [String], in repo: String, environment: [String: String] = [:]) throws -> CLI.Result {
    #expect(command.first == "datasan" && command.dropFirst().first == "scan", "\(command)")
    return try CLIEnv.run(Array(command.dropFirst()), cwd: repo, environment: environment)
  }

  /// A repository-like folder whose datasan.yml `datasan init` wrote for `dataset`.
  static func repository(for dataset: String) throws -> String {
    let repo = try makeTempDir()
    let r = try CLI.run(["init", dataset], cwd: repo)
    #expect(r.status == 0, "\(r.stderr)")
    return repo
  }
}

@Suite struct ExamplesCLITests {
  let clean = CLI.fixture("hdf5/clean_small.h5")
  let dirty = CLI.fixture("hdf5/dirty.h5")

  /// examples/github/datasan.yml: the step that runs `datasan scan`.
  func githubCommand() throws -> [String] {
    let workflow = try #require(try Examples.yaml("examples/github/datasan.yml") as? [String: Any])
    #expect(workflow["on"] != nil || workflow["true"] != nil)  // YAML 1.1 reads a bare `on` as true
    let jobs = try #require(workflow["jobs"] as? [String: Any])
    var lines: [String] = []
    for case let job as [String: Any] in jobs.values {
      #expect(job["runs-on"] as? String == "ubuntu-latest")
      for case let step as [String: Any] in job["steps"] as? [Any] ?? [] {
        if let run = step["run"] as? String { lines += Examples.scanLines(run) }
      }
    }
    #expect(lines.count == 1)
    return Examples.words(try #require(lines.first))
  }

  @Test func githubWorkflowGates() throws {
    let command = try githubCommand()
    #expect(command.contains("--annotations") && command.contains("github"))
    // A clean dataset passes: no annotation, a PASS job summary, the reports written.
    let good = try Examples.repository(for: clean)
    let passed = try Examples.run(command, in: good, environment: ["GITHUB_STEP_SUMMARY": good + "/summary.md"])
    #expect(passed.status == 0, "\(passed.stdout)\(passed.stderr)")
    #expect(!passed.stdout.contains("::error"))
    #expect(try String(contentsOfFile: good + "/summary.md", encoding: .utf8).contains("### datasan: PASS"))
    #expect(FileManager.default.fileExists(atPath: good + "/datasan-junit.xml"))
    #expect(FileManager.default.fileExists(atPath: good + "/datasan-report.json"))
    // A dirty one fails, with an annotation naming the file and the key.
    let bad = try Examples.repository(for: dirty)
    let failed = try Examples.run(command, in: bad, environment: ["GITHUB_STEP_SUMMARY": bad + "/summary.md"])
    #expect(failed.status == 1)
    #expect(failed.stdout.contains("::error title=datasan nan_value,file=\(dirty)::key 3: 2 NaN values"))
    #expect(try String(contentsOfFile: bad + "/summary.md", encoding: .utf8).contains("### datasan: FAIL"))
  }

  /// A new user: a repository with a small CSV dataset and the example workflow; breaking one
  /// label makes the gate fail with an annotation that names the file and the key (its line).
  @Test func breakingOneLabelFailsTheGateWithAnAnnotation() throws {
    let repo = try makeTempDir()
    try FileManager.default.createDirectory(atPath: repo + "/data", withIntermediateDirectories: true)
    var rows = ["x,y,label"]
    for i in 0..<30 { rows.append("\(Double(i % 7) / 7),\(Double(i % 5) / 5),\(i % 3)") }
    try writeText(rows.joined(separator: "\n") + "\n", repo + "/data/train.csv")
    let initialized = try CLI.run(["init", "data/train.csv"], cwd: repo)
    #expect(initialized.status == 0 && initialized.stdout.contains("num_classes 3"), "\(initialized.stdout)")
    let command = try githubCommand()
    let passed = try Examples.run(command, in: repo)
    #expect(passed.status == 0, "\(passed.stdout)")
    // Line 12 of the file holds row 10; its label becomes 7.
    rows[11] = "0.5,0.5,7"
    try writeText(rows.joined(separator: "\n") + "\n", repo + "/data/train.csv")
    let failed = try Examples.run(command, in: repo, environment: ["GITHUB_STEP_SUMMARY": repo + "/summary.md"])
    #expect(failed.status == 1)
    let errors = failed.stdout.split(separator: "\n").filter { $0.hasPrefix("::error") }
    #expect(
      errors == [
        "::error title=datasan label_out_of_domain,file=data/train.csv,line=12::key 12: label 7 is not below --num-classes 3 (valid classes are 0..2)"
      ])
    let summary = try String(contentsOfFile: repo + "/summary.md", encoding: .utf8)
    #expect(summary.contains("| `12` | `label_out_of_domain` |"))
  }

  @Test func gitlabJobGatesAndReportsJUnit() throws {
    let ci = try #require(try Examples.yaml("examples/gitlab/.gitlab-ci.yml") as? [String: Any])
    let job = try #require(ci["datasan"] as? [String: Any])
    let script = try #require(job["script"] as? [String])
    let lines = script.flatMap(Examples.scanLines)
    #expect(lines.count == 1)
    let command = Examples.words(try #require(lines.first))
    let artifacts = try #require(job["artifacts"] as? [String: Any])
    #expect(artifacts["when"] as? String == "always")
    let junit = try #require((artifacts["reports"] as? [String: Any])?["junit"] as? String)
    #expect(command.contains(junit))

    let good = try Examples.repository(for: clean)
    #expect(try Examples.run(command, in: good).status == 0)
    let bad = try Examples.repository(for: dirty)
    let failed = try Examples.run(command, in: bad)
    #expect(failed.status == 1)
    let xml = try String(contentsOfFile: bad + "/" + junit, encoding: .utf8)
    #expect(xml.contains("<failure type=\"nan_value\""))
    if JUnitSchema.available {
      let verdict = try JUnitSchema.check(bad + "/" + junit)
      #expect(verdict.errors.isEmpty, "\(verdict.errors)")
      #expect(verdict.failed.contains("nan_value"))
      #expect(try JUnitSchema.check(good + "/" + junit).failed.isEmpty)
    }
  }

  @Test func preCommitHooksGate() throws {
    let hooks = try #require(try Examples.yaml(".pre-commit-hooks.yaml") as? [[String: Any]])
    var byID: [String: [String: Any]] = [:]
    for hook in hooks {
      // What pre-commit requires of a hook definition.
      for key in ["id", "name", "entry", "language"] { #expect(hook[key] is String, "hook lacks \(key)") }
      #expect(["swift", "system"].contains(hook["language"] as? String ?? ""))
      #expect(hook["pass_filenames"] as? Bool == false)
      if let files = hook["files"] as? String {
        let regex = try NSRegularExpression(pattern: files)
        for (path, matches) in [("datasan.yml", true), ("data/train.h5", true), ("data/x.CSV", true), ("images/cat/1.PNG", true), ("src/a.py", false)] {
          let found = regex.firstMatch(in: path, range: NSRange(path.startIndex..., in: path)) != nil
          #expect(found == matches, "\(files) on \(path)")
        }
      }
      byID[hook["id"] as! String] = hook
    }
    let config = try #require(try Examples.yaml("examples/pre-commit/.pre-commit-config.yaml") as? [String: Any])
    let repos = try #require(config["repos"] as? [[String: Any]])
    var ran = 0
    for repo in repos {
      #expect(repo["rev"] is String && repo["repo"] is String)
      for case let use as [String: Any] in repo["hooks"] as? [Any] ?? [] {
        let hook = try #require(byID[use["id"] as? String ?? ""], "no hook \(use["id"] ?? "?") in .pre-commit-hooks.yaml")
        let entry = try #require(hook["entry"] as? String)
        #expect(entry.hasPrefix("datasan scan"))
        let command = Examples.words(entry) + ((use["args"] as? [Any])?.map { "\($0)" } ?? [])
        let good = try Examples.repository(for: clean)
        #expect(try Examples.run(command, in: good).status == 0)
        let bad = try Examples.repository(for: dirty)
        let failed = try Examples.run(command, in: bad)
        #expect(failed.status == 1 && failed.stdout.contains("FAIL"))
        ran += 1
      }
    }
    #expect(ran >= 1)
  }

  @Test func shellWords() {
    #expect(Examples.words("datasan scan --junit 'a b.xml' \"c\" d") == ["datasan", "scan", "--junit", "a b.xml", "c", "d"])
  }
}
