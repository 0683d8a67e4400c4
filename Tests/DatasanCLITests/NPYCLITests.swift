import Foundation
import DatasanTestSupport
import Testing

/// NumPy inputs (Fixtures/make_npy.py: files numpy itself wrote), through the whole command line:
/// findings and statistics against what numpy computes from the same files, `clean` read back by
/// `numpy.load`, hostile headers and foreign formats refused in one line. About 3 s in all.
@Suite struct NPYCLITests {
  static let dir = CLI.fixture("npy")

  func numpy<T: Decodable>(_ script: String, _ arguments: [String], as type: T.Type) throws -> T {
    let run = try Python.run(script, arguments)
    try #require(run.status == 0, "python3 (numpy) failed (make pydeps installs numpy): \(run.stderr)")
    return try JSONDecoder().decode(T.self, from: run.stdout)
  }

  /// Per file: the statistics of each feature group (axis 1, as datasan groups channel-first
  /// samples) over all values as float64, population std.
  struct Stats: Decodable { var count: Int; var min: Double; var max: Double; var mean: Double; var std: Double }
  static let statsScript = #"""
    import json, sys
    import numpy as np
    out = {}
    for path in sys.argv[1:]:
        a = np.load(path).astype(np.float64)
        groups = []
        for g in range(a.shape[1]):
            v = a[:, g].ravel()
            groups.append({"count": int(v.size), "min": float(v.min()), "max": float(v.max()), "mean": float(v.mean()), "std": float(v.std())})
        out[path] = groups
    print(json.dumps(out))
    """#

  /// Every dtype numpy saves for numbers, both byte orders, C and Fortran order: the statistics
  /// datasan reports are numpy's.
  @Test func everyDtypeByteOrderAndOrderReadsAsNumpy() throws {
    let files = CLI.files(under: Self.dir + "/dtypes").map { Self.dir + "/dtypes/" + $0 }
    #expect(files.count == 42)
    let expected = try numpy(Self.statsScript, files, as: [String: [Stats]].self)
    let out = try makeTempDir()
    for file in files {
      let r = try CLI.run(["scan", file, "--loss", "none", "--report", out + "/r.json", "-q"])
      #expect(r.status == 0 || r.status == 1, "\(file): \(r.stderr)")
      let report = try Report.load(out + "/r.json")
      #expect(report.input.format == "npy")
      #expect(report.samples.total == 6)
      let want = try #require(expected[file])
      #expect(report.stats.groups.count == want.count, "\(file)")
      for (got, w) in zip(report.stats.groups, want) {
        #expect(got.count == w.count, "\(file)")
        #expect(got.min == w.min && got.max == w.max, "\(file): \(got) vs \(w)")
        #expect(abs((got.mean ?? .nan) - w.mean) <= 1e-15 * max(1, abs(w.mean)), "\(file): mean \(got.mean ?? .nan) vs \(w.mean)")
        #expect(abs((got.std ?? .nan) - w.std) <= 1e-12 * max(1, w.std), "\(file): std \(got.std ?? .nan) vs \(w.std)")
      }
    }
  }

  /// The rows numpy finds with NaN, with Inf, and with labels outside [0, 3).
  struct Expected: Decodable { var nan: [Int]; var inf: [Int]; var label: [Int] }
  static let findingsScript = #"""
    import json, sys
    import numpy as np
    path, x, y = sys.argv[1], sys.argv[2], sys.argv[3]
    if path.endswith(".npz"):
        z = np.load(path)
        xs, ys = z[x], z[y]
    else:
        xs, ys = np.load(path), np.load(y)
    flat = xs.reshape(len(xs), -1)
    print(json.dumps({"nan": np.nonzero(np.isnan(flat).any(axis=1))[0].tolist(),
                      "inf": np.nonzero(np.isinf(flat).any(axis=1))[0].tolist(),
                      "label": np.nonzero((ys < 0) | (ys >= 3))[0].tolist()}))
    """#

  @Test(arguments: ["x_train.npy", "data.npz", "data_compressed.npz"])
  func findingsAreNumpys(_ name: String) throws {
    let path = Self.dir + "/" + name
    let npz = name.hasSuffix(".npz")
    let labels = npz ? "y" : Self.dir + "/y_train.npy"
    let expected = try numpy(Self.findingsScript, [path, "x", labels], as: Expected.self)
    let out = try makeTempDir()
    var arguments = ["scan", path, "--labels", labels, "--num-classes", "3", "--report", out + "/r.json"]
    if npz { arguments += ["--dataset", "x"] }
    let r = try CLI.run(arguments)
    #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
    let report = try Report.load(out + "/r.json")
    func keys(_ kind: String) -> [Int] { report.issues.filter { $0.kind == kind }.compactMap { $0.key.flatMap { Int($0) } }.sorted() }
    #expect(keys("nan_value") == expected.nan)
    #expect(keys("inf_value") == expected.inf)
    #expect(keys("label_out_of_domain") == expected.label)
    #expect(report.samples.total == 20)
  }

  /// `clean` of an .npz (compressed) and of a Fortran-ordered big-endian .npy: numpy reads the outputs
  /// back; clean + quarantine hold every input row once, in order, the quarantine unchanged.
  static let roundTripScript = #"""
    import json, sys
    import numpy as np
    src, x, y, out, quarantine, normalized = sys.argv[1:7]
    if src.endswith(".npz"):
        z = np.load(src); xs, ys = z[x], z[y]
    else:
        xs = np.load(src); ys = np.load(y) if y != "-" else None
    flat = xs.reshape(len(xs), -1).astype(np.float64)
    bad = ~np.isfinite(flat).all(axis=1)
    if ys is not None:
        bad |= (ys < 0) | (ys >= 3)
    clean = np.load(out)
    q = np.load(quarantine)
    ok = [clean.shape[0] == (~bad).sum(), q.shape[0] == bad.sum(), clean.shape[1:] == xs.shape[1:],
          clean.flags["C_CONTIGUOUS"]]
    ok.append(np.array_equal(q, xs[bad], equal_nan=True) and q.dtype == xs.dtype.newbyteorder("="))
    if normalized == "1":
        c = xs[~bad].astype(np.float64)
        g = c.reshape(len(c), c.shape[1], -1)
        lo, hi = g.min(axis=(0, 2)), g.max(axis=(0, 2))
        want = (g - lo[None, :, None]) / (hi - lo)[None, :, None] * 2 - 1
        ok.append(bool(np.allclose(clean.reshape(want.shape), want, atol=1e-6)))
        ok.append(clean.dtype == np.float32)
    else:
        ok.append(np.array_equal(clean, xs[~bad]))
    if ys is not None:
        ok.append(np.array_equal(np.load(out[:-4] + ".labels.npy"), ys[~bad]))
        ok.append(np.array_equal(np.load(quarantine[:-4] + ".labels.npy"), ys[bad]))
    print(json.dumps([bool(v) for v in ok]))
    """#

  @Test func cleanRoundTripIsReadByNumpy() throws {
    let out = try makeTempDir()
    let npz = Self.dir + "/data_compressed.npz"
    var r = try CLI.run([
      "clean", npz, "--dataset", "x", "--labels", "y", "--num-classes", "3", "-o", out + "/a.npy", "-q",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    // An .npz input's quarantine is an .npy (datasan writes no .npz).
    #expect(FileManager.default.fileExists(atPath: out + "/a.quarantine.npy"))
    var checks = try numpy(Self.roundTripScript, [npz, "x", "y", out + "/a.npy", out + "/a.quarantine.npy", "1"], as: [Bool].self)
    #expect(!checks.isEmpty && checks.allSatisfy { $0 }, "\(checks)")

    let fortran = Self.dir + "/dtypes/float64_be_F.npy"
    r = try CLI.run(["clean", fortran, "--normalize", "none", "--loss", "none", "-o", out + "/f.npy", "-q"])
    #expect(r.status == 0, "\(r.stderr)")
    checks = try numpy(Self.roundTripScript, [fortran, "-", "-", out + "/f.npy", out + "/f.quarantine.npy", "0"], as: [Bool].self)
    #expect(!checks.isEmpty && checks.allSatisfy { $0 }, "\(checks)")
    #expect(!FileManager.default.fileExists(atPath: out + "/f.labels.npy"))

    // An existing labels output is refused without --force, and nothing is left behind.
    FileManager.default.createFile(atPath: out + "/b.labels.npy", contents: Data("keep".utf8))
    r = try CLI.run([
      "clean", Self.dir + "/x_train.npy", "--labels", Self.dir + "/y_train.npy", "--num-classes", "3", "-o", out + "/b.npy", "-q",
    ])
    #expect(r.status == 2)
    #expect(!FileManager.default.fileExists(atPath: out + "/b.npy"))
    #expect(try String(contentsOfFile: out + "/b.labels.npy", encoding: .utf8) == "keep")
    #expect(CLI.files(under: out).allSatisfy { !$0.contains("datasan-tmp") })
  }

  /// Hostile and unsupported inputs: exit 2, one line naming the file; never a crash.
  @Test func badInputsAreOneLine() throws {
    let out = try makeTempDir()
    var cases: [(String, String)] = [
      ("truncated.npy", "truncated"), ("huge_shape.npy", "needs 4000000000000000000 bytes"), ("header_cut.npy", "truncated"),
      ("object.npy", "never unpickles"), ("complex.npy", "complex"), ("strings.npy", "string dtype"),
      ("structured.npy", "structured dtype"),
    ].map { (Self.dir + "/" + $0.0, $0.1) }
    // Headers made here: a length past the file, a version numpy never wrote, garbage in the dict,
    // a negative and an overflowing shape, a dtype numpy has not.
    let valid = try Data(contentsOf: URL(fileURLWithPath: Self.dir + "/x_train.npy"))
    func header(_ dict: String, version: UInt8 = 1) -> Data {
      var d = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0])
      let body = Array((dict + "\n").utf8)
      d.append(contentsOf: [UInt8(body.count & 0xFF), UInt8(body.count >> 8)])
      d.append(contentsOf: body)
      return d + Data(count: 64)
    }
    var lengthPastFile = valid.prefix(200)
    lengthPastFile[8] = 0xFF
    lengthPastFile[9] = 0xFF
    let made: [(String, Data, String)] = [
      ("length.npy", lengthPastFile, "truncated"),
      ("version.npy", header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", version: 9), "version 9"),
      ("garbage.npy", header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), __import__('os')}"), "not a valid .npy header"),
      ("negative.npy", header("{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }"), "negative"),
      ("overflow.npy", header("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"), "overflows"),
      ("f3.npy", header("{'descr': '<f3', 'fortran_order': False, 'shape': (2,), }"), "dtype '<f3'"),
      ("scalar.npy", header("{'descr': '<f4', 'fortran_order': False, 'shape': (), }"), "0-d"),
    ]
    for (name, data, needle) in made {
      try data.write(to: URL(fileURLWithPath: out + "/" + name))
      cases.append((out + "/" + name, needle))
    }
    // An .npz cut in half has lost its directory; one whose member claims more than the file holds.
    let npz = try Data(contentsOf: URL(fileURLWithPath: Self.dir + "/data.npz"))
    try npz.prefix(npz.count / 2).write(to: URL(fileURLWithPath: out + "/cut.npz"))
    cases.append((out + "/cut.npz", "zip"))
    for (path, needle) in cases {
      let r = try CLI.run(["scan", path])
      #expect(r.status == 2, "\(path): \(r.stdout)")
      let lines = r.stderr.split(separator: "\n")
      #expect(lines.count == 1, "\(path): \(r.stderr)")
      #expect(r.stderr.contains(path) && r.stderr.contains(needle), "\(path): \(r.stderr)")
    }
    // An .npz with several arrays and no --dataset, and a label array that does not exist.
    var r = try CLI.run(["scan", Self.dir + "/mnist_like.npz"])
    #expect(r.status == 2 && r.stderr.contains("--dataset") && r.stderr.contains("x_train, y_train, x_test, y_test"))
    r = try CLI.run(["scan", Self.dir + "/mnist_like.npz", "--dataset", "x_train", "--labels", "labels"])
    #expect(r.status == 2 && r.stderr.contains("no label array 'labels'"), "\(r.stderr)")
    r = try CLI.run(["scan", Self.dir + "/mnist_like.npz", "--dataset", "x_test", "--labels", "y_train"])
    #expect(r.status == 2 && r.stderr.contains("hold 12 labels") && r.stderr.contains("8 samples"), "\(r.stderr)")
  }

  /// Corrupt compressed bytes inside an .npz: the rows that cannot be inflated are `unreadable`
  /// (or the whole input is refused in one line); never a crash.
  @Test func corruptDeflatedMember() throws {
    let out = try makeTempDir()
    var data = try Data(contentsOf: URL(fileURLWithPath: Self.dir + "/data_compressed.npz"))
    for i in 120..<160 { data[i] ^= 0x5A }  // inside the first member's deflate stream
    try data.write(to: URL(fileURLWithPath: out + "/bad.npz"))
    let r = try CLI.run(["scan", out + "/bad.npz", "--dataset", "x", "--labels", "y", "--report", out + "/r.json"])
    #expect(r.status == 1 || r.status == 2, "\(r.stderr)")
    if r.status == 2 { #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)") }
    if r.status == 1 { #expect(try Report.load(out + "/r.json").count("unreadable") > 0) }
  }

  /// Formats datasan does not read: named by their magic bytes in one line, never parsed as CSV
  /// (not even with --format csv).
  @Test func foreignFormatsAreNamed() throws {
    let expected = [
      "labels.pkl": "is a Python pickle", "notes.zip": "is a zip archive without NumPy arrays",
      "train.tfrecord": "is a TFRecord file", "table.parquet": "is a Parquet file", "table.feather": "is an Arrow IPC / Feather v2 file",
    ]
    #expect(Set(CLI.files(under: Self.dir + "/foreign")) == Set(expected.keys))
    for (name, needle) in expected {
      let path = Self.dir + "/foreign/" + name
      for extra in [[], ["--format", "csv"]] {
        let r = try CLI.run(["scan", path] + extra)
        #expect(r.status == 2, "\(name) \(extra): \(r.stdout)")
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains(needle), "\(name): \(r.stderr)")
        #expect(r.stderr.contains("datasan reads HDF5, LMDB, CSV, NPY and image folders"))
      }
    }
  }

  /// `datasan init` on an .npz writes the arrays it read; `datasan scan` with the file gives the same verdict.
  @Test func initWritesTheArrays() throws {
    let out = try makeTempDir()
    let npz = out + "/data.npz"
    try FileManager.default.copyItem(atPath: Self.dir + "/data.npz", toPath: npz)
    var r = try CLI.run(["init", "data.npz", "--dataset", "x", "--labels", "y"], cwd: out)
    #expect(r.status == 0, "\(r.stderr)")
    let yml = try String(contentsOfFile: out + "/datasan.yml", encoding: .utf8)
    #expect(yml.contains("dataset: x") && yml.contains("labels: \"y\"") && yml.contains("format: npy"), "\(yml)")
    r = try CLI.run(["scan"], cwd: out)
    #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout.contains("label_out_of_domain"))
  }
}
