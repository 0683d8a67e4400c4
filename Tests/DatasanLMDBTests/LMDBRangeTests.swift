import DatasanCore
import DatasanTestSupport
import Foundation
import Testing

@testable import DatasanLMDB

/// Readers start at a record range: the records of consecutive ranges are exactly those of a whole
/// read, in key order, for the general path and the raw fast path.
@Suite struct LMDBRangeTests {
  @Test func recordRangesReadExactlyTheWholeRead() throws {
    var rng = SplitMix(seed: 0x4C4D)
    var environments = 0
    let root = URL(fileURLWithPath: fixture("raw.lmdb")).deletingLastPathComponent().path
    for name in try FileManager.default.contentsOfDirectory(atPath: root).sorted() where name.hasSuffix(".lmdb") {
      // Originals kept (clean: the general path) and not (scan: the raw fast path), both axes.
      for (keep, axis) in [(true, ChannelAxis.first), (false, .first), (false, .last)] {
        var options = ReadOptions()
        options.keepOriginals = keep
        options.channelAxis = axis
        options.batchBytes = 1 << 12  // many batches
        guard let whole = try? LMDBReader(path: fixture(name), options: options),
          let all = try? readSamples(whole), all.count >= 2
        else { continue }
        environments += 1
        let count = all.count
        for parts in [2, 3, 5] {
          let cuts = randomSplit(0..<count, parts: parts, using: &rng)
          var got: [StreamSample] = []
          for k in 0..<parts {
            options.sampleRange = .samples(cuts[k]..<cuts[k + 1])
            let reader = try LMDBReader(path: fixture(name), options: options)
            #expect(reader.info.sampleCount == cuts[k + 1] - cuts[k])
            #expect(reader.info.elementType == whole.info.elementType && reader.info.sampleShape == whole.info.sampleShape)
            got += try readSamples(reader)
          }
          #expect(got == all, "\(name) split at \(cuts), originals \(keep), axis \(axis)")
        }
      }
    }
    #expect(environments >= 15)
  }

  /// A range reads about its share of the values: the records before it are stepped over by key.
  @Test func aRangeCopiesOnlyItsValues() throws {
    var options = ReadOptions()
    options.keepOriginals = false
    let whole = try LMDBReader(path: fixture("many.lmdb"), options: options)
    let all = try readSamples(whole)
    let count = all.count
    #expect(count >= 8)
    options.sampleRange = .samples((count - count / 4)..<count)
    let last = try LMDBReader(path: fixture("many.lmdb"), options: options)
    #expect(try readSamples(last) == Array(all.suffix(count / 4)))
    #expect(last.bytesRead < whole.bytesRead / 2, "\(last.bytesRead) of \(whole.bytesRead) bytes")
  }

  @Test func aByteRangeIsNotForLMDB() {
    var options = ReadOptions()
    options.sampleRange = .bytes(0..<10)
    #expect(throws: DatasanError.self) { try LMDBReader(path: fixture("raw.lmdb"), options: options) }
  }
}
