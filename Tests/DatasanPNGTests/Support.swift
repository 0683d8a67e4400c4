import DatasanCore
import Foundation
import Testing

@testable import DatasanPNG

/// Paths of the committed fixtures (made by Fixtures/make_png_fixtures.py).
enum Fixture {
  static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  /// `Fixtures/png/<name>`.
  static func png(_ name: String) -> String { root.appendingPathComponent("Fixtures/png/\(name)").path }

  /// The bytes of `Fixtures/png/<name>`.
  static func bytes(_ name: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: png(name))))
  }

  /// One entry of kinds/expected.json: the values datasan must decode, C x H x W.
  struct Expected {
    var channels: Int
    var height: Int
    var width: Int
    var bitDepth: Int
    var values: [Int]
  }

  static let expected: [String: Expected] = {
    guard let data = try? Data(contentsOf: URL(fileURLWithPath: png("kinds/expected.json"))),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: [String: Any]]
    else { return [:] }
    var result: [String: Expected] = [:]
    for (name, e) in object {
      result[name] = Expected(
        channels: e["channels"] as? Int ?? -1, height: e["height"] as? Int ?? -1, width: e["width"] as? Int ?? -1,
        bitDepth: e["bit_depth"] as? Int ?? -1, values: (e["values"] as? [Int]) ?? [])
    }
    return result
  }()
}

/// Decodes a fixture file.
func decodeFixture(
  _ name: String, maxPixels: Int = 100_000_000, channelAxis: ChannelAxis = .first
) throws -> Result<DecodedImage, PNGDecodeError> {
  let bytes = try Fixture.bytes(name)
  return bytes.withUnsafeBytes { PNGDecoder.decode($0, maxPixels: maxPixels, channelAxis: channelAxis) }
}

extension DecodedImage {
  /// The values as integers, in storage order.
  var values: [Int] {
    if bitDepth == 8 { return bytes.map(Int.init) }
    return bytes.withUnsafeBytes { raw in raw.bindMemory(to: UInt16.self).map(Int.init) }
  }
}

/// Reads every batch of a reader.
func readAll(_ reader: PNGFolderReader) throws -> [SampleBatch] {
  var batches: [SampleBatch] = []
  while let batch = try reader.nextBatch() { batches.append(batch) }
  return batches
}

/// One sample of a batch, flattened for assertions.
struct ReadSample: Equatable {
  var key: String
  var label: Double?
  var shape: [Int]
  var problem: ReaderProblem?
  var values: [Int]
  var original: String

  static func == (a: ReadSample, b: ReadSample) -> Bool {
    a.key == b.key && a.shape == b.shape && a.problem == b.problem && a.values == b.values && a.original == b.original
      && (a.label == b.label || (a.label?.isNaN == true && b.label?.isNaN == true))
  }
}

/// The samples of every batch, in stream order.
func samples(_ batches: [SampleBatch]) -> [ReadSample] {
  var result: [ReadSample] = []
  for batch in batches {
    for i in 0..<batch.count {
      let range = batch.elementRange(of: i)
      let values: [Int]
      switch batch.elementType {
      case .uint8: values = batch.withValues(as: UInt8.self) { Array($0[range]).map(Int.init) }
      case .uint16: values = batch.withValues(as: UInt16.self) { Array($0[range]).map(Int.init) }
      default: values = []
      }
      result.append(
        ReadSample(
          key: batch.key(of: i), label: batch.labels?[i], shape: batch.shape(of: i), problem: batch.problems[i],
          values: values, original: String(decoding: batch.originals?.record(i) ?? [], as: UTF8.self)))
    }
  }
  return result
}

/// Options with a small batch size, to exercise batching on small fixtures.
func readOptions(
  batchBytes: Int = 8 << 20, list: String? = nil, maxPixels: Int = 100_000_000, axis: ChannelAxis = .first
)
  -> ReadOptions
{
  var o = ReadOptions()
  o.batchBytes = batchBytes
  o.listFile = list
  o.maxPixels = maxPixels
  o.channelAxis = axis
  return o
}
