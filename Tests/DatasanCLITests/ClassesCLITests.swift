import DatasanTestSupport
import Foundation
import Testing

/// Class names as data, through the whole pipeline, on Fixtures/classes (Fixtures/make_class_fixtures.py):
/// train/ (cat, dog, fish, 3 images each), val_deleted/ (no dog/), val_renamed/ (dog/ renamed doggo/),
/// val_extra/ (an extra bird/ and stray.png at the root), order/ (names that sort differently by locale,
/// numerically and by byte). What Python reads is the reference: the class order of torchvision's
/// `find_classes` (its code, run by python3: sorted names of the root's folders; torchvision 0.28's
/// ImageFolder gave the same classes and labels on these folders) and the HDF5 `classes` attribute as
/// h5py reads it.
@Suite struct ClassesCLITests {
  let root = CLI.fixture("classes")
  func folder(_ name: String) -> String { root + "/" + name }

  /// Runs a Python script with arguments; its stdout decoded as JSON.
  func python<T: Decodable>(_ script: String, _ arguments: [String], as: T.Type) throws -> T {
    let run = try Python.run(script, arguments)
    try #require(run.status == 0, "python3 failed (make pydeps installs h5py): \(run.stderr)")
    return try JSONDecoder().decode(T.self, from: run.stdout)
  }

  /// torchvision.datasets.folder.find_classes (0.28), and the number of files under each class.
  static let findClasses = #"""
    import json, os, sys
    root = sys.argv[1]
    classes = sorted(entry.name for entry in os.scandir(root) if entry.is_dir())
    counts = [sum(len(files) for _, _, files in os.walk(os.path.join(root, c))) for c in classes]
    print(json.dumps({"classes": classes, "counts": counts}))
    """#

  /// The label dataset of an HDF5 file as h5py reads it: its `classes` attribute and its values.
  static let readH5 = #"""
    import json, sys, h5py
    with h5py.File(sys.argv[1], "r") as f:
        label = f["label"]
        classes = list(label.attrs["classes"]) if "classes" in label.attrs else None
        if classes is not None:
            assert all(isinstance(c, str) for c in classes), [type(c) for c in classes]
        print(json.dumps({"classes": classes, "labels": [int(x) for x in label[...]]}))
    """#

  struct FoundClasses: Decodable { var classes: [String]; var counts: [Int] }
  struct LabelDataset: Decodable { var classes: [String]?; var labels: [Int] }

  /// The class members of the JSON report (beyond what ``Report`` decodes).
  struct ClassReport: Decodable {
    struct Labels: Decodable { var classes: [String]?; var class_counts: [String: Int]?; var histogram: [String: Int] }
    struct Stats: Decodable { var labels: Labels? }
    var stats: Stats
    static func load(_ path: String) throws -> ClassReport {
      try JSONDecoder().decode(ClassReport.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }
  }

  @Test func imageFolderClassesAreTorchvisionsFindClasses() throws {
    let dir = try makeTempDir()
    for name in ["order", "train", "val_renamed"] {
      let expected = try python(Self.findClasses, [folder(name)], as: FoundClasses.self)
      let r = try CLI.run(["scan", folder(name), "--no-config", "--report", dir + "/\(name).json"])
      #expect(r.status == 0, "\(r.stderr)")
      let report = try ClassReport.load(dir + "/\(name).json")
      #expect(report.stats.labels?.classes == expected.classes)
      var byName: [String: Int] = [:]
      for (c, n) in zip(expected.classes, expected.counts) { byName[c] = n }
      #expect(report.stats.labels?.class_counts == byName)
      // The labels are the indexes in that order.
      let histogram = Dictionary(uniqueKeysWithValues: expected.counts.enumerated().map { (String($0), $1) })
      #expect(report.stats.labels?.histogram == histogram)
      #expect(r.stdout.contains("classes: \(expected.classes.count) (\(expected.classes.joined(separator: ", ")))"))
    }
  }

  @Test func hdf5OutputKeepsTheClassListForH5pyAndForTheNextScan() throws {
    let dir = try makeTempDir()
    let r = try CLI.run(["clean", folder("train"), "-o", dir + "/t.h5", "--no-config"])
    #expect(r.status == 0, "\(r.stderr)")
    let h5 = try python(Self.readH5, [dir + "/t.h5"], as: LabelDataset.self)
    #expect(h5.classes == ["cat", "dog", "fish"])
    #expect(h5.labels == [0, 0, 0, 1, 1, 1, 2, 2, 2])
    // Read back: the HDF5 file names its classes in the reports.
    let scan = try CLI.run(["scan", dir + "/t.h5", "--no-config", "--report", dir + "/r.json"])
    #expect(scan.status == 0, "\(scan.stderr)")
    #expect(try ClassReport.load(dir + "/r.json").stats.labels?.classes == ["cat", "dog", "fish"])
    // A class list that is not the file's: its labels mean other classes.
    let other = try CLI.run(["scan", dir + "/t.h5", "--no-config", "--classes", "cat,fish,dog"])
    #expect(other.status == 2)
    #expect(other.stderr.split(separator: "\n").count == 1 && other.stderr.contains("t.h5") && other.stderr.contains("cat, dog, fish"))
  }

  @Test func deletedFolderShiftsImageFolderLabelsButNotAGivenList() throws {
    let dir = try makeTempDir()
    // ImageFolder alone: fish becomes 1 (torchvision does the same), and nothing says so.
    let plain = try CLI.run(["clean", folder("val_deleted"), "-o", dir + "/plain.h5", "--no-config"])
    #expect(plain.status == 0, "\(plain.stderr)")
    #expect(try python(Self.readH5, [dir + "/plain.h5"], as: LabelDataset.self).labels == [0, 0, 1, 1])
    // With the list: fish stays 2 and dog is class_missing, by name.
    let given = ["--classes", "cat,dog,fish", "--no-config"]
    let r = try CLI.run(["clean", folder("val_deleted"), "-o", dir + "/v.h5", "--report", dir + "/r.json"] + given)
    #expect(r.status == 0, "\(r.stderr)")
    let h5 = try python(Self.readH5, [dir + "/v.h5"], as: LabelDataset.self)
    #expect(h5.labels == [0, 0, 2, 2] && h5.classes == ["cat", "dog", "fish"])
    let report = try Report.load(dir + "/r.json")
    #expect(report.count("class_missing") == 1)
    let missing = try #require(report.issues.first { $0.kind == "class_missing" })
    #expect(missing.detail.contains("1 'dog'") && missing.detail.contains("no folder 'dog'"))
    // The gate: a warning passes, --fail-on class_missing fails it.
    #expect(try CLI.run(["scan", folder("val_deleted")] + given).status == 0)
    let gate = try CLI.run(["scan", folder("val_deleted"), "--fail-on", "class_missing", "--junit", dir + "/j.xml"] + given)
    #expect(gate.status == 1)
    let junit = try String(contentsOfFile: dir + "/j.xml", encoding: .utf8)
    #expect(junit.contains(#"<property name="classes" value="cat,dog,fish"/>"#))
    #expect(junit.contains(#"<failure type="class_missing""#) && junit.contains("no folder &apos;dog&apos;"))
    // An image folder output keeps every class folder of the list (dog/ empty): find_classes on it
    // gives the list, so ImageFolder labels it the same (torchvision refuses the empty class, loudly).
    let copy = try CLI.run([
      "clean", folder("val_deleted"), "-o", dir + "/copy", "--output-format", "png", "--normalize", "none",
    ] + given)
    #expect(copy.status == 0, "\(copy.stderr)")
    #expect(try python(Self.findClasses, [dir + "/copy"], as: FoundClasses.self).classes == ["cat", "dog", "fish"])
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/copy/dog").isEmpty)
  }

  @Test func renamedFolderIsUnknownClassAndQuarantined() throws {
    let dir = try makeTempDir()
    let given = ["--classes", "cat,dog,fish", "--no-config"]
    let scan = try CLI.run(["scan", folder("val_renamed"), "--report", dir + "/r.json", "--junit", dir + "/j.xml"] + given)
    #expect(scan.status == 1)
    let report = try Report.load(dir + "/r.json")
    #expect(report.count("unknown_class") == 2 && report.samples.flagged == 2)
    let unknown = report.issues.filter { $0.kind == "unknown_class" }
    #expect(unknown.map(\.key) == ["doggo/doggo_0.png", "doggo/doggo_1.png"])
    #expect(unknown.allSatisfy { $0.severity == "error" && $0.field == "label" && $0.detail.contains("'doggo'") })
    #expect(report.issues.contains { $0.kind == "class_missing" && $0.detail.contains("'dog'") })
    #expect(try String(contentsOfFile: dir + "/j.xml", encoding: .utf8).contains(#"<failure type="unknown_class""#))
    // Policy: tolerated within --max-flagged-fraction, unless fail_on names the kind.
    #expect(try CLI.run(["scan", folder("val_renamed"), "--max-flagged-fraction", "0.5"] + given).status == 0)
    #expect(
      try CLI.run(["scan", folder("val_renamed"), "--max-flagged-fraction", "0.5", "--fail-on", "unknown_class"] + given)
        .status == 1)
    // clean: the doggo files go to the quarantine unchanged; the rest keep the list's labels.
    let clean = try CLI.run(["clean", folder("val_renamed"), "-o", dir + "/v.h5"] + given)
    #expect(clean.status == 0, "\(clean.stderr)")
    #expect(try python(Self.readH5, [dir + "/v.h5"], as: LabelDataset.self).labels == [0, 0, 2, 2])
    for f in ["doggo/doggo_0.png", "doggo/doggo_1.png"] {
      #expect(FileManager.default.contentsEqual(atPath: dir + "/v.quarantine/" + f, andPath: folder("val_renamed") + "/" + f))
    }
    let reasons = try Reason.load(dir + "/v.quarantine.reasons.jsonl")
    #expect(reasons.map(\.key) == ["doggo/doggo_0.png", "doggo/doggo_1.png"] && reasons.allSatisfy { $0.kinds == ["unknown_class"] })
  }

  @Test func filesOutsideTheListedFoldersAreUnknownClass() throws {
    let dir = try makeTempDir()
    let r = try CLI.run(["scan", folder("val_extra"), "--classes", "cat,dog,fish", "--no-config", "--report", dir + "/r.json"])
    #expect(r.status == 1)
    let report = try Report.load(dir + "/r.json")
    #expect(report.issues.filter { $0.kind == "unknown_class" }.map(\.key) == ["bird/bird_0.png", "stray.png"])
    #expect(report.count("class_missing") == 0)
    // Every class of the list is named in the label counts.
    #expect(try ClassReport.load(dir + "/r.json").stats.labels?.class_counts == ["cat": 1, "dog": 1, "fish": 1])
  }

  @Test func classesAndNumClassesThatDisagreeIsExit2() throws {
    for arguments in [
      ["--classes", "cat,dog", "--num-classes", "3"], ["--classes", "cat,dog,cat"], ["--classes", "cat,,dog"],
    ] {
      let r = try CLI.run(["scan", folder("train"), "--no-config"] + arguments)
      #expect(r.status == 2)
      #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("--classes"), "\(r.stderr)")
    }
    #expect(try CLI.run(["scan", folder("train"), "--no-config", "--classes", "cat,dog,fish", "--num-classes", "3"]).status == 0)
  }

  @Test func statsFileCarriesTheClassListToTheValidationSet() throws {
    let dir = try makeTempDir()
    let train = try CLI.run(["clean", folder("train"), "-o", dir + "/t.h5", "--stats-out", dir + "/s.json", "--no-config"])
    #expect(train.status == 0, "\(train.stderr)")
    struct Stats: Decodable { var classes: [String]? }
    let stats = try JSONDecoder().decode(Stats.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/s.json")))
    #expect(stats.classes == ["cat", "dog", "fish"])
    // The validation folder without dog/ is labelled by the training set's list.
    let val = try CLI.run([
      "clean", folder("val_deleted"), "-o", dir + "/v.h5", "--stats-in", dir + "/s.json", "--no-config", "--report",
      dir + "/r.json",
    ])
    #expect(val.status == 0, "\(val.stderr)")
    #expect(try python(Self.readH5, [dir + "/v.h5"], as: LabelDataset.self).labels == [0, 0, 2, 2])
    #expect(try Report.load(dir + "/r.json").issues.contains { $0.kind == "class_missing" && $0.detail.contains("'dog'") })
    // A --classes that is not the file's: one line, nothing written.
    let other = try CLI.run([
      "clean", folder("val_deleted"), "-o", dir + "/w.h5", "--stats-in", dir + "/s.json", "--classes", "cat,fish",
      "--no-config",
    ])
    #expect(other.status == 2 && other.stderr.split(separator: "\n").count == 1 && other.stderr.contains("s.json"))
    #expect(!FileManager.default.fileExists(atPath: dir + "/w.h5"))
  }

  @Test func initWritesTheClassesAndTheGateUsesThem() throws {
    let dir = try makeTempDir()
    let initRun = try CLI.run(["init", folder("train")], cwd: dir)
    #expect(initRun.status == 0, "\(initRun.stderr)")
    let yml = try String(contentsOfFile: dir + "/datasan.yml", encoding: .utf8)
    #expect(yml.contains("classes: [cat, dog, fish]"))
    #expect(!yml.contains("\nnum_classes:"))
    // The gate over the training set passes; the renamed folder fails it.
    #expect(try CLI.run(["scan"], cwd: dir).status == 0)
    let renamed = try CLI.run(["scan", folder("val_renamed"), "--report", dir + "/r.json"], cwd: dir)
    #expect(renamed.status == 1)
    #expect(try Report.load(dir + "/r.json").count("unknown_class") == 2)
    // The command line wins over the file.
    #expect(try CLI.run(["scan", folder("val_renamed"), "--classes", "cat,doggo,fish"], cwd: dir).status == 0)
  }

  /// A given list names the labels of any input: a CSV's labels 0, 1 and 3 of --classes a,b,c,d.
  @Test func aGivenListNamesTheLabelsOfOtherFormats() throws {
    let dir = try makeTempDir()
    let labels = [0, 0, 1, 1, 3, 3]
    try writeCSV(dir + "/t.csv", header: "x,label\n", rows: labels.count) { "\(Double($0) / 10),\(labels[$0])\n" }
    let given = ["--classes", "a,b,c,d", "--no-config"]
    let r = try CLI.run(["clean", dir + "/t.csv", "-o", dir + "/t.h5", "--report", dir + "/r.json"] + given)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("classes: 4 (a, b, c, d)"))
    let report = try Report.load(dir + "/r.json")
    #expect(report.issues.filter { $0.kind == "class_missing" }.map(\.detail) == ["class 2 'c' of --classes has no sample"])
    #expect(try ClassReport.load(dir + "/r.json").stats.labels?.class_counts == ["a": 2, "b": 2, "c": 0, "d": 2])
    let h5 = try python(Self.readH5, [dir + "/t.h5"], as: LabelDataset.self)
    #expect(h5.classes == ["a", "b", "c", "d"] && h5.labels == labels)
    // A label beyond the list is outside the domain, and says which list.
    let short = try CLI.run(["scan", dir + "/t.csv", "--classes", "a,b,c", "--no-config", "--report", dir + "/s.json"])
    #expect(short.status == 1)
    let out = try Report.load(dir + "/s.json").issues.filter { $0.kind == "label_out_of_domain" }
    #expect(out.count == 2 && out.allSatisfy { $0.detail.contains("not below the 3 classes (a, b, c;") })
  }

  @Test func htmlLabelChartIsLabelledByName() throws {
    let dir = try makeTempDir()
    let r = try CLI.run([
      "scan", folder("val_deleted"), "--classes", "cat,dog,fish", "--no-config", "--html", dir + "/r.html",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    let html = try String(contentsOfFile: dir + "/r.html", encoding: .utf8)
    #expect(html.contains(#"data-class="1" data-name="dog""#))
    #expect(html.contains("<title>class 1 'dog': absent</title>"))
    for name in ["cat", "dog", "fish"] { #expect(html.contains("text-anchor=\"middle\">\(name)</text>")) }
  }
}
