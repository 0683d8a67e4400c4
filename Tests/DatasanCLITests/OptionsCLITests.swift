import DatasanConfig
import Foundation
import Testing

/// The options are declared once (DatasanConfig/Options.swift); datasan.yml's keys, completion
/// scripts and help all come from those declarations.
@Suite struct OptionsCLITests {
  /// The long names of a command's options and its positional, from the tool-info model that
  /// swift-argument-parser builds from the declarations (`--experimental-dump-help`).
  func options(of command: String) throws -> Set<String> {
    let r = try CLI.run(["--experimental-dump-help"])
    #expect(r.status == 0, "\(r.stderr)")
    let root = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
    let commands = (root?["command"] as? [String: Any])?["subcommands"] as? [[String: Any]] ?? []
    let sub = try #require(commands.first { $0["commandName"] as? String == command })
    var names: Set<String> = []
    for argument in sub["arguments"] as? [[String: Any]] ?? [] {
      if argument["kind"] as? String == "positional" {
        names.insert(argument["valueName"] as? String ?? "")
      } else if let preferred = argument["preferredName"] as? [String: Any], preferred["kind"] as? String == "long" {
        names.insert(preferred["name"] as? String ?? "")
      }
    }
    // `--no-x` of an inverted flag `--x` is the same option.
    let inverted = names.filter { $0.hasPrefix("no-") && names.contains(String($0.dropFirst(3))) }
    return names.subtracting(inverted).subtracting(["help", "version", "config", "no-config"])
  }

  @Test func everyOptionIsAKeyAndEveryKeyAnOption() throws {
    let keys = Set(ConfigKey.all.map { $0.name.replacingOccurrences(of: "_", with: "-") })
    // `--shard` / `--shards` say which process of a sharded run this is (Sources/datasan/Shard.swift),
    // not how to read or judge the dataset: one datasan.yml serves every shard, so they have no key.
    let perProcess: Set<String> = ["shard", "shards"]
    let options = try options(of: "scan").union(options(of: "clean")).subtracting(perProcess)
    #expect(options.subtracting(keys).isEmpty, "options without a datasan.yml key: \(options.subtracting(keys).sorted())")
    #expect(keys.subtracting(options).isEmpty, "keys without an option: \(keys.subtracting(options).sorted())")
    #expect(options.count > 30)
  }

  @Test func completionScriptsCompleteTheOptions() throws {
    for shell in ["bash", "zsh", "fish"] {
      let r = try CLI.run(["--generate-completion-script", shell])
      #expect(r.status == 0 && r.stderr.isEmpty, "\(shell): \(r.stderr)")
      for word in ["scan", "clean", "init", "--num-classes", "--caffe-mean", "cross-entropy"] {
        #expect(r.stdout.contains(word), "\(shell) completion lacks \(word)")
      }
    }
    #expect(try CLI.run(["--generate-completion-script", "tcsh"]).status == 2)
  }
}
