import Foundation
import DatasanTestSupport
import Testing

/// `scan --shard I/N` + `datasan merge` give the report and exit code of one scan over the whole
/// dataset, through the commands: a CSV file by byte ranges (the real Titanic table, whose CSV reader
/// counts its `mixed_column` rows over the whole stream) and an HDF5 file by sample ranges (in the
/// refusal test). Every format at every N over the shard fixtures' boundary defects goes through the
/// library in DatasanReportTests' ShardMergeTests (in-process: a debug datasan spends ~0.5 s of CPU
/// parsing its arguments per run). About 10 s of CPU in a debug build (18 runs, 6 refused merges).
@Suite struct ShardCLITests {
  /// The report without what differs between runs (time, bytes read: shards re-read the start).
  static func comparable(_ path: String) throws -> Any {
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
    func strip(_ o: Any) -> Any {
      if let d = o as? [String: Any] {
        return d.filter { !["seconds", "bytes_read", "samples_per_second", "mb_per_second"].contains($0.key) }
          .mapValues(strip)
      }
      if let a = o as? [Any] { return a.map(strip) }
      return o
    }
    return strip(object)
  }

  /// Compares the merged report of the shards of `input` with the single run's.
  static func expectMerged(_ input: String, _ extra: [String], parts: [String], in dir: String) throws {
    let single = try CLI.run(["scan", input] + extra + ["--report", dir + "/single.json", "--quiet"])
    #expect(single.status == 1, "\(single.stderr)")
    let merged = try CLI.run(["merge"] + parts.reversed() + ["--report", dir + "/merged.json"])
    #expect(merged.status == single.status, "\(input): \(merged.stderr)")
    let difference = JSONDifference.first(try Self.comparable(dir + "/single.json"), try Self.comparable(dir + "/merged.json"))
    #expect(difference == nil, "\(input) N=\(parts.count): \(difference ?? "")")
  }

  @Test func mergedCSVShardsAreTheSingleRun() throws {
    let dir = try makeTempDir()
    let input = CLI.fixture("tables/titanic_openml.csv")
    let extra = ["--label-column", "survived"]
    var parts: [String] = []
    for i in 0..<3 {
      let part = dir + "/part-\(i).json"
      let r = try CLI.run(["scan", input] + extra + ["--shard", "\(i)/3", "--report", part, "--quiet"])
      #expect(r.status == 0, "shard \(i)/3: \(r.stderr)")
      parts.append(part)
    }
    try Self.expectMerged(input, extra, parts: parts, in: dir)
    let merged = try String(contentsOfFile: dir + "/merged.json", encoding: .utf8)
    #expect(merged.contains("263 rows hold '?'") && merged.contains("(line 1227)"))
  }

  @Test func missingDuplicatedAndForeignShardsAreRefused() throws {
    let dir = try makeTempDir()
    let h5 = CLI.fixture("shards/boundaries.h5")
    for i in 0..<3 {
      let r = try CLI.run(["scan", h5, "--shard", "\(i)/3", "--report", dir + "/p\(i).json", "--quiet"])
      #expect(r.status == 0, "\(r.stderr)")
    }
    // Another dataset, another N, other options.
    _ = try CLI.run(["scan", CLI.fixture("shards/boundaries.csv"), "--shard", "2/3", "--report", dir + "/csv.json", "--quiet"])
    _ = try CLI.run(["scan", h5, "--shard", "2/4", "--report", dir + "/n4.json", "--quiet"])
    _ = try CLI.run(["scan", h5, "--shard", "2/3", "--strict", "--report", dir + "/strict.json", "--quiet"])
    try "{}".write(toFile: dir + "/notpart.json", atomically: true, encoding: .utf8)
    let cases: [([String], String)] = [
      (["p0.json", "p1.json"], "2/3 missing"),
      (["p0.json", "p1.json", "p2.json", "p1.json"], "given twice"),
      (["p0.json", "p1.json", "csv.json"], "csv.json: shard 2/3 of another run: dataset"),
      (["p0.json", "p1.json", "n4.json"], "n4.json: shard 2/4 of another run: 4 shards"),
      (["p0.json", "p1.json", "strict.json"], "strict.json: shard 2/3 of another run: options"),
      (["p0.json", "p1.json", "notpart.json"], "notpart.json: not a partial report"),
    ]
    for (parts, message) in cases {
      let r = try CLI.run(["merge"] + parts.map { dir + "/" + $0 } + ["--report", dir + "/all.json"])
      #expect(r.status == 2 && r.stderr.contains(message), "\(parts): \(r.stderr)")
      #expect(!FileManager.default.fileExists(atPath: dir + "/all.json"))
    }
    try Self.expectMerged(h5, [], parts: ["p0.json", "p1.json", "p2.json"].map { dir + "/" + $0 }, in: dir)
  }

  @Test func theShardComesFromSlurmOrKubernetes() throws {
    let dir = try makeTempDir()
    let h5 = CLI.fixture("shards/boundaries.h5")
    let runs: [([String], [String: String])] = [
      ([], ["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "4", "SLURM_ARRAY_TASK_COUNT": "2"]),
      (["--shards", "2"], ["JOB_COMPLETION_INDEX": "0"]),
    ]
    for (k, (extra, environment)) in runs.enumerated() {
      let r = try CLIEnv.run(
        ["scan", h5, "--report", dir + "/p\(k).json", "--quiet"] + extra, environment: environment)
      #expect(r.status == 0, "\(r.stderr)")
    }
    let merged = try CLI.run(["merge", dir + "/p0.json", dir + "/p1.json", "--report", dir + "/all.json"])
    #expect(merged.status == 1, "\(merged.stderr)")
    let noShards = try CLIEnv.run(["scan", h5, "--report", dir + "/x.json"], environment: ["JOB_COMPLETION_INDEX": "1"])
    #expect(noShards.status == 2 && noShards.stderr.contains("--shards"))
    // Without --report the environment names no shard: a plain scan in an array task scans it all.
    let plain = try CLIEnv.run(["scan", h5], environment: runs[0].1)
    #expect(plain.status == 1 && plain.stdout.contains("42") && !plain.stdout.contains("partial report"), "\(plain.stderr)")
  }
}
