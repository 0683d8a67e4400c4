import DatasanTestSupport
import Foundation
import Testing

/// Caffe's view of an LMDB, checked against OpenCV (PyPI's opencv-python-headless, installed by
/// `make test`): Caffe's data layer decodes an encoded Datum with OpenCV's `imdecode`, so the
/// values it trains on are exactly `cv2.imdecode`'s, colour in BGR order. CI has no Caffe; the
/// comparison with the real `compute_image_mean` is in the issue's note.
///
/// The Python script writes an LMDB of encoded colour PNG Datums (as `convert_imageset --encoded`
/// does) and prints what OpenCV decodes from each stored value, as C x H x W. The tests then check
/// datasan's statistics, the float_data `clean` writes and the `--caffe-mean` file against it, and
/// that `--channel-order` flips each.
@Suite(.serialized) struct CaffeViewCLITests {
  static let script = #"""
    import json, sys
    import caffe_datum, cv2, lmdb, numpy as np

    path, folder = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(12)

    def encoded_datum(png, label):
        # c/h/w unset, as Caffe's convert_imageset --encoded writes them.
        return caffe_datum.datum(data=png, label=label, encoded=True)

    decoded = {}
    env = lmdb.open(path, map_size=1 << 24)
    with env.begin(write=True) as txn:
        for n in range(10):
            # Three channels of clearly different ranges, so that an order mix-up shows.
            rgb = np.stack([rng.integers(150, 256, (6, 5)), rng.integers(60, 140, (6, 5)), rng.integers(0, 50, (6, 5))], -1)
            ok, png = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]).astype(np.uint8))
            assert ok
            key = "%03d" % n
            txn.put(key.encode(), encoded_datum(png.tobytes(), n % 3))
            with open("%s/%s.png" % (folder, key), "wb") as f:
                f.write(png.tobytes())
    env.close()
    # What Caffe's DecodeDatumToCVMatNative sees: imdecode of the stored bytes, H x W x C BGR.
    env = lmdb.open(path, readonly=True, lock=False)
    with env.begin() as txn:
        for key, value in txn.cursor():
            data = caffe_datum.fields(value)[4]
            image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
            decoded[key.decode()] = image.transpose(2, 0, 1).astype(float).ravel().tolist()
    print(json.dumps(decoded))
    """#

  /// The LMDB (and the same PNGs as a folder) and OpenCV's C x H x W BGR values of each record.
  struct Fixture {
    var lmdb: String
    var folder: String
    var bgr: [String: [Double]]
    var keys: [String] { bgr.keys.sorted() }
  }

  static func makeFixture() throws -> Fixture {
    let dir = try makeTempDir()
    try FileManager.default.createDirectory(atPath: dir + "/folder", withIntermediateDirectories: true)
    let run = try Python.run(script, [dir + "/enc.lmdb", dir + "/folder"])
    try #require(run.status == 0, "the OpenCV script failed (make test installs opencv-python-headless): \(run.stderr)")
    let bgr = try JSONDecoder().decode([String: [Double]].self, from: run.stdout)
    return Fixture(lmdb: dir + "/enc.lmdb", folder: dir + "/folder", bgr: bgr)
  }

  static let plane = 6 * 5

  /// The channels of C x H x W values in reverse order (BGR <-> RGB).
  static func reversed(_ values: [Double]) -> [Double] {
    let c = values.count / plane
    return (0..<c).reversed().flatMap { values[($0 * plane)..<(($0 + 1) * plane)] }
  }

  /// Per-channel (min, max, mean, population std) of the records.
  static func channelStats(_ records: [[Double]]) -> [(min: Double, max: Double, mean: Double, std: Double)] {
    (0..<3).map { ch in
      let v = records.flatMap { $0[(ch * plane)..<((ch + 1) * plane)] }
      let mean = v.reduce(0, +) / Double(v.count)
      let variance = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)
      return (v.min()!, v.max()!, mean, variance.squareRoot())
    }
  }

  static func expectStats(_ report: Report, _ records: [[Double]], _ what: String) {
    let expected = channelStats(records)
    #expect(report.stats.groups.count == 3, "\(what)")
    for (g, e) in zip(report.stats.groups, expected) {
      #expect(g.min == e.min && g.max == e.max, "\(what) \(g.name): [\(g.min ?? .nan), \(g.max ?? .nan)] vs [\(e.min), \(e.max)]")
      #expect(abs((g.mean ?? .nan) - e.mean) < 1e-9 * 256, "\(what) \(g.name) mean \(g.mean ?? .nan) vs \(e.mean)")
      #expect(abs((g.std ?? .nan) - e.std) < 1e-6, "\(what) \(g.name) std \(g.std ?? .nan) vs \(e.std)")
    }
  }

  /// The floats of a BlobProto (num=1, channels=2, height=3, width=4, data=5 packed).
  static func blobFloats(_ path: String) throws -> [Float] {
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    var i = 0
    func varint() -> Int {
      var result = 0
      var shift = 0
      while true {
        let b = bytes[i]
        i += 1
        result |= Int(b & 0x7F) << shift
        if b < 0x80 { return result }
        shift += 7
      }
    }
    var floats: [Float] = []
    while i < bytes.count {
      let tag = varint()
      if tag & 7 == 0 {
        _ = varint()
      } else if tag & 7 == 2 {
        let n = varint()
        if tag >> 3 == 5 {
          for j in stride(from: i, to: i + n, by: 4) {
            floats.append(
              Float(bitPattern: UInt32(bytes[j]) | UInt32(bytes[j + 1]) << 8 | UInt32(bytes[j + 2]) << 16 | UInt32(bytes[j + 3]) << 24))
          }
        }
        i += n
      } else {
        Issue.record("unexpected wire type in \(path)")
        return floats
      }
    }
    return floats
  }

  /// The statistics of an encoded colour LMDB are OpenCV's BGR values (Caffe's view); of the same
  /// PNGs in a folder, RGB (torchvision's); `--channel-order` flips either.
  @Test func statisticsAreWhatCaffeAndTorchvisionSee() throws {
    let f = try Self.makeFixture()
    let bgr = f.keys.map { f.bgr[$0]! }
    let rgb = bgr.map(Self.reversed)
    let dir = try makeTempDir()
    for (input, flags, expected, what) in [
      (f.lmdb, [String](), bgr, "LMDB default (BGR)"),
      (f.lmdb, ["--channel-order", "rgb"], rgb, "LMDB --channel-order rgb"),
      (f.folder, [], rgb, "folder default (RGB)"),
      (f.folder, ["--channel-order", "bgr"], bgr, "folder --channel-order bgr"),
    ] {
      let r = try CLI.run(["scan", input, "--report", dir + "/r.json"] + flags)
      #expect(r.status == 0, "\(what): \(r.stderr)")
      let report = try Report.load(dir + "/r.json")
      #expect(report.samples.total == 10 && report.samples.flagged == 0, "\(what)")
      Self.expectStats(report, expected, what)
    }
  }

  /// `channel_order` in datasan.yml is the option (checked like any key), and `init` writes it for
  /// an LMDB, commented out with the LMDB's default (bgr).
  @Test func channelOrderInTheConfigAndInit() throws {
    let f = try Self.makeFixture()
    let dir = try makeTempDir()
    try Data("input: \(f.lmdb)\nchannel_order: rgb\n".utf8).write(to: URL(fileURLWithPath: dir + "/datasan.yml"))
    let r = try CLI.run(["scan", "--report", dir + "/r.json"], cwd: dir)
    #expect(r.status == 0, "\(r.stderr)")
    Self.expectStats(try Report.load(dir + "/r.json"), f.keys.map { Self.reversed(f.bgr[$0]!) }, "channel_order: rgb")
    try Data("input: \(f.lmdb)\nchannel_order: grb\n".utf8).write(to: URL(fileURLWithPath: dir + "/datasan.yml"))
    let bad = try CLI.run(["scan"], cwd: dir)
    #expect(bad.status == 2 && bad.stderr == "datasan: datasan.yml:2: channel_order: 'grb' is not one of rgb, bgr (did you mean rgb?)\n", "\(bad.stderr)")
    let initDir = try makeTempDir()
    let i = try CLI.run(["init", f.lmdb], cwd: initDir)
    #expect(i.status == 0, "\(i.stderr)")
    let yml = try String(contentsOfFile: initDir + "/datasan.yml", encoding: .utf8)
    #expect(yml.contains("# channel_order: bgr"), "\(yml)")
  }

  /// `clean` of an encoded colour LMDB writes float_data in BGR (minmax of OpenCV's values, per
  /// channel), and `--caffe-mean` is the mean of the records written, value for value; with
  /// `--channel-order rgb` both are in RGB.
  @Test func cleanWritesBGRFloatDataAndTheMeanOfTheWrittenRecords() throws {
    let f = try Self.makeFixture()
    for (flags, order) in [([String](), "bgr"), (["--channel-order", "rgb"], "rgb")] {
      let dir = try makeTempDir()
      let out = dir + "/clean.lmdb"
      let r = try CLI.run(["clean", f.lmdb, "-o", out, "--caffe-mean", dir + "/mean.binaryproto"] + flags)
      #expect(r.status == 0, "\(r.stderr)")
      let source = f.keys.map { order == "bgr" ? f.bgr[$0]! : Self.reversed(f.bgr[$0]!) }
      let stats = Self.channelStats(source)
      let written = try #require(LMDBReadBack.records(out))
      #expect(written.map(\.key) == f.keys)
      var sums = [Double](repeating: 0, count: 3 * Self.plane)
      for (n, (_, value)) in written.enumerated() {
        let d = try #require(LMDBReadBack.decode(value))
        #expect(d.channels == 3 && d.height == 6 && d.width == 5 && d.floats.count == 3 * Self.plane)
        for e in 0..<d.floats.count {
          let s = stats[e / Self.plane]
          let expected = (source[n][e] - s.min) / (s.max - s.min) * 2 - 1
          #expect(abs(Double(d.floats[e]) - expected) < 1e-6, "\(order) record \(n) value \(e): \(d.floats[e]) vs \(expected)")
          sums[e] += Double(d.floats[e])
        }
      }
      // The mean file: 1 x 3 x 6 x 5, the mean of the normalized records, element by element.
      let mean = try Self.blobFloats(dir + "/mean.binaryproto")
      #expect(mean.count == 3 * Self.plane)
      for e in 0..<min(mean.count, sums.count) {
        #expect(abs(Double(mean[e]) - sums[e] / Double(written.count)) < 1e-6, "\(order) mean[\(e)]")
      }
      #expect(mean.allSatisfy { $0 >= -1 && $0 <= 1 })
    }
  }

  /// `--caffe-mean` of `clean --normalize none` is the mean of OpenCV's BGR values (what
  /// `compute_image_mean` computes from the input).
  @Test func caffeMeanOfRawValuesIsBGR() throws {
    let f = try Self.makeFixture()
    let dir = try makeTempDir()
    let r = try CLI.run([
      "clean", f.lmdb, "-o", dir + "/copy.lmdb", "--normalize", "none", "--caffe-mean", dir + "/mean.binaryproto",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    let mean = try Self.blobFloats(dir + "/mean.binaryproto")
    #expect(mean.count == 3 * Self.plane)
    let bgr = f.keys.map { f.bgr[$0]! }
    for e in 0..<min(mean.count, 3 * Self.plane) {
      let expected = bgr.map { $0[e] }.reduce(0, +) / Double(bgr.count)
      #expect(abs(Double(mean[e]) - expected) < 1e-4, "mean[\(e)] \(mean[e]) vs \(expected)")
    }
  }

  /// A record's storage is not its shape: in a uint8 LMDB, a float_data record of the same shape is
  /// a sample like any other, its values checked: a NaN is `nan_value`, an Inf `inf_value`; finite
  /// values (uint8 or not) are clean and counted in the statistics.
  @Test func floatDataInAUint8LMDBIsCheckedLikeAnyOtherRecord() throws {
    let dir = try makeTempDir()
    let script = #"""
      import sys, lmdb
      from caffe_datum import datum
      def raw(values, label):
          return datum(channels=1, height=2, width=2, data=bytes(values), label=label)
      def floats(values, label):
          return datum(channels=1, height=2, width=2, label=label, float_data=values)
      env = lmdb.open(sys.argv[1], map_size=1 << 20)
      with env.begin(write=True) as txn:
          txn.put(b"a_raw", raw([0, 10, 20, 30], 0))
          txn.put(b"b_nan", floats([1, float("nan"), 3, 4], 1))
          txn.put(b"c_inf", floats([1, 2, float("inf"), 4], 1))
          txn.put(b"d_bytes", floats([40, 50, 60, 70], 0))
          txn.put(b"e_fraction", floats([0.5, 1.5, 2.5, 300], 1))
          txn.put(b"f_raw", raw([1, 2, 3, 4], 0))
      env.close()
      """#
    let run = try Python.run(script, [dir + "/mixed.lmdb"])
    try #require(run.status == 0, "\(run.stderr)")
    let r = try CLI.run(["scan", dir + "/mixed.lmdb", "--report", dir + "/r.json", "--loss", "none"])
    #expect(r.status == 1, "\(r.stderr)")
    let report = try Report.load(dir + "/r.json")
    #expect(report.samples.total == 6 && report.samples.flagged == 2)
    #expect(report.count("nan_value") == 1 && report.count("inf_value") == 1 && report.count("shape_mismatch") == 0)
    let errors = report.issues.filter { $0.severity == "error" }
    #expect(errors.map(\.key) == ["b_nan", "c_inf"])
    #expect(errors.map(\.detail) == ["1 NaN value, first at [0, 0, 1]", "1 +Inf value, first at [0, 1, 0]"])
    // The four clean records' values: 0 10 20 30, 40 50 60 70, 0.5 1.5 2.5 300, 1 2 3 4.
    let values: [Double] = [0, 10, 20, 30, 40, 50, 60, 70, 0.5, 1.5, 2.5, 300, 1, 2, 3, 4]
    let group = try #require(report.stats.groups.first)
    #expect(group.count == 16 && group.min == 0 && group.max == 300)
    #expect(abs((group.mean ?? .nan) - values.reduce(0, +) / 16) < 1e-9)
    // clean keeps the four and writes them, the two with non-finite values to the quarantine.
    let c = try CLI.run(["clean", dir + "/mixed.lmdb", "-o", dir + "/out.lmdb", "--loss", "none"])
    #expect(c.status == 0, "\(c.stderr)")
    #expect(try #require(LMDBReadBack.records(dir + "/out.lmdb")).map(\.key) == ["a_raw", "d_bytes", "e_fraction", "f_raw"])
    #expect(try #require(LMDBReadBack.records(dir + "/out.quarantine.lmdb")).map(\.key) == ["b_nan", "c_inf"])
  }
}
