import DatasanTestSupport
import Foundation
import Testing

/// Images of varying sizes (issue 12 item 4) through the whole pipeline, on real photos
/// (Fixtures/sizes: scikit-image's and matplotlib's sample photos at 8 sizes, PNG and JPEG; see
/// Fixtures/make_sizes_fixtures.py): `--shape any` / `--shape 3,any,any`, the size distribution in
/// the summary, the JSON and the HTML report, `init`'s proposal, `clean` to LMDB (a shape per
/// record) and back, and the one-line refusals (HDF5, `--caffe-mean`). The expected numbers are
/// numpy's over what Pillow decodes (datasan's JPEG values are Pillow's), computed by a script here.
@Suite(.serialized) struct SizesCLITests {
  static let folder = CLI.fixture("sizes")

  /// Prints, as JSON, the per-channel statistics of the colour images of a folder (RGB, Pillow) and
  /// the size distribution of all of them; with an LMDB path, also each record's shape and values
  /// (raw `data` C x H x W, or an encoded image decoded by Pillow), keyed by the LMDB key.
  static let script = #"""
    import json, os, sys
    import numpy as np
    from PIL import Image

    folder = sys.argv[1]
    files = {}
    for root, _, names in os.walk(folder):
        for name in names:
            if name.lower().endswith((".png", ".jpg", ".jpeg")):
                path = os.path.join(root, name)
                a = np.asarray(Image.open(path))
                chw = a[None, :, :] if a.ndim == 2 else a.transpose(2, 0, 1)
                files[os.path.relpath(path, folder).replace(os.sep, "/")] = chw
    sizes = {}
    for chw in files.values():
        key = "x".join(map(str, chw.shape))
        sizes[key] = sizes.get(key, 0) + 1
    colour = [chw for chw in files.values() if chw.shape[0] == 3]
    stats = []
    for c in range(3):
        v = np.concatenate([chw[c].ravel() for chw in colour]).astype(np.float64)
        stats.append({"count": int(v.size), "min": float(v.min()), "max": float(v.max()),
                      "mean": float(v.mean()), "std": float(v.std())})
    out = {"stats": stats, "sizes": sizes, "shapes": {k: list(v.shape) for k, v in files.items()}}
    if len(sys.argv) > 2:
        import io, re, lmdb
        from caffe_datum import fields as datum_fields
        records, equal = {}, {}
        env = lmdb.open(sys.argv[2], readonly=True, lock=False)
        with env.begin() as txn:
            for key, value in txn.cursor():
                fields = datum_fields(value)
                if fields.get(7):
                    a = np.asarray(Image.open(io.BytesIO(fields[4])))
                    chw = a[None, :, :] if a.ndim == 2 else a.transpose(2, 0, 1)
                else:
                    shape = (fields.get(1, 0), fields.get(2, 0), fields.get(3, 0))
                    chw = np.frombuffer(fields[4], np.uint8).reshape(shape)
                # Keys as convert_imageset writes them: the input position, "_", the path.
                k = re.sub(r"^[0-9]{8}_", "", key.decode())
                records[k] = list(chw.shape)
                equal[k] = bool(k in files and files[k].shape == chw.shape and (files[k] == chw).all())
        out["lmdb"] = {"shapes": records, "equal": equal}
    print(json.dumps(out))
    """#

  struct Expected: Decodable {
    struct Channel: Decodable { var count: Int; var min: Double; var max: Double; var mean: Double; var std: Double }
    struct Records: Decodable { var shapes: [String: [Int]]; var equal: [String: Bool] }
    var stats: [Channel]
    var sizes: [String: Int]
    var shapes: [String: [Int]]
    var lmdb: Records?
  }

  static func expected(lmdb: String? = nil) throws -> Expected {
    let run = try Python.run(script, [folder] + (lmdb.map { [$0] } ?? []))
    try #require(run.status == 0, "the numpy script failed (make test installs numpy, Pillow and lmdb): \(run.stderr)")
    return try JSONDecoder().decode(Expected.self, from: run.stdout)
  }

  /// The JSON report's `stats.sizes`.
  struct Sizes: Decodable {
    struct Size: Decodable, Equatable { var shape: [Int]; var count: Int }
    struct Stats: Decodable { var sizes: SizesField? }
    struct SizesField: Decodable { var distinct: Int; var samples: Int; var smallest: Size; var largest: Size; var most_common: [Size] }
    var stats: Stats

    static func load(_ path: String) throws -> SizesField {
      try #require(try JSONDecoder().decode(Sizes.self, from: Data(contentsOf: URL(fileURLWithPath: path))).stats.sizes)
    }
  }

  static func expectStats(_ report: Report, _ e: Expected, _ what: String) {
    #expect(report.stats.groups.count == 3, "\(what)")
    for (g, x) in zip(report.stats.groups, e.stats) {
      #expect(g.count == x.count, "\(what) \(g.name) count \(g.count) vs \(x.count)")
      #expect(g.min == x.min && g.max == x.max, "\(what) \(g.name)")
      #expect(abs((g.mean ?? .nan) - x.mean) < 1e-9, "\(what) \(g.name) mean \(g.mean ?? .nan) vs \(x.mean)")
      #expect(abs((g.std ?? .nan) - x.std) < 1e-9, "\(what) \(g.name) std \(g.std ?? .nan) vs \(x.std)")
    }
  }

  static func expectSizes(_ s: Sizes.SizesField, _ e: Expected, decoded: Int, _ what: String) {
    #expect(s.distinct == e.sizes.count && s.samples == decoded, "\(what)")
    let counted = Dictionary(uniqueKeysWithValues: s.most_common.map { ($0.shape.map(String.init).joined(separator: "x"), $0.count) })
    #expect(counted == e.sizes, "\(what): \(counted) vs \(e.sizes)")
    let values = { (k: String) in k.split(separator: "x").map { Int($0)! }.reduce(1, *) }
    let smallest = e.sizes.keys.min { values($0) < values($1) }!
    let largest = e.sizes.keys.max { values($0) < values($1) }!
    #expect(s.smallest.shape.map(String.init).joined(separator: "x") == smallest, "\(what)")
    #expect(s.largest.shape.map(String.init).joined(separator: "x") == largest, "\(what)")
    #expect(s.most_common.first.map { $0.count } == e.sizes.values.max(), "\(what)")
  }

  /// `--shape 3,any,any`: every colour photo passes whatever its size, the statistics are numpy's
  /// over all their pixels, the gray one is the only shape_mismatch; the size distribution is in the
  /// summary and the report. Plain `--shape any` takes the channels from the first image (here the
  /// gray one), and without `--shape` every other size is shape_mismatch, as before.
  @Test func scanAcceptsEverySize() throws {
    let e = try Self.expected()
    let dir = try makeTempDir()
    let r = try CLI.run(["scan", Self.folder, "--shape", "3,any,any", "--report", dir + "/r.json"])
    #expect(r.status == 1, "\(r.stderr)")
    let report = try Report.load(dir + "/r.json")
    #expect(report.samples.total == 14 && report.samples.flagged == 1)
    #expect(report.count("shape_mismatch") == 1)
    let mismatch = report.issues.filter { $0.kind == "shape_mismatch" }
    #expect(mismatch.map(\.key) == ["earth/camera_gray.png"])
    #expect(mismatch.first?.detail.contains("does not match --shape 3,any,any") == true)
    Self.expectStats(report, e, "--shape 3,any,any")
    Self.expectSizes(try Sizes.load(dir + "/r.json"), e, decoded: 14, "--shape 3,any,any")
    #expect(r.stdout.contains("  sizes: 8 sizes over 14 decoded samples; smallest 1x40x40 (1), largest 3x64x64 (1), most common 3x40x60 (4), 3x48x48 (3), 3x56x42 (2)"), "\(r.stdout)")

    // H x W x C: the same channels, the same numbers.
    let last = try CLI.run(
      ["scan", Self.folder, "--channel-axis", "last", "--shape", "any,any,3", "--report", dir + "/l.json"])
    #expect(last.status == 1, "\(last.stderr)")
    let lastReport = try Report.load(dir + "/l.json")
    #expect(lastReport.samples.flagged == 1 && lastReport.count("shape_mismatch") == 1)
    Self.expectStats(lastReport, e, "--channel-axis last --shape any,any,3")

    let plain = try CLI.run(["scan", Self.folder, "--shape", "any", "--report", dir + "/p.json"])
    #expect(plain.status == 1)
    let p = try Report.load(dir + "/p.json")
    #expect(p.count("shape_mismatch") == 13)
    #expect(p.issues.first { $0.kind == "shape_mismatch" }?.detail.contains("--shape any accepts every size, not another number of channels") == true)

    let none = try CLI.run(["scan", Self.folder, "--report", dir + "/n.json"])
    #expect(none.status == 1)
    #expect(try Report.load(dir + "/n.json").count("shape_mismatch") == 13)
    Self.expectSizes(try Sizes.load(dir + "/n.json"), e, decoded: 14, "no --shape")
  }

  /// The HTML report draws the size distribution: one bar per size with its count.
  @Test func htmlChartOfSizes() throws {
    let e = try Self.expected()
    let dir = try makeTempDir()
    let r = try CLI.run(["scan", Self.folder, "--shape", "3,any,any", "--html", dir + "/r.html"])
    #expect(r.status == 1, "\(r.stderr)")
    let html = try String(contentsOfFile: dir + "/r.html", encoding: .utf8)
    #expect(html.contains("<section id=\"sizes\">") && html.contains("id=\"size-chart\""))
    var bars: [String: Int] = [:]
    for part in html.components(separatedBy: "data-size=\"").dropFirst() {
      let size = String(part.prefix { $0 != "\"" })
      let count = part.components(separatedBy: "data-count=\"")[1].prefix { $0 != "\"" }
      bars[size] = Int(count)
    }
    #expect(bars == e.sizes)
    #expect(html.contains("<code id=\"size-smallest\">1x40x40</code>") && html.contains("<code id=\"size-largest\">3x64x64</code>"))
  }

  /// `clean` to LMDB keeps each photo's size in its record (channels/height/width per Datum, the
  /// values Pillow decodes); a scan of that LMDB gives numpy's statistics again. Normalized, each
  /// channel spans the range exactly.
  @Test func cleanToLMDBAndBack() throws {
    let dir = try makeTempDir()
    let out = dir + "/out.lmdb"
    let c = try CLI.run(["clean", Self.folder, "--shape", "3,any,any", "--normalize", "none", "-o", out])
    #expect(c.status == 0, "\(c.stderr)")
    let e = try Self.expected(lmdb: out)
    let records = try #require(e.lmdb)
    let colour = e.shapes.filter { $0.value[0] == 3 }
    #expect(records.shapes == colour, "\(records.shapes)")
    #expect(records.equal.count == 13 && records.equal.values.allSatisfy { $0 }, "\(records.equal)")
    let reasons = try String(contentsOfFile: dir + "/out.quarantine.reasons.jsonl", encoding: .utf8)
    #expect(reasons.contains("earth/camera_gray.png") && reasons.split(separator: "\n").count == 1)

    // Raw records keep their stored (RGB) order; encoded ones decode as RGB with --channel-order rgb.
    let r = try CLI.run(["scan", out, "--shape", "3,any,any", "--channel-order", "rgb", "--report", dir + "/r.json"])
    #expect(r.status == 0, "\(r.stderr)")
    let report = try Report.load(dir + "/r.json")
    #expect(report.samples.total == 13 && report.samples.flagged == 0)
    Self.expectStats(report, e, "rescan of the LMDB")
    let s = try Sizes.load(dir + "/r.json")
    #expect(s.distinct == 7 && s.samples == 13)

    let normalized = dir + "/norm.lmdb"
    let n = try CLI.run(["clean", Self.folder, "--shape", "3,any,any", "-o", normalized])
    #expect(n.status == 0, "\(n.stderr)")
    let nr = try CLI.run(["scan", normalized, "--shape", "3,any,any", "--report", dir + "/n.json"])
    #expect(nr.status == 0, "\(nr.stderr)")
    let nreport = try Report.load(dir + "/n.json")
    #expect(nreport.samples.total == 13)
    for (g, x) in zip(nreport.stats.groups, e.stats) {
      #expect(g.count == x.count && g.min == -1 && g.max == 1, "\(g.name)")
      let mean = (x.mean - x.min) / (x.max - x.min) * 2 - 1
      #expect(abs((g.mean ?? .nan) - mean) < 1e-6, "\(g.name) mean \(g.mean ?? .nan) vs \(mean)")
    }
  }

  /// `clean --normalize none` to an image folder copies each clean photo, whatever its size, byte
  /// for byte, in its class folder; the gray one goes to the quarantine.
  @Test func cleanToAnImageFolder() throws {
    let dir = try makeTempDir()
    let r = try CLI.run(
      ["clean", Self.folder, "--shape", "3,any,any", "--normalize", "none", "--output-format", "png", "-o", dir + "/out"])
    #expect(r.status == 0, "\(r.stderr)")
    let e = try Self.expected()
    for (file, shape) in e.shapes {
      let written = dir + (shape[0] == 3 ? "/out/" : "/out.quarantine/") + file
      let same = FileManager.default.contentsEqual(atPath: written, andPath: Self.folder + "/" + file)
      #expect(same, "\(file) -> \(written)")
    }
  }

  /// Varying sizes cannot go to HDF5 (one dataset, one size) or into a `--caffe-mean` file: exit 2,
  /// one line that says what to do, and nothing left behind.
  @Test func hdf5AndCaffeMeanNeedOneSize() throws {
    for (output, extra, words) in [
      ("out.h5", [String](), ["--resize H,W", "LMDB"]),
      ("out.lmdb", ["--caffe-mean", "mean.binaryproto"], ["--caffe-mean", "--resize H,W"]),
    ] {
      let dir = try makeTempDir()
      let r = try CLI.run(["clean", Self.folder, "--shape", "3,any,any", "-o", dir + "/" + output] + extra, cwd: dir)
      #expect(r.status == 2, "\(output): \(r.stdout) \(r.stderr)")
      let lines = r.stderr.split(separator: "\n")
      #expect(lines.count == 1, "\(r.stderr)")
      for w in words { #expect(r.stderr.contains(w), "\(output): \(r.stderr)") }
      #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty, "\(output): left behind")
    }
  }

  /// `init` on photos of varying sizes writes `shape: [3, any, any]` (the most common number of
  /// channels), and the gate it makes flags only the gray photo.
  @Test func initProposesAnySize() throws {
    let dir = try makeTempDir()
    let i = try CLI.run(["init", "Fixtures/sizes", "-o", dir + "/datasan.yml"], cwd: CLI.root.path)
    #expect(i.status == 0, "\(i.stderr)")
    let yml = try String(contentsOfFile: dir + "/datasan.yml", encoding: .utf8)
    #expect(yml.contains("\nshape: [3, any, any]"), "\(yml)")
    #expect(yml.contains("14 decoded samples in 8 sizes"), "\(yml)")
    #expect(yml.contains("\nloss: binary"), "\(yml)")
    let r = try CLI.run(["scan", "--config", dir + "/datasan.yml", "--report", dir + "/r.json"], cwd: CLI.root.path)
    #expect(r.status == 1, "\(r.stderr)")
    let report = try Report.load(dir + "/r.json")
    #expect(report.count("shape_mismatch") == 1 && report.samples.flagged == 1)

    // One size: the shape stays a commented-out suggestion.
    let one = try CLI.run(["init", "Fixtures/png/flat", "-o", dir + "/one.yml"], cwd: CLI.root.path)
    #expect(one.status == 0, "\(one.stderr)")
    let oneYml = try String(contentsOfFile: dir + "/one.yml", encoding: .utf8)
    #expect(!oneYml.contains("\nshape:"), "\(oneYml)")
    // One size for 21 of 22 images (a fixed-size dataset with one odd file): the odd one stays
    // shape_mismatch; `any` is offered commented out.
    let odd = try CLI.run(["init", "Fixtures/png/train", "-o", dir + "/odd.yml"], cwd: CLI.root.path)
    #expect(odd.status == 0, "\(odd.stderr)")
    let oddYml = try String(contentsOfFile: dir + "/odd.yml", encoding: .utf8)
    #expect(!oddYml.contains("\nshape:") && oddYml.contains("\n# shape: [3, any, any]"), "\(oddYml)")
    #expect(oddYml.contains("21 of 22 decoded samples are 3x8x8"), "\(oddYml)")
  }
}
