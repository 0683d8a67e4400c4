import Foundation
import DatasanTestSupport
import Testing

/// Labels as users store them (Fixtures/make_label_fixtures.py): iris with its species as class names,
/// the whole pipeline against what numpy / pandas find by hand (`np.unique(..., return_inverse=True)`
/// is what scikit-learn's LabelEncoder does), and the summary naming the label source.
@Suite struct LabelsCLITests {
  let iris = CLI.fixture("labels/iris_species.csv")

  struct LabelReport: Decodable {
    struct LabelSource: Decodable { var source: String?; var encoding: String?; var checked: Bool }
    struct Input: Decodable { var labels: LabelSource }
    struct Labels: Decodable { var histogram: [String: Int]; var classes: [String]?; var class_counts: [String: Int]? }
    struct Stats: Decodable { var labels: Labels? }
    var input: Input
    var stats: Stats
    var counts: [String: Int]
    var issues: [Report.Issue]
    var passed: Bool

    static func load(_ path: String) throws -> LabelReport {
      try JSONDecoder().decode(LabelReport.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }
  }

  func python<T: Decodable>(_ script: String, _ arguments: [String], as type: T.Type) throws -> T {
    let run = try Python.run(script, arguments)
    try #require(run.status == 0, "python3 (numpy / pandas / h5py) failed (make pydeps installs them): \(run.stderr)")
    return try JSONDecoder().decode(T.self, from: run.stdout)
  }

  /// What LabelEncoder makes of a CSV's label column: the sorted classes, each row's index (-1 for a
  /// missing label), the classes' counts.
  struct Encoded: Decodable { var classes: [String]; var codes: [Int]; var counts: [String: Int]; var missing: Int }
  static let encodeScript = #"""
    import json, sys
    import numpy as np
    import pandas as pd
    path, column = sys.argv[1], sys.argv[2]
    labels = pd.read_csv(path)[column]
    present = labels.dropna().astype(str)
    classes, codes = np.unique(present.to_numpy(), return_inverse=True)  # LabelEncoder.fit_transform
    all_codes = [-1] * len(labels)
    for position, code in zip(np.flatnonzero(labels.notna().to_numpy()), codes):
        all_codes[position] = int(code)
    print(json.dumps({"classes": [str(c) for c in classes], "codes": all_codes,
                      "counts": {str(k): int(v) for k, v in present.value_counts().items()},
                      "missing": int(labels.isna().sum())}))
    """#

  @Test func irisSpeciesAreClassesSortedAsLabelEncoder() throws {
    let dir = try makeTempDir()
    let r = try CLI.run(["scan", iris, "--label-column", "species", "--report", dir + "/r.json"])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout.contains("  labels: column 'species' (class names, mapped to indices in sorted order"))
    let report = try LabelReport.load(dir + "/r.json")
    let expected = try python(Self.encodeScript, [iris, "species"], as: Encoded.self)
    #expect(report.input.labels.checked && report.input.labels.encoding == "class_names")
    #expect(report.input.labels.source?.hasPrefix("column 'species'") == true)
    let labels = try #require(report.stats.labels)
    #expect(labels.classes == expected.classes)
    #expect(labels.class_counts == expected.counts)
    #expect(labels.histogram == Dictionary(uniqueKeysWithValues: expected.classes.enumerated().map { (String($0), expected.counts[$1]!) }))
    #expect(report.passed)
  }

  @Test func givenClassesOrderTheIndicesAndFlagOthers() throws {
    let dir = try makeTempDir()
    let expected = try python(Self.encodeScript, [iris, "species"], as: Encoded.self)
    // A list that leaves setosa out: its rows are unknown_class, as many as pandas counts.
    let partial = try CLI.run([
      "scan", iris, "--label-column", "species", "--classes", "virginica,versicolor", "--report", dir + "/p.json",
    ])
    #expect(partial.status == 1)
    #expect(partial.stdout.contains("in the order of --classes"))
    let p = try LabelReport.load(dir + "/p.json")
    #expect(p.counts["unknown_class"] == expected.counts["setosa"])
    #expect(p.issues.first { $0.kind == "unknown_class" }?.detail.contains("label 'setosa' in column 'species'") == true)
    #expect(p.stats.labels?.classes == ["virginica", "versicolor"])
    #expect(p.stats.labels?.histogram == ["0": expected.counts["virginica"]!, "1": expected.counts["versicolor"]!])
    // The whole list in another order: label i is its class i, written so to HDF5 with the names.
    let out = dir + "/out.h5"
    let clean = try CLI.run([
      "clean", iris, "--label-column", "species", "--classes", "virginica,setosa,versicolor", "-o", out,
    ])
    #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
    struct H5: Decodable { var labels: [Int]; var classes: [String]; var dtype: String }
    let h5 = try python(
      #"""
      import json, sys, h5py
      with h5py.File(sys.argv[1], "r") as f:
          d = f["label"]
          print(json.dumps({"labels": [int(v) for v in d[:]], "dtype": str(d.dtype),
                            "classes": [c.decode() if isinstance(c, bytes) else str(c) for c in d.attrs["classes"]]}))
      """#, [out], as: H5.self)
    #expect(h5.classes == ["virginica", "setosa", "versicolor"])
    #expect(h5.dtype == "int64")
    let order = ["virginica", "setosa", "versicolor"]
    #expect(h5.labels == expected.codes.map { order.firstIndex(of: expected.classes[$0])! })
  }

  @Test func missingAndUnseenNamesAgainstPandas() throws {
    let dir = try makeTempDir()
    // A user's edit of iris: two species erased (one empty, one NA), one misspelt ('Setosa'), one row
    // with a non-number measurement.
    let damaged = dir + "/iris_damaged.csv"
    let made = try Python.run(
      #"""
      import sys
      import pandas as pd
      df = pd.read_csv(sys.argv[1])
      df["sepal_width"] = df["sepal_width"].astype(object)
      df.loc[3, "species"] = ""
      df.loc[60, "species"] = "NA"
      df.loc[7, "species"] = "Setosa"
      df.to_csv(sys.argv[2], index=False)
      """#, [iris, damaged])
    try #require(made.status == 0, "\(made.stderr)")
    let expected = try python(Self.encodeScript, [damaged, "species"], as: Encoded.self)
    #expect(expected.missing == 2 && expected.classes.count == 4)
    let out = dir + "/clean.csv"
    let r = try CLI.run([
      "clean", damaged, "--label-column", "species", "--normalize", "none", "-o", out, "--report", dir + "/r.json",
    ])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")  // clean wrote its outputs; the input's verdict is FAIL
    #expect(r.stdout.contains("FAIL: 2 flagged samples"))
    let report = try LabelReport.load(dir + "/r.json")
    // The class list is every name pandas sees (the misspelt one too: LabelEncoder would make it a class).
    #expect(report.stats.labels?.classes == expected.classes)
    #expect(report.counts["nan_value"] == expected.missing)
    #expect(report.stats.labels?.class_counts == expected.counts)
    // The CSV output keeps the names as they were, for every clean row.
    struct Kept: Decodable { var species: [String] }
    let kept = try python(
      #"""
      import json, sys
      import pandas as pd
      print(json.dumps({"species": pd.read_csv(sys.argv[1])["species"].astype(str).tolist()}))
      """#, [out], as: Kept.self)
    let names = expected.codes.filter { $0 >= 0 }.map { expected.classes[$0] }
    #expect(kept.species == names)
  }

  @Test func noLabelsSaysSo() throws {
    let dir = try makeTempDir()
    let r = try CLI.run(["scan", iris, "--report", dir + "/r.json"])
    #expect(r.status == 0)
    #expect(r.stdout.contains("  labels: none, not checked"))
    let report = try LabelReport.load(dir + "/r.json")
    #expect(!report.input.labels.checked && report.input.labels.source == nil)
    // An HDF5 label dataset is named as its source.
    let h5 = try CLI.run(["scan", CLI.fixture("labels/digits_onehot.h5"), "--dataset", "x_train", "--labels", ""])
    #expect(h5.stdout.contains("  labels: none, not checked"), "\(h5.stdout)\(h5.stderr)")
  }

  @Test func textIdsAreNoClassList() throws {
    let r = try CLI.run(["scan", CLI.fixture("csv/text_columns.csv"), "--label-column", "id"])
    #expect(r.status == 2)
    #expect(r.stderr.contains("the label column 'id' is text without a repeated value"))
  }
}

/// Keras-style one-hot and soft labels (N, K) in HDF5, against numpy.
@Suite struct OneHotLabelsCLITests {
  let digits = CLI.fixture("labels/digits_onehot.h5")

  struct Verdicts: Decodable { var argmax: [Int: Int]; var outside: [Int]; var nan: [Int] }
  /// Copies the fixture with some label rows changed and says, by numpy, what each loss must flag.
  static let damageScript = #"""
    import json, sys
    import h5py
    import numpy as np
    src, out, loss = sys.argv[1], sys.argv[2], sys.argv[3]
    with h5py.File(src, "r") as f:
        x, y = f["x_train"][:], f["y_train"][:].copy()
    y[5] = 0.09; y[5, 3] = 0.1           # soft, sums to 0.91
    y[9] = 0; y[9, 2] = -0.1; y[9, 3] = 1.1  # sums to 1, entries outside [0, 1]
    y[12] = 0.1                          # soft, a distribution (float32 0.1 x 10)
    y[14] = 0; y[14, 1] = 1; y[14, 7] = 1  # multi-label: fine for binary, not a distribution
    y[20, 0] = np.nan
    with h5py.File(out, "w") as f:
        f["x_train"] = x
        f["y_train"] = y
    d = y.astype(np.float64)
    nan = np.isnan(d).any(axis=1)
    inside = ((d >= 0) & (d <= 1)).all(axis=1)
    bad = ~inside if loss == "binary" else ~inside | (np.abs(d.sum(axis=1) - 1) > 1e-6)
    clean = ~nan & ~bad
    counts = np.bincount(np.argmax(np.nan_to_num(d[clean], nan=-1), axis=1), minlength=y.shape[1])
    print(json.dumps({"argmax": {str(k): int(v) for k, v in enumerate(counts) if v},
                      "outside": [int(i) for i in np.flatnonzero(bad & ~nan)], "nan": [int(i) for i in np.flatnonzero(nan)]}))
    """#

  func verdicts(_ loss: String, _ dir: String) throws -> (String, Verdicts) {
    let copy = dir + "/soft_\(loss).h5"
    let run = try Python.run(Self.damageScript, [digits, copy, loss])
    try #require(run.status == 0, "python3 (numpy / h5py) failed: \(run.stderr)")
    return (copy, try JSONDecoder().decode(Verdicts.self, from: run.stdout))
  }

  @Test func oneHotCountsByArgmax() throws {
    let dir = try makeTempDir()
    let r = try CLI.run(["scan", digits, "--dataset", "x_train", "--labels", "y_train", "--report", dir + "/r.json"])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout.contains("  labels: dataset 'y_train' (one-hot / soft: 10 entries per sample"))
    let report = try Report.load(dir + "/r.json")
    let counts = try Python.run(
      #"""
      import json, sys, h5py, numpy as np
      y = h5py.File(sys.argv[1], "r")["y_train"][:]
      print(json.dumps({str(k): int(v) for k, v in enumerate(np.bincount(y.argmax(axis=1))) if v}))
      """#, [digits])
    let expected = try JSONDecoder().decode([String: Int].self, from: counts.stdout)
    #expect(report.stats.labels?.histogram == expected)
    // A class list of another length is refused in one line.
    let wrong = try CLI.run(["scan", digits, "--dataset", "x_train", "--labels", "y_train", "--classes", "a,b,c"])
    #expect(wrong.status == 2 && wrong.stderr.contains("10 entries per sample but the class list names 3"))
  }

  @Test func softLabelsJudgedPerLossAndWrittenBack() throws {
    let dir = try makeTempDir()
    for loss in ["cross-entropy", "binary"] {
      let (copy, expected) = try verdicts(loss, dir)
      let out = dir + "/out_\(loss).h5"
      let r = try CLI.run([
        "clean", copy, "--dataset", "x_train", "--labels", "y_train", "--loss", loss, "--normalize", "none", "-o", out,
        "--report", dir + "/\(loss).json",
      ])
      #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
      let report = try Report.load(dir + "/\(loss).json")
      func keys(_ kind: String) -> [Int] { report.issues.filter { $0.kind == kind }.compactMap(\.index).sorted() }
      #expect(keys("label_out_of_domain") == expected.outside, "\(loss)")
      #expect(keys("nan_value") == expected.nan, "\(loss)")
      #expect(report.stats.labels?.histogram == Dictionary(uniqueKeysWithValues: expected.argmax.map { (String($0), $1) }))
      // The output holds the clean rows' label vectors unchanged, (N, K) float32 as they came.
      let back = try Python.run(
        #"""
        import json, sys, h5py, numpy as np
        src, out, flagged = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
        y = h5py.File(src, "r")["y_train"][:]
        z = h5py.File(out, "r")["y_train"]
        keep = np.delete(y, flagged, axis=0)
        print(json.dumps({"same": bool(z.shape == keep.shape and z.dtype == y.dtype and np.array_equal(z[:], keep))}))
        """#, [copy, out, "\((expected.outside + expected.nan).sorted())"])
      #expect(String(decoding: back.stdout, as: UTF8.self).contains("\"same\": true"), "\(loss): \(back.stderr)")
    }
  }
}
