import DatasanCore
import DatasanTestSupport
import Foundation
import Testing

@testable import DatasanNPY

/// The NPY reader on numpy's files (Fixtures/npy): row ranges, tiny batches, the header parser.
@Suite struct NPYReaderTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures/npy").path

  func options(_ dataset: String?, _ labels: String?) -> ReadOptions {
    var o = ReadOptions()
    o.batchBytes = 40  // a few rows a batch
    o[NPYReadOptions.self].dataset = dataset
    o[NPYReadOptions.self].labels = labels
    return o
  }

  /// Consecutive row ranges read exactly the samples of one whole read (keys, labels, values), for
  /// a .npy, a stored and a deflated .npz member, and Fortran order.
  @Test func rowRangesReadExactlyTheWholeRead() throws {
    var rng = SplitMix(seed: 0x4E50)
    let inputs: [(String, String?, String?)] = [
      ("x_train.npy", nil, Self.root + "/y_train.npy"), ("data.npz", "x", "y"), ("data_compressed.npz", "x", "y"),
      ("dtypes/float16_be_F.npy", nil, nil), ("dtypes/int64_le_F.npy", nil, nil), ("dtypes/bool_na_C.npy", nil, nil),
    ]
    for (name, dataset, labels) in inputs {
      let path = Self.root + "/" + name
      let all = try readSamples(try NPYReader(path: path, options: options(dataset, labels)))
      #expect(all.count >= 6)
      for parts in [2, 3, 5] {
        let cuts = randomSplit(0..<all.count, parts: parts, using: &rng)
        var got: [StreamSample] = []
        for k in 0..<parts {
          var o = options(dataset, labels)
          o.sampleRange = .samples(cuts[k]..<cuts[k + 1])
          let reader = try NPYReader(path: path, options: o)
          #expect(reader.info.sampleCount == cuts[k + 1] - cuts[k])
          got += try readSamples(reader)
        }
        #expect(got == all, "\(name) split at \(cuts)")
      }
    }
    var o = options(nil, nil)
    o.sampleRange = .bytes(0..<10)
    #expect(throws: DatasanError.self) { try NPYReader(path: Self.root + "/x_train.npy", options: o) }
  }

  @Test func headerParser() throws {
    func parse(_ dict: String) throws(NPYHeaderError) -> NPYHeader {
      let body = Array((dict + "\n").utf8)
      return try NPYHeader.parse(NPYHeader.magic + [1, 0, UInt8(body.count & 0xFF), UInt8(body.count >> 8)] + body)
    }
    let h = try parse("{'descr': '>f2', 'fortran_order': True, 'shape': (3,), }")
    #expect(h.shape == [3] && h.fortranOrder && h.dtype.bigEndian && h.dtype.elementType == .float32)
    #expect(try parse("{\"shape\": (2L, 5), \"fortran_order\": False, \"descr\": \"<u8\"}").shape == [2, 5])
    #expect(throws: NPYHeaderError.self) { try parse("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'shape': (3,)}") }
    #expect(throws: NPYHeaderError.self) { try parse("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}") }
    #expect(throws: NPYHeaderError.self) { try parse("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}") }
    #expect(throws: NPYHeaderError.self) { try parse(String(repeating: "[", count: 100)) }
    // float16 to float32, exactly: subnormal, normal, infinity, NaN.
    #expect(NPYConvert.halfToFloat(0x0001) == 0x1p-24)
    #expect(NPYConvert.halfToFloat(0x3C00) == 1 && NPYConvert.halfToFloat(0xC000) == -2)
    #expect(NPYConvert.halfToFloat(0x7C00) == .infinity && NPYConvert.halfToFloat(0x7E00).isNaN)
    for bits in UInt16.min...UInt16.max where (bits & 0x7C00) != 0x7C00 {
      #expect(Float(Float16(bitPattern: bits)) == NPYConvert.halfToFloat(bits))
    }
  }
}
