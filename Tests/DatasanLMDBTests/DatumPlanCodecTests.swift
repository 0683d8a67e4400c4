import DatasanCore
import DatasanPNG
import Testing

@testable import DatasanLMDB

/// Encoded Datums are decoded by the codec their bytes name: a registered codec is all it takes.
@Suite struct DatumPlanCodecTests {
  /// A one-pixel gray format: "1PX" then the value.
  struct OnePixel: ImageCodec {
    var name: String { "1PX" }
    var fileExtensions: [String] { ["1px"] }
    func recognizes(_ bytes: UnsafeRawBufferPointer) -> Bool { bytes.starts(with: Array("1PX".utf8)) }
    func readHeader(_ bytes: UnsafeRawBufferPointer, maxPixels: Int) -> Result<ImageHeader, ImageDecodeError> {
      bytes.count == 4 ? .success(ImageHeader(width: 1, height: 1, channels: 1, bitDepth: 8))
        : .failure(ImageDecodeError(.invalid, "1PX: not 4 bytes"))
    }
    func decode(
      _ bytes: UnsafeRawBufferPointer, maxPixels: Int, channelAxis: ChannelAxis,
      into destination: UnsafeMutableRawBufferPointer
    ) -> Result<ImageHeader, ImageDecodeError> {
      readHeader(bytes, maxPixels: maxPixels).map { header in
        destination[0] = bytes[3]
        return header
      }
    }
  }

  func datum(_ image: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    image.withUnsafeBytes { Datum.encode(dimensions: nil, data: $0, label: 4, encoded: true, into: &out) }
    return out
  }

  @Test func anEncodedDatumIsPlannedAndDecodedByItsCodec() throws {
    var planner = DatumPlanner(codecs: ImageCodecs([PNGCodec(), OnePixel()]), options: ReadOptions())
    let value = datum(Array("1PX".utf8) + [200])
    let plan = value.withUnsafeBytes { planner.plan($0) }
    guard case .image(let header) = plan.content else {
      Issue.record("not planned as an image: \(plan.content)")
      return
    }
    #expect(header == ImageHeader(width: 1, height: 1, channels: 1, bitDepth: 8) && plan.shape == [1, 1, 1])
    #expect(plan.label == 4 && plan.problem == nil)
    var pixel: [UInt8] = [0]
    let decoded = value.withUnsafeBytes { v in pixel.withUnsafeMutableBytes { planner.decodeImage(plan, in: v, into: $0) } }
    #expect((try? decoded.get()) == header && pixel == [200])
    // The codec's own message for bytes it recognizes but cannot read.
    let bad = datum(Array("1PX".utf8) + [1, 2]).withUnsafeBytes { planner.plan($0) }
    #expect(bad.problem == ReaderProblem(.unreadable, "encoded image does not decode: 1PX: not 4 bytes"))
    // Without the codec the same bytes are explained by the PNG codec, as before.
    var pngOnly = DatumPlanner(options: ReadOptions())
    let unknown = value.withUnsafeBytes { pngOnly.plan($0) }
    #expect(unknown.problem?.kind == .unreadable)
    #expect(unknown.problem?.detail.hasPrefix("encoded image does not decode: ") == true)
  }

  @Test func aJPEGIsNamedWhileNoCodecReadsIt() {
    var planner = DatumPlanner(codecs: ImageCodecs([PNGCodec()]), options: ReadOptions())
    let plan = datum([0xFF, 0xD8, 0xFF, 0xE0, 0, 16]).withUnsafeBytes { planner.plan($0) }
    #expect(plan.problem == ReaderProblem(.unreadable, "encoded image is a JPEG (datasan decodes encoded PNG only)"))
    // With the registered codecs, libjpeg reads it and says why it does not decode.
    var registered = DatumPlanner(options: ReadOptions())
    let read = datum([0xFF, 0xD8, 0xFF, 0xE0, 0, 16]).withUnsafeBytes { registered.plan($0) }
    #expect(read.problem == ReaderProblem(.unreadable, "encoded image does not decode: no image: the JPEG ends before a frame header (SOF)"))
  }
}
