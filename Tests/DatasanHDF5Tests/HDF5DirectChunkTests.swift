import CDatasanHDF5Inflate
import CHDF5
import DatasanCore
@testable import DatasanHDF5
import Foundation
import Testing

/// Everything a reader yielded, bytes as they are, and how its chunks were read.
struct RawReadResult {
  var bytes: [UInt8] = []
  var labels: [Double]? = nil
  var problems: [Int: ReaderProblem] = [:]
  var batches: [Range<Int>] = []
  var decodedChunks = 0
  var fallbackChunks = 0
  var usedPipeline = false

  /// What differs from `other` in what must not depend on the path taken (values to the bit,
  /// labels, problems, batches), nil when nothing does.
  func difference(from other: RawReadResult) -> String? {
    if bytes != other.bytes {
      let first = (0..<Swift.min(bytes.count, other.bytes.count)).first { bytes[$0] != other.bytes[$0] } ?? Swift.min(bytes.count, other.bytes.count)
      return "values differ (\(bytes.count) vs \(other.bytes.count) bytes, first at byte \(first))"
    }
    if labels?.map(\.bitPattern) != other.labels?.map(\.bitPattern) { return "labels differ" }
    if problems != other.problems { return "problems differ: \(problems) vs \(other.problems)" }
    if batches != other.batches { return "batches differ: \(batches) vs \(other.batches)" }
    return nil
  }
}

/// Reads every batch of `dataset` in `path`, raw chunks decoded here (`direct`) or all through `H5Dread`.
func readRaw(_ path: String, dataset: String = "data", labels: String? = nil, batchBytes: Int? = nil, direct: Bool)
  throws -> RawReadResult
{
  var options = ReadOptions()
  options.dataset = dataset
  options.labels = labels
  if let batchBytes { options.batchBytes = batchBytes }
  let reader = try HDF5Reader(path: path, options: options)
  reader.directChunks = direct
  var result = RawReadResult()
  while let batch = try reader.nextBatch() {
    if case .unreadable(let problem) = batch.values {
      // A run without values (rows never written): zeros in their place, the problem on each row.
      result.bytes += [UInt8](repeating: 0, count: batch.count * batch.shape.reduce(1, *) * batch.elementType.size)
      for i in 0..<batch.count { result.problems[batch.firstIndex + i] = problem }
    }
    result.bytes += Array(batch.storage.bytes)
    if let l = batch.labels { result.labels = (result.labels ?? []) + l }
    for (position, problem) in batch.problems { result.problems[batch.firstIndex + position] = problem }
    result.batches.append(batch.firstIndex..<(batch.firstIndex + batch.count))
  }
  if let pipeline = reader.pipeline {
    result.usedPipeline = true
    result.decodedChunks = pipeline.decodedChunks
    result.fallbackChunks = pipeline.fallbackChunks
  }
  return result
}

/// Raw chunks decoded on every core give exactly what `H5Dread` gives: values, order, problems.
@Suite struct HDF5DirectChunkTests {
  static let fixtures: [(file: String, dataset: String, labels: String?)] = [
    ("corrupt_chunk.h5", "data", nil), ("corrupt_gzip.h5", "data", nil), ("dirty.h5", "data", nil),
    ("layouts.h5", "all", ""), ("layouts.h5", "chunked", ""), ("layouts.h5", "contiguous", ""),
    ("layouts.h5", "fletcher32", ""), ("layouts.h5", "gzip", ""), ("layouts.h5", "shuffle", ""),
    ("layouts.h5", "compact", ""), ("clean_small.h5", "data", nil), ("dtypes.h5", "be_f4", nil),
  ]

  @Test(arguments: [nil, 1, 96, 200, 1000])
  func fixturesReadTheSameBothWays(batchBytes: Int?) throws {
    for (file, dataset, labels) in Self.fixtures {
      let direct = try readRaw(Fixture.hdf5(file), dataset: dataset, labels: labels, batchBytes: batchBytes, direct: true)
      let h5dread = try readRaw(Fixture.hdf5(file), dataset: dataset, labels: labels, batchBytes: batchBytes, direct: false)
      #expect(!h5dread.usedPipeline)
      #expect(direct.difference(from: h5dread) == nil, "\(file) \(dataset) batchBytes \(batchBytes as Any)")
    }
    let demo = try readRaw(Fixture.demo("train.h5"), batchBytes: batchBytes, direct: true)
    #expect(demo.difference(from: try readRaw(Fixture.demo("train.h5"), batchBytes: batchBytes, direct: false)) == nil)
    #expect(demo.fallbackChunks == 1)  // chunk 5, corrupted on purpose
  }

  /// The raw path is taken where it can be, and corrupt chunks go back to H5Dread for their reason.
  @Test func rawPathIsTakenAndCorruptChunksFallBack() throws {
    let corrupt = try readRaw(Fixture.hdf5("corrupt_chunk.h5"), direct: true)  // shuffle + deflate + fletcher32
    #expect(corrupt.usedPipeline)
    #expect(corrupt.decodedChunks == 4 && corrupt.fallbackChunks == 1)
    #expect(corrupt.problems[16] == ReaderProblem(.unreadable, "chunk read failed: checksum error (fletcher32)"))
    #expect(corrupt.problems[32] == ReaderProblem(.unreadable, "label chunk read failed: checksum error (fletcher32)"))

    let gzip = try readRaw(Fixture.hdf5("corrupt_gzip.h5"), direct: true)
    #expect(gzip.decodedChunks == 3 && gzip.fallbackChunks == 1)
    #expect(gzip.problems[6]?.detail.hasPrefix("chunk read failed: gzip data corrupt") == true)
    #expect(Set(gzip.problems.keys) == Set(6..<12))

    for dataset in ["gzip", "shuffle"] {
      let result = try readRaw(Fixture.hdf5("layouts.h5"), dataset: dataset, labels: "", direct: true)
      #expect(result.usedPipeline && result.decodedChunks > 0 && result.fallbackChunks == 0)
    }
  }

  @Test func plansAreRefusedWhereDecodingHereCouldDiffer() throws {
    func refusal(_ file: String, _ dataset: String, batchBytes: Int? = nil) throws -> String? {
      var options = ReadOptions()
      options.dataset = dataset
      options.labels = ""
      if let batchBytes { options.batchBytes = batchBytes }
      let reader = try HDF5Reader(path: Fixture.hdf5(file), options: options)
      return reader.rawPlan == nil ? reader.rawRefusal : nil
    }
    #expect(try refusal("layouts.h5", "gzip") == nil)
    #expect(try refusal("layouts.h5", "all") == "chunks do not span axis 2")
    #expect(try refusal("layouts.h5", "fletcher32") == "chunks do not span axis 1")
    #expect(try refusal("layouts.h5", "chunked")?.hasPrefix("no filters") == true)
    #expect(try refusal("layouts.h5", "contiguous") == "not chunked")
  }

  /// Files made here: other element sizes (the unshuffle kernels), partial edge chunks, chunks
  /// never written, and the layouts that must stay with H5Dread.
  @Test func generatedLayoutsReadTheSameBothWays() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("made.h5").path
    let specs: [GeneratedDataset] = [
      .init("i16", file: datasan_h5t_std_i16le(), memory: datasan_h5t_native_int16(), size: 2, rows: 103, row: [5, 7], chunk: 16, filters: [.shuffle, .deflate]),
      .init("f32", file: datasan_h5t_ieee_f32le(), memory: datasan_h5t_native_float(), size: 4, rows: 77, row: [3, 11], chunk: 20, filters: [.shuffle, .deflate, .fletcher32]),
      .init("f64", file: datasan_h5t_ieee_f64le(), memory: datasan_h5t_native_double(), size: 8, rows: 65, row: [9], chunk: 8, filters: [.shuffle, .deflate]),
      .init("u8", file: datasan_h5t_std_u8le(), memory: datasan_h5t_native_uint8(), size: 1, rows: 50, row: [33], chunk: 7, filters: [.shuffle, .deflate]),
      .init("i64_1d", file: datasan_h5t_std_i64le(), memory: datasan_h5t_native_int64(), size: 8, rows: 1000, row: [], chunk: 64, filters: [.shuffle, .deflate]),
      .init("u32_shuffle_only", file: datasan_h5t_std_u32le(), memory: datasan_h5t_native_uint32(), size: 4, rows: 41, row: [6], chunk: 10, filters: [.shuffle]),
      .init("f32_fletcher_only", file: datasan_h5t_ieee_f32le(), memory: datasan_h5t_native_float(), size: 4, rows: 41, row: [6], chunk: 10, filters: [.fletcher32]),
      .init("f32_deflate_only", file: datasan_h5t_ieee_f32le(), memory: datasan_h5t_native_float(), size: 4, rows: 41, row: [6], chunk: 10, filters: [.deflate]),
      .init("sparse", file: datasan_h5t_ieee_f32le(), memory: datasan_h5t_native_float(), size: 4, rows: 60, row: [4], chunk: 10, filters: [.shuffle, .deflate], writtenRows: [0..<10, 30..<40]),
      // Must stay with H5Dread:
      .init("big_endian", file: datasan_h5t_ieee_f32be(), memory: datasan_h5t_native_float(), size: 4, rows: 45, row: [4], chunk: 10, filters: [.shuffle, .deflate], refusal: "type conversion"),
      .init("deflate_then_shuffle", file: datasan_h5t_ieee_f32le(), memory: datasan_h5t_native_float(), size: 4, rows: 45, row: [4], chunk: 10, filters: [.deflate, .shuffle], refusal: "filters in another order"),
      .init("partial_unfiltered", file: datasan_h5t_ieee_f32le(), memory: datasan_h5t_native_float(), size: 4, rows: 45, row: [4], chunk: 10, filters: [.shuffle, .deflate], dontFilterPartial: true, refusal: "partial edge chunks unfiltered"),
    ]
    try GeneratedDataset.write(specs, to: path)
    for spec in specs {
      for batchBytes in [nil, 1, 300, 5000] as [Int?] {
        var options = ReadOptions()
        options.dataset = spec.name
        options.labels = ""
        let reader = try HDF5Reader(path: path, options: options)
        #expect((reader.rawPlan == nil ? reader.rawRefusal : nil) == spec.refusal, "\(spec.name)")
        let direct = try readRaw(path, dataset: spec.name, labels: "", batchBytes: batchBytes, direct: true)
        let h5dread = try readRaw(path, dataset: spec.name, labels: "", batchBytes: batchBytes, direct: false)
        #expect(direct.difference(from: h5dread) == nil, "\(spec.name) batchBytes \(batchBytes as Any)")
        #expect(direct.bytes == spec.expectedBytes, "\(spec.name): values differ from what was written")
        // Rows of chunks never written are unreadable, found from the chunk index, never read.
        let never = Set(0..<spec.rows).subtracting((spec.writtenRows ?? [0..<spec.rows]).flatMap { $0 })
        #expect(Set(direct.problems.keys) == never, "\(spec.name)")
        #expect(direct.problems.values.allSatisfy { $0 == ReaderProblem(.unreadable, "never written") })
        if spec.refusal == nil {
          #expect(direct.usedPipeline)
          let chunks = (spec.rows + spec.chunk - 1) / spec.chunk
          let written = spec.writtenRows.map { $0.reduce(0) { $0 + $1.count } / spec.chunk } ?? chunks
          #expect(direct.decodedChunks == written && direct.fallbackChunks == 0, "\(spec.name)")
        }
      }
    }
  }

  @Test func unshuffleMatchesTheDefinition() {
    for size in 1...9 {
      for total in [1, 2, 15, 16, 17, 33, 100] {
        let input = (0..<(size * total)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ $0 >> 3) }
        for count in Set([0, 1, total / 2, total - 1, total]) where count >= 0 {
          var out = [UInt8](repeating: 0xAA, count: size * count + 1)
          datasan_unshuffle(input, &out, size, total, count)
          var expected = [UInt8](repeating: 0xAA, count: size * count + 1)
          for i in 0..<count { for b in 0..<size { expected[i * size + b] = input[b * total + i] } }
          #expect(out == expected, "size \(size) total \(total) count \(count)")
        }
      }
    }
  }

  /// zlib's adler32, on every length class of the vector kernels (blocks, reductions, tails).
  @Test func adler32MatchesTheDefinition() {
    var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
    let data = (0..<200_000).map { _ -> UInt8 in
      seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return UInt8(truncatingIfNeeded: seed >> 33)
    }
    let maxed = [UInt8](repeating: 255, count: 70_000)
    for bytes in [data, maxed] {
      for length in [0, 1, 15, 16, 17, 31, 32, 33, 100, 5551, 5552, 5553, 32768, 32769, 65_537, 70_000] {
        for start: UInt32 in [1, 0xFFF0_FFF0] {
          var s1 = UInt64(start & 0xffff)
          var s2 = UInt64(start >> 16)
          for i in 0..<length {
            s1 = (s1 + UInt64(bytes[i])) % 65521
            s2 = (s2 + s1) % 65521
          }
          let got = bytes.withUnsafeBytes { datasan_adler32(start, $0.baseAddress, length) }
          #expect(got == UInt32(s2 << 16 | s1), "length \(length) start \(start)")
        }
      }
    }
  }

  /// HDF5's fletcher32 (H5checksum.c): 16-bit big-endian words, odd tail byte as a high byte.
  @Test func fletcher32MatchesTheDefinition() {
    for length in [0, 1, 2, 3, 719, 720, 721, 5000] {
      let data = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
      var sum1: UInt64 = 0
      var sum2: UInt64 = 0
      var i = 0
      while i + 1 < length {
        sum1 = (sum1 + (UInt64(data[i]) << 8 | UInt64(data[i + 1]))) % 65535
        sum2 = (sum2 + sum1) % 65535
        i += 2
      }
      if length % 2 == 1 {
        sum1 = (sum1 + (UInt64(data[length - 1]) << 8)) % 65535
        sum2 = (sum2 + sum1) % 65535
      }
      let got = datasan_fletcher32(data, length)
      // The library folds without a final modulo: 0xffff and 0 are the same residue.
      #expect(UInt64(got & 0xffff) % 65535 == sum1 && UInt64(got >> 16) % 65535 == sum2, "length \(length)")
    }
  }
}

/// A dataset written by the tests with the C API.
struct GeneratedDataset {
  enum Filter { case shuffle, deflate, fletcher32 }
  var name: String
  var fileType: hid_t
  var memoryType: hid_t
  var size: Int
  var rows: Int
  var row: [Int]
  var chunk: Int
  var filters: [Filter]
  var writtenRows: [Range<Int>]?
  var dontFilterPartial: Bool
  var refusal: String?

  init(
    _ name: String, file: hid_t, memory: hid_t, size: Int, rows: Int, row: [Int], chunk: Int, filters: [Filter],
    writtenRows: [Range<Int>]? = nil, dontFilterPartial: Bool = false, refusal: String? = nil
  ) {
    (self.name, fileType, memoryType, self.size, self.rows, self.row, self.chunk) = (name, file, memory, size, rows, row, chunk)
    (self.filters, self.writtenRows, self.dontFilterPartial, self.refusal) = (filters, writtenRows, dontFilterPartial, refusal)
  }

  var rowBytes: Int { row.reduce(1, *) * size }

  /// Deterministic bytes with some structure (so that deflate compresses) and some noise.
  func values(rows range: Range<Int>) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(range.count * rowBytes)
    for r in range {
      for k in 0..<rowBytes {
        let noise = UInt8(truncatingIfNeeded: (r &* 2_654_435_761 &+ k &* 40503) >> 13)
        out.append(k % size == size - 1 ? UInt8(truncatingIfNeeded: r / 7) : (k % 3 == 0 ? noise : UInt8(truncatingIfNeeded: k)))
      }
    }
    // Big-endian files are written from native values: the bytes are what reads give back.
    return out
  }

  /// What a read gives: the written rows, zeros (the default fill value) elsewhere.
  var expectedBytes: [UInt8] {
    var out = [UInt8](repeating: 0, count: rows * rowBytes)
    for range in writtenRows ?? [0..<rows] {
      let v = values(rows: range)
      out.replaceSubrange((range.lowerBound * rowBytes)..<(range.upperBound * rowBytes), with: v)
    }
    return out
  }

  static func write(_ specs: [GeneratedDataset], to path: String) throws {
    let file = H5Fcreate(path, datasan_h5f_acc_trunc(), datasan_h5p_default(), datasan_h5p_default())
    try #require(file >= 0)
    defer { H5Fclose(file) }
    for spec in specs {
      let dims = [UInt64(spec.rows)] + spec.row.map(UInt64.init)
      let chunk = [UInt64(spec.chunk)] + spec.row.map(UInt64.init)
      let space = H5Screate_simple(Int32(dims.count), dims, nil)
      defer { H5Sclose(space) }
      let dcpl = H5Pcreate(datasan_h5p_dataset_create())
      defer { H5Pclose(dcpl) }
      #expect(H5Pset_chunk(dcpl, Int32(chunk.count), chunk) >= 0)
      for filter in spec.filters {
        switch filter {
        case .shuffle: #expect(H5Pset_shuffle(dcpl) >= 0)
        case .deflate: #expect(H5Pset_deflate(dcpl, 5) >= 0)
        case .fletcher32: #expect(H5Pset_fletcher32(dcpl) >= 0)
        }
      }
      if spec.dontFilterPartial { #expect(H5Pset_chunk_opts(dcpl, UInt32(H5D_CHUNK_DONT_FILTER_PARTIAL_CHUNKS)) >= 0) }
      let dataset = H5Dcreate2(file, spec.name, spec.fileType, space, datasan_h5p_default(), dcpl, datasan_h5p_default())
      try #require(dataset >= 0)
      defer { H5Dclose(dataset) }
      for range in spec.writtenRows ?? [0..<spec.rows] {
        let fileSpace = H5Dget_space(dataset)
        defer { H5Sclose(fileSpace) }
        let start = [UInt64(range.lowerBound)] + spec.row.map { _ in UInt64(0) }
        let count = [UInt64(range.count)] + spec.row.map(UInt64.init)
        #expect(H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nil, count, nil) >= 0)
        let memorySpace = H5Screate_simple(Int32(count.count), count, nil)
        defer { H5Sclose(memorySpace) }
        let values = spec.values(rows: range)
        #expect(H5Dwrite(dataset, spec.memoryType, memorySpace, fileSpace, datasan_h5p_default(), values) >= 0)
      }
    }
  }
}
