import DatasanCore
import DatasanTestSupport
import Foundation
import Testing

@testable import DatasanCSV

@Suite struct WriterTests {
  func write(_ path: String, source: DatasetInfo, content: WriteContent, batches: [SampleBatch]) throws -> [UInt8] {
    let writer = try CSVWriter(path: path, source: source, content: content, groupNames: source.groupNames)
    for b in batches { try writer.append(b) }
    try writer.finish()
    return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
  }

  func bytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

  @Test func originalModeIsByteExact() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    for name in ["dirty.csv", "text_columns.csv", "semicolon.csv", "tab.tsv", "noheader.csv", "scale.csv"] {
      let r = try readAll(fixture(name), keepBatches: true) { $0.batchBytes = 64 }
      #expect(r.batches.count > 1)
      let out = try write(dir.appendingPathComponent(name).path, source: r.info, content: .original, batches: r.batches)
      #expect(out == (try bytes(fixture(name))), "\(name)")
    }
    // CRLF kept, BOM dropped.
    let r = try readAll(fixture("crlf_bom.csv"), keepBatches: true)
    let out = try write(
      dir.appendingPathComponent("crlf.csv").path, source: r.info, content: .original, batches: r.batches)
    #expect(out == Array(try bytes(fixture("crlf_bom.csv")).dropFirst(3)))
  }

  @Test func quarantineSubset() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let r = try readAll(fixture("dirty.csv"), keepBatches: true)
    let batch = r.batches[0]
    let rejected = batch.subset(batch.problems.keys.sorted())
    let out = try write(
      dir.appendingPathComponent("q.csv").path, source: r.info, content: .original, batches: [rejected])
    #expect(
      String(decoding: out, as: UTF8.self)
        == "f0,f1,f2,f3,label\n-0.2132,-0.5015,0.1531,-0.5753\n0.5240,-0.9109,1.0792,0.8779,abc\n")
    // An empty quarantine is the header alone.
    let empty = try write(dir.appendingPathComponent("e.csv").path, source: r.info, content: .original, batches: [])
    #expect(String(decoding: empty, as: UTF8.self) == "f0,f1,f2,f3,label\n")
  }

  func parameters(_ groups: Int, scale: Double = 2, offset: Double = 1) -> NormalizationParameters {
    NormalizationParameters(
      method: .minmax, range: [-1, 1], channelAxis: .first,
      groups: (0..<groups).map { .init(name: "g\($0)", min: 0, max: 1, mean: 0, std: 1, scale: scale, offset: offset) })
  }

  @Test func normalizedModeKeepsTextAndLabels() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let source = try readAll(fixture("text_columns.csv"), keepBatches: true)
    let params = parameters(2, scale: 1.0 / 3, offset: -0.1)
    let normalized = try source.batches.map { try Normalizer(params).apply(to: $0) }
    let path = dir.appendingPathComponent("n.csv").path
    let out = try write(path, source: source.info, content: .normalized(params), batches: normalized)
    let text = String(decoding: out, as: UTF8.self)
    #expect(text.hasPrefix("id,comment,x1,x2,label\n"))
    let x1 = Float(0.068 * (1.0 / 3) - 0.1)
    let x2 = Float(4.099 * (1.0 / 3) - 0.1)
    #expect(text.contains("\ns001,\"needs review, maybe\",\(x1),\(x2),0\n"))
    #expect(text.contains("\ns002,\"two\nlines\","))
    #expect(text.contains("\ns003,\"said \"\"hello\"\"\","))

    // Read back: same records, text fields and labels byte-exact, features the Float32 values.
    let back = try readAll(path)
    #expect(back.keys == source.keys)
    #expect(back.layout.textColumns == source.layout.textColumns)
    #expect(back.labels == source.labels)
    let tokenizer = CSVTokenizer(delimiter: UInt8(ascii: ","))
    let a = CSVFieldSpans()
    let b = CSVFieldSpans()
    for i in 0..<source.count {
      for g in 0..<2 {
        let expected = Float(source.rows[i][g] * params.groups[g].scale + params.groups[g].offset)
        // The text is the shortest that round-trips the Float32.
        #expect(Float(back.rows[i][g]) == expected)
      }
      source.originals[i].withUnsafeBytes { sa in
        back.originals[i].withUnsafeBytes { sb in
          tokenizer.tokenize(sa, into: a)
          tokenizer.tokenize(sb, into: b)
          #expect(a.count == b.count)
          for c in [0, 1, 4] {
            #expect(Array(sa[a.starts[c]..<a.ends[c]]) == Array(sb[b.starts[c]..<b.ends[c]]))
          }
        }
      }
    }
  }

  @Test func normalizedModeKeepsDialect() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let source = try readAll(fixture("crlf_bom.csv"), keepBatches: true)
    let params = parameters(3, scale: 0.00001, offset: 0)
    let normalized = try source.batches.map { try Normalizer(params).apply(to: $0) }
    let out = try write(
      dir.appendingPathComponent("n.csv").path, source: source.info, content: .normalized(params), batches: normalized)
    let lines = String(decoding: out, as: UTF8.self).components(separatedBy: "\r\n")
    #expect(lines[0] == "a,b,c,label")
    #expect(lines.count == 12 && lines[11] == "")
    let c0 = Float(source.rows[0][2] * 0.00001)
    #expect(
      lines[1]
        == "\(Float(source.rows[0][0] * 0.00001)),\(Float(source.rows[0][1] * 0.00001)),\(c0),\(Int(source.labels![0]))"
    )
    #expect(!lines[1].contains("inf") && !lines[1].contains("nan"))

    let semi = try readAll(fixture("semicolon.csv"), keepBatches: true)
    let semiOut = try write(
      dir.appendingPathComponent("s.csv").path, source: semi.info, content: .normalized(parameters(3)),
      batches: try semi.batches.map { try Normalizer(parameters(3)).apply(to: $0) })
    #expect(String(decoding: semiOut, as: UTF8.self).hasPrefix("a;b;c;label\n"))
    #expect(String(decoding: semiOut, as: UTF8.self).split(separator: "\n")[1].split(separator: ";").count == 4)
  }

  @Test func flatFromOtherFormats() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let info = DatasetInfo(
      format: .hdf5, path: "x.h5", sampleCount: 2, elementType: .int16, sampleShape: [2, 3], featureName: "data",
      labelName: "label")
    var batch = SampleBatch.uniform(firstIndex: 0, count: 2, elementType: .int16, shape: [2, 3], labels: [1, 2.5])
    let v = batch.storage.typed(Int16.self, count: 12)
    for k in 0..<12 { v[k] = Int16(k - 3) * 1000 }
    let out = try write(dir.appendingPathComponent("f.csv").path, source: info, content: .original, batches: [batch])
    #expect(
      String(decoding: out, as: UTF8.self)
        == "f0,f1,f2,f3,f4,f5,label\n-3000,-2000,-1000,0,1000,2000,1\n3000,4000,5000,6000,7000,8000,2.5\n")

    // Float32 values, no labels.
    batch = SampleBatch.uniform(firstIndex: 0, count: 1, elementType: .float32, shape: [3], labels: nil)
    let f = batch.storage.typed(Float.self, count: 3)
    f[0] = 0.1
    f[1] = -1e-05
    f[2] = 3
    let floats = try write(
      dir.appendingPathComponent("g.csv").path,
      source: DatasetInfo(
        format: .lmdb, path: "db", sampleCount: nil, elementType: .float32, sampleShape: nil, featureName: "data",
        labelName: nil),
      content: .original, batches: [batch])
    #expect(String(decoding: floats, as: UTF8.self) == "f0,f1,f2\n0.1,-1e-05,3.0\n")

    // Float64 and uint8, and a header for an empty output.
    batch = SampleBatch.uniform(firstIndex: 0, count: 1, elementType: .float64, shape: [2], labels: [-1])
    let d = batch.storage.typed(Double.self, count: 2)
    d[0] = 0.1 + 0.2
    d[1] = 1e300
    let doubles = try write(
      dir.appendingPathComponent("h.csv").path, source: info, content: .original, batches: [batch])
    #expect(String(decoding: doubles, as: UTF8.self) == "f0,f1,label\n0.30000000000000004,1e+300,-1\n")
    let empty = try write(dir.appendingPathComponent("i.csv").path, source: info, content: .original, batches: [])
    #expect(String(decoding: empty, as: UTF8.self) == "f0,f1,f2,f3,f4,f5,label\n")
  }

  @Test func largeOutputAndAbort() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let info = DatasetInfo(
      format: .png, path: "imgs", sampleCount: nil, elementType: .uint8, sampleShape: [1, 16, 16], featureName: "data",
      labelName: "label")
    let batch = SampleBatch.uniform(
      firstIndex: 0, count: 2000, elementType: .uint8, shape: [1, 16, 16], labels: Array(repeating: 7, count: 2000))
    let p = batch.storage.typed(UInt8.self, count: 2000 * 256)
    for k in 0..<p.count { p[k] = UInt8(k % 256) }
    let out = try write(
      dir.appendingPathComponent("big.csv").path, source: info, content: .original, batches: [batch, batch])
    let lines = String(decoding: out, as: UTF8.self).split(separator: "\n")
    #expect(lines.count == 4001)
    #expect(lines[1] == Substring((0..<256).map(String.init).joined(separator: ",") + ",7"))
    // A sample of another size is refused, not written half.
    let odd = SampleBatch.uniform(firstIndex: 0, count: 1, elementType: .uint8, shape: [3], labels: [0])
    let w = try CSVWriter(
      path: dir.appendingPathComponent("odd.csv").path, source: info, content: .original, groupNames: nil)
    try w.append(batch)
    #expect(thrown(DatasanError.self) { try w.append(odd) } != nil)
    w.abort()
    w.abort()
    #expect(
      thrown(DatasanError.self) {
        _ = try CSVWriter(
          path: dir.appendingPathComponent("no/such/dir.csv").path, source: info, content: .original, groupNames: nil)
      } != nil)
  }
}
