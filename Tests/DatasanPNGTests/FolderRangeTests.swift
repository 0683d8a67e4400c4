import DatasanCore
import DatasanTestSupport
import Foundation
import Testing

@testable import DatasanPNG

/// Readers start at a file range: the files of consecutive ranges are exactly those of a whole read,
/// in path order (list order for a list).
@Suite struct FolderRangeTests {
  @Test func fileRangesReadExactlyTheWholeRead() throws {
    var rng = SplitMix(seed: 0x504E)
    let cases: [(String, String?)] = [
      ("train", nil), ("flat", nil), ("imagefolder", nil), ("mixed_depth", nil), ("broken", nil),
      ("list", Fixture.png("list/list.txt")),
    ]
    var folders = 0
    for (name, list) in cases {
      var options = ReadOptions()
      options.listFile = list.flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil }
      options.batchBytes = 1 << 9  // many batches
      guard let whole = try? PNGFolderReader(path: Fixture.png(name), options: options) else { continue }
      let all = try readSamples(whole)
      guard all.count >= 2 else { continue }
      folders += 1
      for parts in [2, 3, 5] {
        let cuts = randomSplit(0..<all.count, parts: parts, using: &rng)
        var got: [StreamSample] = []
        for k in 0..<parts {
          options.sampleRange = .samples(cuts[k]..<cuts[k + 1])
          let reader = try PNGFolderReader(path: Fixture.png(name), options: options)
          #expect(reader.info.sampleCount == cuts[k + 1] - cuts[k])
          got += try readSamples(reader)
        }
        #expect(got == all, "\(name) split at \(cuts)")
      }
    }
    #expect(folders >= 4)
  }
}
