import DatasanConfig
import Foundation
import Testing

/// The completion scripts of `datasan --generate-completion-script`, installed as README.md says in
/// a home folder of their own and loaded by the real shell, complete `datasan scan --` and
/// `datasan clean --` with exactly the options of each command. A shell that is not installed is
/// skipped (`apt-get install zsh fish bash-completion`).
@Suite struct CompletionShellTests {
  static func installed(_ shell: String) -> String? {
    ["/usr/bin/", "/bin/", "/usr/local/bin/"].map { $0 + shell }.first { FileManager.default.isExecutableFile(atPath: $0) }
  }

  static let bashCompletion = "/usr/share/bash-completion/bash_completion"

  /// The long options a completion of `datasan <command> --` must offer: every option of the
  /// command's groups (an inverted flag's two names), the config file's, --version and --help.
  func options(of command: String) -> Set<String> {
    var groups = ConfigKey.inputGroups + [CheckFlags.self, ReportFlags.self]
    if command == "clean" { groups.append(CleanOptions.self) }
    var names: Set<String> = ["--config", "--no-config", "--version", "--help"]
    // scan's process of a sharded run (Sources/datasan/Shard.swift's ShardOptions: no datasan.yml key).
    if command == "scan" { names.formUnion(["--shard", "--shards"]) }
    for key in groups.flatMap({ ConfigKey.keys(of: $0) }) {
      switch key.form {
      case .argument: continue
      case .value: names.insert(key.flag)
      case .flag(let invertible):
        names.insert(key.flag)
        if invertible { names.insert("--no-" + key.flag.dropFirst(2)) }
      }
    }
    return names
  }

  /// A home folder with the script of `shell` where README.md installs it.
  func home(_ shell: String, at relative: String) throws -> String {
    let home = FileManager.default.temporaryDirectory.appendingPathComponent("datasan-\(shell)-\(UUID().uuidString)").path
    let script = try CLI.run(["--generate-completion-script", shell])
    #expect(script.status == 0 && script.stderr.isEmpty)
    let path = home + "/" + relative
    try FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try script.stdout.write(toFile: path, atomically: true, encoding: .utf8)
    return home
  }

  /// Runs `shell arguments` with HOME = `home` and the datasan under test first on PATH.
  func run(_ shell: String, _ arguments: [String], home: String) throws -> CLI.Result {
    let folder = (CLI.binary as NSString).deletingLastPathComponent
    let path = folder + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
    let r = try CLI.run(
      arguments, environment: ["HOME": home, "PATH": path],
      binary: shell, timeout: 30)
    #expect(r.status == 0 && !r.timedOut, "\(shell): \(r.stderr)")
    return r
  }

  func expectCompletes(_ offered: [String], _ command: String, _ shell: String) {
    let expected = options(of: command)
    let got = Set(offered.filter { $0.hasPrefix("--") })
    #expect(expected.subtracting(got).isEmpty, "\(shell), datasan \(command) --: missing \(expected.subtracting(got).sorted())")
    #expect(got.subtracting(expected).isEmpty, "\(shell), datasan \(command) --: extra \(got.subtracting(expected).sorted())")
  }

  @Test(.enabled(if: installed("bash") != nil && FileManager.default.fileExists(atPath: bashCompletion),
    "bash or the bash-completion package is not installed"))
  func bash() throws {
    let home = try home("bash", at: ".local/share/bash-completion/completions/datasan")
    defer { try? FileManager.default.removeItem(atPath: home) }
    for command in ["scan", "clean"] {
      // bash-completion loads the script on demand; its function is what `complete -p` names.
      let script = """
        source \(Self.bashCompletion)
        __load_completion datasan || exit 3
        function=$(complete -p datasan | sed -n 's/.* -F \\([^ ]*\\) .*/\\1/p')
        COMP_LINE="datasan \(command) --"
        COMP_POINT=${#COMP_LINE}
        COMP_WORDS=(datasan \(command) --)
        COMP_CWORD=2
        "$function" datasan -- \(command)
        printf '%s\\n' "${COMPREPLY[@]}"
        """
      let r = try run(Self.installed("bash")!, ["--norc", "--noprofile", "-c", script], home: home)
      expectCompletes(r.stdout.split(separator: "\n").map(String.init), command, "bash")
    }
  }

  @Test(.enabled(if: installed("zsh") != nil, "zsh is not installed"))
  func zsh() throws {
    let home = try home("zsh", at: ".zfunc/_datasan")
    defer { try? FileManager.default.removeItem(atPath: home) }
    // README.md's ~/.zshrc: the folder on fpath, then compinit.
    try "fpath=(~/.zfunc $fpath)\nautoload -U compinit && compinit\n".write(
      toFile: home + "/.zshrc", atomically: true, encoding: .utf8)
    // An interactive zsh on a pseudo-terminal (zpty): type the line, then ^D lists the choices.
    let driver = """
      zmodload zsh/zpty
      zpty -b z zsh -i
      zpty -w z "PS1='> '; LISTMAX=100000; COLUMNS=400; print RE''ADY"
      zpty -r z line '*READY*'
      zpty -w -n z "$1"$'\\C-d'
      out=""; quiet=0
      for i in {1..200}; do
        sleep 0.05
        got=0
        while zpty -r -t z chunk; do out+=$chunk; got=1; done
        if (( got )); then quiet=0; else (( quiet++ )); fi
        [[ $out == *--version* ]] && (( quiet >= 4 )) && break
      done
      zpty -d z
      print -r -- "$out"
      """
    let file = home + "/driver.zsh"
    try driver.write(toFile: file, atomically: true, encoding: .utf8)
    for command in ["scan", "clean"] {
      let r = try run(Self.installed("zsh")!, ["-f", file, "datasan \(command) --"], home: home)
      // Listing lines: `--a  --b  -- description`; escape sequences and carriage returns dropped.
      let text = r.stdout.replacingOccurrences(of: "\u{1B}\\[[0-9;?]*[A-Za-z]", with: "", options: .regularExpression)
      var offered: [String] = []
      for line in text.split(whereSeparator: \.isNewline) {  // "\r\n" is one Character
        guard let names = line.components(separatedBy: " -- ").first, line.contains(" -- ") else { continue }
        offered += names.split(separator: " ").map(String.init)
      }
      expectCompletes(offered, command, "zsh")
    }
  }

  @Test(.enabled(if: installed("fish") != nil, "fish is not installed"))
  func fish() throws {
    let home = try home("fish", at: ".config/fish/completions/datasan.fish")
    defer { try? FileManager.default.removeItem(atPath: home) }
    for command in ["scan", "clean"] {
      // fish loads ~/.config/fish/completions/datasan.fish when it completes a `datasan` on PATH.
      let r = try run(Self.installed("fish")!, ["-c", "complete -C 'datasan \(command) --'"], home: home)
      expectCompletes(r.stdout.split(separator: "\n").map { String($0.split(separator: "\t").first ?? "") }, command, "fish")
    }
  }
}
