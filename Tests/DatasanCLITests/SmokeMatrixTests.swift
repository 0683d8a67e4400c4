import DatasanTestSupport
import Foundation
import Testing

/// The smoke matrix (issue 10): every committed fixture through `init`, `scan` and `clean` under a grid
/// of options. Whatever the input, every run must give a verdict: exit 0, 1 or 2 within `timeout`, no
/// death by signal, exactly one stderr line on exit 2 (all runs are `--quiet`), no temporary left
/// anywhere, no output on exit 2, and the input byte for byte as it was. It does not check what the
/// verdict is: the format tests do that.
///
/// The fixtures run concurrently (Swift Testing runs the arguments of a test in parallel, on as many
/// threads as there are cores); the runs of one fixture in order, as `--stats-in` reads the statistics
/// an earlier `clean` wrote.
///
/// Under a sanitizer (make test-asan / test-tsan), where a run costs several times more, each fixture
/// runs `init`, the plain scan and the plain clean, and a third of the other option sets: which third
/// turns with the fixture, so every option set still runs on a third of the fixtures of each format.
@Suite struct SmokeMatrixTests {
  /// One input: a fixture path relative to Fixtures/, its format, and the options it needs (`--list`).
  struct Input: CustomTestStringConvertible, Sendable {
    var fixture: String
    var format: String
    var options: [String] = []
    var testDescription: String { ([fixture] + options.map { $0.replacingOccurrences(of: CLI.root.path + "/", with: "") }).joined(separator: " ") }
    var path: String { CLI.fixture(fixture) }
  }

  /// Seconds a single run may take. Every fixture is tiny: a run that takes longer hangs.
  static let timeout = 20.0

  /// Every committed fixture, found by walking Fixtures/ (so that a new fixture joins the matrix):
  /// each file of hdf5/, csv/, tables/ and demo/, each environment of lmdb/ (a directory or a single .mdb
  /// file), each folder of png/, png/tiny/, classes/, jpeg/, sizes/ and resize/, and png/list with its
  /// list file.
  static let inputs: [Input] = {
    let files = FileManager.default
    func entries(_ dir: String) -> [String] {
      ((try? files.contentsOfDirectory(atPath: CLI.fixture(dir))) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }
    func isDirectory(_ fixture: String) -> Bool {
      var directory: ObjCBool = false
      return files.fileExists(atPath: CLI.fixture(fixture), isDirectory: &directory) && directory.boolValue
    }
    var inputs: [Input] = []
    for (dir, format) in [("hdf5", "hdf5"), ("csv", "csv"), ("demo", "hdf5"), ("tables", "csv")] {
      inputs += entries(dir).filter { !$0.hasSuffix(".md") }.map { Input(fixture: dir + "/" + $0, format: format) }
    }
    inputs += entries("lmdb").filter { !$0.hasSuffix("-lock") }.map { Input(fixture: "lmdb/" + $0, format: "lmdb") }
    for dir in ["png", "png/tiny", "classes", "jpeg", "sizes", "resize"] {
      inputs += entries(dir).filter { isDirectory(dir + "/" + $0) }.map { Input(fixture: dir + "/" + $0, format: "png") }
    }
    inputs.append(Input(fixture: "png/list", format: "png", options: ["--list", CLI.fixture("png/list/list.txt")]))
    // NumPy: a .npy with its labels' .npy, a deflated .npz, a big-endian Fortran-ordered float16 array.
    inputs.append(Input(fixture: "npy/x_train.npy", format: "npy", options: ["--labels", CLI.fixture("npy/y_train.npy")]))
    inputs.append(Input(fixture: "npy/data_compressed.npz", format: "npy", options: ["--dataset", "x", "--labels", "y"]))
    inputs.append(Input(fixture: "npy/dtypes/float16_be_F.npy", format: "npy"))
    return inputs
  }()

  /// Statistics of another dataset (4 feature groups): `--stats-in` with them is a mismatch for most inputs.
  static let foreignStats: String? = {
    guard let dir = try? makeTempDir() else { return nil }
    let stats = dir + "/foreign.stats.json"
    let r = try? CLI.run(
      ["clean", CLI.fixture("csv/dirty.csv"), "-o", dir + "/out.csv", "--stats-out", stats, "--quiet"], cwd: dir,
      environment: environment, timeout: timeout)
    return r?.status == 0 && FileManager.default.fileExists(atPath: stats) ? stats : nil
  }()

  /// No Swift backtrace on a crash (it takes seconds; the signal is what counts here).
  static let environment = ["SWIFT_BACKTRACE": "enable=no"]

  @Test(arguments: inputs) func everyRunGivesAVerdict(_ input: Input) throws {
    let work = try makeTempDir()
    defer { try? FileManager.default.removeItem(atPath: work) }
    let before = try Self.snapshot(input)
    let stats = work + "/stats"
    try FileManager.default.createDirectory(atPath: stats, withIntermediateDirectories: true)
    var failures: [String] = []
    // A hanging input costs `timeout` a run: after two timeouts its other runs are skipped (and say so).
    var timeouts = 0
    var skipped = 0
    func attempt(_ arguments: [String], cwd: String, outputs: [String], creates: [String] = []) {
      guard timeouts < 2 else { return skipped += 1 }
      let (found, timedOut) = Self.run(arguments, cwd: cwd, outputs: outputs, creates: creates)
      failures += found
      if timedOut { timeouts += 1 }
    }

    // `init` writes datasan.yml in its working directory and names the sample shape there.
    let initDir = work + "/init"
    try FileManager.default.createDirectory(atPath: initDir, withIntermediateDirectories: true)
    attempt(["init", input.path] + input.options, cwd: initDir, outputs: [initDir], creates: ["datasan.yml"])
    let shape = Self.shape(fromConfig: initDir + "/datasan.yml")

    let inputArgs = [input.path] + input.options
    var scans: [[String]] = [
      [], ["--format", input.format], ["--shape", "7,5,3"], ["--channel-axis", "last"], ["--strict"],
      ["--html", "$OUT/r.html", "--report", "$OUT/r.json", "--junit", "$OUT/r.xml"],
    ]
    // A class list: image folders are labelled by it (unknown_class, class_missing); other inputs name their labels.
    scans.append(["--classes", "cat,dog,fish", "--html", "$OUT/r.html", "--junit", "$OUT/r.xml"])
    if let shape { scans.append(["--shape", shape]) }
    // Images of any size, resized on load (other inputs refuse or ignore them in one line).
    scans.append(["--shape", "any", "--resize", "6,5", "--html", "$OUT/r.html"])
    var cleans: [[String]] = [
      ["-o", "$OUT/out.h5"],
      ["-o", "$OUT/out.h5", "--normalize", "zscore", "--stats-out", stats + "/zscore.json"],
      ["-o", "$OUT/out.h5", "--normalize", "none", "--format", input.format],
      ["-o", "$OUT/out.lmdb", "--normalize", "minmax", "--stats-out", stats + "/minmax.json"],
      ["-o", "$OUT/out.lmdb", "--normalize", "none"],
      ["-o", "$OUT/out.csv", "--normalize", "zscore"],
      ["-o", "$OUT/out.csv", "--normalize", "none"],
      ["-o", "$OUT/out.npy", "--normalize", "minmax"],
      ["-o", "$OUT/out", "--output-format", "png", "--normalize", "none"],
      ["-o", "$OUT/out", "--output-format", "png", "--normalize", "minmax"],
      ["-o", "$OUT/out.h5", "--strict", "--html", "$OUT/r.html", "--report", "$OUT/r.json"],
      ["-o", "$OUT/out.h5", "--channel-axis", "last"],
      ["-o", "$OUT/out.h5", "--shape", "7,5,3"],
    ]
    cleans.append(["-o", "$OUT/out.h5", "--classes", "cat,dog,fish", "--stats-out", stats + "/classes.json"])
    if let shape { cleans.append(["-o", "$OUT/out.h5", "--shape", shape]) }
    cleans.append(["-o", "$OUT/out.lmdb", "--shape", "any", "--normalize", "none", "--caffe-mean", "$OUT/mean.binaryproto"])
    cleans.append(["-o", "$OUT/out.h5", "--resize", "6,5", "--channel-order", "bgr"])
    var step = 0
    func outputs(_ options: [String]) -> (String, [String]) {
      step += 1
      let out = work + "/run\(step)"
      try? FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
      return (out, options.map { $0.replacingOccurrences(of: "$OUT", with: out) })
    }
    // Under a sanitizer: the first option set of each list, and every third of the others.
    let turn = input.fixture.utf8.reduce(0) { ($0 + Int($1)) % 3 }
    func runs(_ k: Int) -> Bool { Sanitizer.active == nil || k == 0 || k % 3 == turn }
    for (k, options) in scans.enumerated() where runs(k) {
      let (out, options) = outputs(options)
      attempt(["scan"] + inputArgs + options + ["--quiet"], cwd: out, outputs: [out])
    }
    for (k, options) in cleans.enumerated() where runs(k) {
      let (out, options) = outputs(options)
      attempt(["clean"] + inputArgs + options + ["--quiet"], cwd: out, outputs: [out], creates: [options[1]])
    }
    // --stats-in: the statistics of a first clean of this input (when one was written), and another
    // dataset's.
    let statsFiles = ["zscore.json", "minmax.json"].map { stats + "/" + $0 }.filter { FileManager.default.fileExists(atPath: $0) }
    for file in statsFiles + [Self.foreignStats].compactMap({ $0 }) {
      for format in ["out.h5", "out.csv"] {
        let (out, options) = outputs(["-o", "$OUT/" + format, "--stats-in", file])
        attempt(["clean"] + inputArgs + options + ["--quiet"], cwd: out, outputs: [out], creates: [options[1]])
      }
    }

    if skipped > 0 { failures.append("\(input.testDescription): \(skipped) runs skipped after 2 timeouts") }
    let after = try Self.snapshot(input)
    if after != before {
      let changed = Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }.sorted()
      failures.append("\(input.testDescription): input changed: \(changed.joined(separator: ", "))")
    }
    for failure in failures { Issue.record(Comment(rawValue: failure)) }
    print("smoke \(input.testDescription): \(step + 1 - skipped) runs, \(failures.count) failing")
  }

  /// Runs datasan once and returns what broke the promise (nothing when it held) and whether it timed out. `outputs` are the
  /// folders that must hold nothing after an exit 2 (and no temporary whatever the exit);
  /// `creates` what must exist after an exit 0 of `clean` / `init`.
  static func run(_ arguments: [String], cwd: String, outputs: [String], creates: [String] = []) -> (failures: [String], timedOut: Bool) {
    let shown = "datasan " + arguments.map { shorten($0) }.joined(separator: " ")
    let started = Date()
    let r: CLI.Result
    do {
      r = try CLI.run(arguments, cwd: cwd, environment: environment, timeout: timeout)
    } catch {
      return (["\(shown): could not start: \(error)"], false)
    }
    let seconds = String(format: "%.1f s", Date().timeIntervalSince(started))
    var failures: [String] = []
    if r.timedOut {
      failures.append("\(shown): timeout (killed after \(seconds))")
    } else if let signal = r.signal {
      let line = r.stderr.split(separator: "\n").first { $0.contains("Fatal error") || $0.contains("failed") || $0.contains("ERROR") }
      failures.append("\(shown): killed by signal \(signal) (\(String(cString: strsignal(signal))))\(line.map { ": " + $0 } ?? "")")
    } else if ![0, 1, 2].contains(r.status) {
      failures.append("\(shown): exit \(r.status)")
    }
    if r.status == 2 && r.signal == nil && !r.timedOut {
      let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: false)
      if lines.count != 2 || lines[0].isEmpty || !lines[1].isEmpty {
        failures.append("\(shown): exit 2 with \(lines.count - 1) stderr lines: \(r.stderr.debugDescription.prefix(300))")
      }
      for dir in outputs {
        let left = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        if !left.isEmpty { failures.append("\(shown): exit 2 left \(left.sorted().joined(separator: ", "))") }
      }
    }
    if r.status == 0 && r.signal == nil && !r.timedOut {
      for path in creates where !FileManager.default.fileExists(atPath: path.hasPrefix("/") ? path : cwd + "/" + path) {
        failures.append("\(shown): exit 0 without writing \(shorten(path))")
      }
    }
    if !r.timedOut {
      for dir in Set(outputs + [cwd]) {
        let temporaries = leftovers(in: dir)
        if !temporaries.isEmpty { failures.append("\(shown): left \(temporaries.joined(separator: ", "))") }
      }
    }
    return (failures, r.timedOut)
  }

  /// Temporary files (`*.datasan-tmp*`) under `dir`.
  static func leftovers(in dir: String) -> [String] {
    let all = FileManager.default.enumerator(atPath: dir)?.allObjects as? [String] ?? []
    return all.filter { $0.contains(".datasan-tmp") }.sorted()
  }

  /// Every file of the input (the fixture file, or every file under the fixture folder) and its bytes.
  /// LMDB lock files count too: datasan reads an environment without one rather than create it.
  static func snapshot(_ input: Input) throws -> [String: Data] {
    let root = input.path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) else { return [:] }
    guard isDirectory.boolValue else {
      // A single-file LMDB's lock file would be its sibling.
      let lock = FileManager.default.contents(atPath: root + "-lock").map { [root + "-lock": $0] } ?? [:]
      return lock.merging([root: try Data(contentsOf: URL(fileURLWithPath: root))]) { a, _ in a }
    }
    var files: [String: Data] = [:]
    for relative in FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? [] {
      let path = root + "/" + relative
      var directory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &directory), !directory.boolValue
      else { continue }
      files[relative] = try Data(contentsOf: URL(fileURLWithPath: path))
    }
    return files
  }

  /// The sample shape `datasan init` wrote into datasan.yml (`# shape: [3, 4, 4]`), as `3,4,4`.
  static func shape(fromConfig path: String) -> String? {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8),
      let line = text.split(separator: "\n").first(where: { $0.hasPrefix("# shape: [") || $0.hasPrefix("shape: [") }),
      let open = line.firstIndex(of: "["), let close = line.firstIndex(of: "]")
    else { return nil }
    return line[line.index(after: open)..<close].replacingOccurrences(of: " ", with: "")
  }

  /// A path as the report shows it: relative to the package, temporaries as `$TMP`.
  static func shorten(_ argument: String) -> String {
    var s = argument.replacingOccurrences(of: CLI.root.path + "/", with: "")
    if let range = s.range(of: "datasan-cli-") {
      let start = s[..<range.lowerBound].lastIndex(of: " ").map { s.index(after: $0) } ?? s.startIndex
      let end = s[range.upperBound...].firstIndex(of: "/") ?? s.endIndex
      s.replaceSubrange(start..<end, with: "$TMP")
    }
    return s
  }
}
