import Foundation
import DatasanTestSupport
import Testing

/// Compressed CSV (Fixtures/make_compressed_fixtures.py): inputs found by their magic bytes and read
/// as their decompressed stream (scikit-learn's own digits.csv.gz against pandas), the same report
/// as the plain file, `clean -o out.csv.gz` (and .bz2 / .xz / .zst) read back by pandas, and broken
/// streams as one line and exit 2. About 40 datasan runs on tiny files (38 s on this loaded 2-core
/// machine with the debug build, most of it process start-up).
@Suite struct CompressedCSVCLITests {
  static let extensions = ["gz", "bz2", "xz", "zst"]
  static let libraries = ["gz": "zlib", "bz2": "libbz2", "xz": "liblzma", "zst": "libzstd"]

  /// The JSON report without its `input` member (which names the file and how it was read).
  func reportBody(_ path: String) throws -> NSDictionary {
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
    let dictionary = try #require(object as? [String: Any])
    return dictionary.filter { $0.key != "input" } as NSDictionary
  }

  @Test func compressedReportsEqualThePlainFilesReport() throws {
    let dir = try makeTempDir()
    let plain = try CLI.run(["scan", CLI.fixture("csv/dirty.csv"), "--no-config", "--report", dir + "/plain.json"])
    #expect(plain.status == 1)
    let expected = try reportBody(dir + "/plain.json")
    for name in Self.extensions.map({ "dirty.csv.\($0)" }) + ["dirty_members.csv.gz"] {
      let report = dir + "/\(name).json"
      let r = try CLI.run(["scan", CLI.fixture("compressed/" + name), "--no-config", "--report", report])
      #expect(r.status == plain.status, "\(name): \(r.stderr)")
      #expect(try reportBody(report) == expected, "\(name)")
      // Keys are the physical lines of the decompressed text, as in the plain file.
      #expect(r.stdout.contains("key 22: line 22: 4 fields, expected 5"), "\(name)")
      let compression = name.hasSuffix("gz") ? "gzip" : name.hasSuffix("bz2") ? "bzip2" : name.hasSuffix("xz") ? "xz" : "zstd"
      #expect(r.stdout.contains("\(compression)-compressed (by its magic bytes)"), "\(name): \(r.stdout)")
    }
  }

  /// Per column min / max / mean / population std and the label histogram, as pandas reads the .gz.
  static let digitsScript = #"""
    import json, sys
    import pandas as pd
    frame = pd.read_csv(sys.argv[1], header=None)  # compression="infer" (by the .gz)
    features = frame.iloc[:, :-1]
    print(json.dumps({"rows": len(frame), "nan": int(frame.isna().sum().sum()),
      "min": features.min().tolist(), "max": features.max().tolist(), "mean": features.mean().tolist(),
      "std": features.std(ddof=0).tolist(),
      "labels": {str(k): int(v) for k, v in frame.iloc[:, -1].value_counts().items()}}))
    """#
  struct PandasDigits: Decodable {
    var rows: Int; var nan: Int; var min: [Double]; var max: [Double]; var mean: [Double]; var std: [Double]
    var labels: [String: Int]
  }

  @Test func scikitLearnsDigitsAgreesWithPandas() throws {
    let dir = try makeTempDir()
    let digits = CLI.fixture("compressed/digits.csv.gz")
    let r = try CLI.run([
      "scan", digits, "--no-config", "--label-column", "64", "--num-classes", "10", "--report", dir + "/r.json",
    ])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    let report = try Report.load(dir + "/r.json")
    let run = try Python.run(Self.digitsScript, [digits])
    try #require(run.status == 0, "python3 (pandas) failed (make pydeps): \(run.stderr)")
    let p = try JSONDecoder().decode(PandasDigits.self, from: run.stdout)
    #expect(report.samples.total == p.rows && report.samples.clean == p.rows && p.nan == 0)
    try #require(report.stats.groups.count == p.min.count)
    for (g, group) in report.stats.groups.enumerated() {
      #expect(group.min == p.min[g] && group.max == p.max[g], "column \(g)")
      #expect(abs((group.mean ?? .nan) - p.mean[g]) <= 1e-12 * max(1, abs(p.mean[g])), "column \(g)")
      #expect(abs((group.std ?? .nan) - p.std[g]) <= 1e-12 * max(1, p.std[g]), "column \(g)")
    }
    #expect(report.stats.labels?.histogram == p.labels)
    // The constant columns pandas finds are datasan's constant_feature findings.
    let constant = (0..<p.min.count).filter { p.min[$0] == p.max[$0] }.map { "column \($0)" }
    #expect(report.issues.filter { $0.kind == "constant_feature" }.compactMap(\.field).sorted() == constant.sorted())
    #expect(!constant.isEmpty)
  }

  /// Decompresses each file with the module pandas uses for its extension, reads it with pandas, and
  /// prints its bytes' SHA-256 and its shape.
  static let readBackScript = #"""
    import bz2, gzip, hashlib, json, lzma, sys
    import pandas as pd
    import zstandard
    opener = {"gz": gzip.decompress, "bz2": bz2.decompress, "xz": lzma.decompress,
              "zst": lambda b: zstandard.ZstdDecompressor().decompressobj().decompress(b), "csv": lambda b: b}
    out = {}
    for path in sys.argv[1:]:
        raw = opener[path.rsplit(".", 1)[1]](open(path, "rb").read())
        frame = pd.read_csv(path)  # compression="infer"
        out[path] = {"sha": hashlib.sha256(raw).hexdigest(), "rows": len(frame), "columns": len(frame.columns)}
    print(json.dumps(out))
    """#
  struct ReadBack: Decodable { var sha: String; var rows: Int; var columns: Int }

  @Test func cleanCompressesByTheOutputsExtension() throws {
    let dir = try makeTempDir()
    let input = CLI.fixture("csv/dirty.csv")
    let plain = try CLI.run(["clean", input, "--no-config", "-o", dir + "/plain.csv"])
    #expect(plain.status == 0, "\(plain.stderr)")
    var paths = [dir + "/plain.csv", dir + "/plain.quarantine.csv"]
    for ext in Self.extensions {
      // The input compressed too: compressed in, compressed out.
      let r = try CLI.run(["clean", CLI.fixture("compressed/dirty.csv.\(ext)"), "--no-config", "-o", dir + "/out.csv.\(ext)"])
      #expect(r.status == 0, "\(ext): \(r.stderr)")
      paths += [dir + "/out.csv.\(ext)", dir + "/out.quarantine.csv.\(ext)"]
      #expect(FileManager.default.fileExists(atPath: dir + "/out.quarantine.csv.\(ext).reasons.jsonl"))
      #expect(try Reason.load(dir + "/out.quarantine.csv.\(ext).reasons.jsonl") == Reason.load(dir + "/plain.quarantine.csv.reasons.jsonl"))
    }
    let run = try Python.run(Self.readBackScript, paths)
    try #require(run.status == 0, "python3 (pandas, zstandard) failed (make pydeps): \(run.stderr)")
    let back = try JSONDecoder().decode([String: ReadBack].self, from: run.stdout)
    let (clean, quarantine) = (try #require(back[paths[0]]), try #require(back[paths[1]]))
    #expect(clean.rows + quarantine.rows == 30 && clean.rows == 21)
    for ext in Self.extensions {
      // The decompressed bytes are the plain output's, byte for byte.
      #expect(back[dir + "/out.csv.\(ext)"]?.sha == clean.sha, "\(ext)")
      #expect(back[dir + "/out.quarantine.csv.\(ext)"]?.sha == quarantine.sha, "\(ext)")
      #expect(back[dir + "/out.csv.\(ext)"]?.rows == clean.rows)
    }
    // Only a CSV output can be compressed.
    for name in ["other.h5.gz", "other.gz"] {
      let r = try CLI.run(["clean", input, "--no-config", "-o", dir + "/" + name, "--output-format", "hdf5"])
      #expect(r.status == 2 && r.stderr.contains("only CSV output is compressed"), "\(name): \(r.stderr)")
    }
    let h5 = try CLI.run(["clean", input, "--no-config", "-o", dir + "/other.h5.gz"])
    #expect(h5.status == 2 && h5.stderr.contains("only CSV output is compressed"), "\(h5.stderr)")
  }

  @Test func brokenStreamsAreOneLineExitTwo() throws {
    let dir = try makeTempDir()
    var cases: [(String, String)] = []
    for ext in Self.extensions {
      let library = Self.libraries[ext]!
      cases.append(("truncated.csv.\(ext)", "truncated (the file ends inside it) (\(library))"))
      cases.append(("corrupt.csv.\(ext)", "(\(library))"))
    }
    cases.append(("huge_window.csv.xz", "more than datasan's limit of 128 MiB (liblzma)"))
    cases.append(("huge_window.csv.zst", "more than datasan's limit of 128 MiB to decompress"))
    cases.append(("not_csv.gz", "is gzip-compressed but holds no CSV text"))
    for (name, message) in cases {
      let path = CLI.fixture("compressed/" + name)
      // clean fails the same way (a few cases: each run costs a process start).
      for command in name.hasPrefix("truncated.csv.g") || name.hasPrefix("corrupt.csv.z") ? ["scan", "clean"] : ["scan"] {
        let output = dir + "/\(name).out.csv"
        let r = try CLI.run([command, path, "--no-config"] + (command == "clean" ? ["-o", output] : []), timeout: 20)
        #expect(r.status == 2 && r.signal == nil && !r.timedOut, "\(command) \(name): \(r.status) \(r.stderr)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("datasan: \(path): ") && lines[0].contains(message), "\(command) \(name): \(r.stderr)")
      }
    }
    // Nothing left behind by the failed cleans.
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
  }
}
