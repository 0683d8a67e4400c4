import DatasanCore
import DatasanTestSupport
import Foundation
import Testing

@testable import DatasanHDF5

/// Readers start at a row range: the rows of consecutive ranges are exactly those of a whole read.
@Suite struct HDF5RangeTests {
  @Test func rowRangesReadExactlyTheWholeRead() throws {
    var rng = SplitMix(seed: 0x5A4D)
    var files = 0
    // Files that open with the default datasets (not those made to crash libhdf5 itself, nor
    // vds_gap.h5 of 10^12 rows).
    let names = [
      "big_sample", "clean_small", "constant", "corrupt_chunk", "corrupt_gzip", "dirty", "dtypes", "imbalance",
      "labels", "layouts", "partial", "scale", "unallocated", "userblock", "vds", "wide_chunk_rows",
      "zero_width",
    ].map { $0 + ".h5" }
    for name in names {
      for direct in [true, false] {
        var options = ReadOptions()
        options.batchBytes = 1 << 10  // many batches
        guard let whole = try? HDF5Reader(path: Fixture.hdf5(name), options: options) else { continue }
        whole.directChunks = direct
        let all = try readSamples(whole)
        let count = whole.info.sampleCount ?? 0
        guard count >= 2 else { continue }
        files += 1
        for parts in [2, 3, 7] {
          var got: [StreamSample] = []
          let cuts = randomSplit(0..<count, parts: parts, using: &rng)
          for k in 0..<parts {
            options.sampleRange = .samples(cuts[k]..<cuts[k + 1])
            let reader = try HDF5Reader(path: Fixture.hdf5(name), options: options)
            reader.directChunks = direct
            #expect(reader.info.sampleCount == cuts[k + 1] - cuts[k])
            got += try readSamples(reader)
          }
          #expect(got == all, "\(name) split at \(cuts), direct chunks \(direct)")
        }
      }
    }
    #expect(files >= 8)
    // A range past the end reads nothing; a byte range is not for HDF5.
    var options = ReadOptions()
    options.sampleRange = .samples(1_000_000..<2_000_000)
    #expect(try readSamples(try HDF5Reader(path: Fixture.hdf5("dirty.h5"), options: options)).isEmpty)
    options.sampleRange = .bytes(0..<10)
    #expect(throws: DatasanError.self) { try HDF5Reader(path: Fixture.hdf5("dirty.h5"), options: options) }
  }

  /// A range that starts inside a chunk reads the rest of it with H5Dread, then raw chunks again.
  @Test func aRangeInsideAChunkStillReadsRawChunks() throws {
    var options = ReadOptions()
    options.batchBytes = 1 << 10
    let whole = try HDF5Reader(path: Fixture.hdf5("dirty.h5"), options: options)  // 40 rows, chunks of 10, gzip
    #expect(whole.rawPlan != nil)
    whole.directChunks = true
    let all = try readSamples(whole)
    options.sampleRange = .samples(3..<37)
    let part = try HDF5Reader(path: Fixture.hdf5("dirty.h5"), options: options)
    part.directChunks = true
    #expect(try readSamples(part) == Array(all[3..<37]))
    #expect(part.pipeline != nil)
  }
}
