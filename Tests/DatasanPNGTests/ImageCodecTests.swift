import DatasanCore
import Testing

@testable import DatasanPNG

/// The image codec seam: a registry that picks a codec by the bytes, and PNG as its first codec.
@Suite struct ImageCodecTests {
  /// A codec of a made-up format: "IMG" + width, height, channels (one byte each) + the values.
  struct ToyCodec: ImageCodec {
    var name: String { "TOY" }
    var fileExtensions: [String] { ["toy"] }
    func recognizes(_ bytes: UnsafeRawBufferPointer) -> Bool { bytes.starts(with: Array("IMG".utf8)) }
    func readHeader(_ bytes: UnsafeRawBufferPointer, maxPixels: Int) -> Result<ImageHeader, ImageDecodeError> {
      guard bytes.count >= 6 else { return .failure(ImageDecodeError(.invalid, "TOY: truncated header")) }
      let header = ImageHeader(width: Int(bytes[3]), height: Int(bytes[4]), channels: Int(bytes[5]), bitDepth: 8)
      if header.width * header.height > maxPixels { return .failure(ImageDecodeError(.tooLarge, "TOY: too large")) }
      return .success(header)
    }
    func decode(
      _ bytes: UnsafeRawBufferPointer, maxPixels: Int, channelAxis: ChannelAxis,
      into destination: UnsafeMutableRawBufferPointer
    ) -> Result<ImageHeader, ImageDecodeError> {
      readHeader(bytes, maxPixels: maxPixels).flatMap { header in
        guard bytes.count >= 6 + header.byteCount else { return .failure(ImageDecodeError(.invalid, "TOY: truncated")) }
        guard destination.count >= header.byteCount else { return .failure(ImageDecodeError(.bufferTooSmall, "small")) }
        destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[6..<(6 + header.byteCount)]))
        return .success(header)
      }
    }
  }

  @Test func theRegistryPicksTheCodecByItsMagicBytes() throws {
    let codecs = ImageCodecs([PNGCodec(), ToyCodec()])
    let png = try Fixture.bytes("kinds/rgb.png")
    let toy: [UInt8] = Array("IMG".utf8) + [2, 1, 1, 7, 9]
    #expect(png.withUnsafeBytes { codecs.codec(for: $0).name } == "PNG")
    #expect(toy.withUnsafeBytes { codecs.codec(for: $0).name } == "TOY")
    var out = [UInt8](repeating: 0, count: 2)
    let decoded = toy.withUnsafeBytes { bytes in
      out.withUnsafeMutableBytes { codecs.decode(bytes, maxPixels: 100, channelAxis: .first, into: $0) }
    }
    #expect(try decoded.get() == ImageHeader(width: 2, height: 1, channels: 1, bitDepth: 8))
    #expect(out == [7, 9])
    // The header alone refuses an image above the pixel limit.
    let tooLarge = toy.withUnsafeBytes { codecs.readHeader($0, maxPixels: 1) }
    #expect(tooLarge.map { _ in 0 } == .failure(ImageDecodeError(.tooLarge, "TOY: too large")))
    #expect(codecs.names == "PNG or TOY")
  }

  @Test func bytesNoCodecRecognizesAreExplainedByTheFirst() {
    let codecs = ImageCodecs([PNGCodec(), ToyCodec()])
    let junk: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    #expect(!junk.withUnsafeBytes { codecs.recognizes($0) })
    let result = junk.withUnsafeBytes { codecs.readHeader($0, maxPixels: 100) }
    let direct = junk.withUnsafeBytes { PNGDecoder.readHeader($0, maxPixels: 100) }
    guard case .failure(let e) = result, case .failure(let png) = direct else {
      Issue.record("junk decoded")
      return
    }
    #expect(e == png && e.reason == .invalid)
  }

  @Test func pngThroughTheSeamIsPNGDecoder() throws {
    for name in ["kinds/rgb.png", "kinds/gray16.png", "kinds/palette.png", "kinds/gray_alpha.png"] {
      let bytes = try Fixture.bytes(name)
      for axis in [ChannelAxis.first, .last] {
        let expected = try bytes.withUnsafeBytes { PNGDecoder.decode($0, maxPixels: 1 << 20, channelAxis: axis) }.get()
        let header = try bytes.withUnsafeBytes { ImageCodecs.registered.readHeader($0, maxPixels: 1 << 20) }.get()
        #expect(header.shape(axis) == expected.shape && header.bitDepth == expected.bitDepth, "\(name)")
        var out = [UInt8](repeating: 0, count: header.byteCount)
        _ = try bytes.withUnsafeBytes { b in
          out.withUnsafeMutableBytes { ImageCodecs.registered.decode(b, maxPixels: 1 << 20, channelAxis: axis, into: $0) }
        }.get()
        #expect(out == expected.bytes, "\(name)")
      }
    }
  }

  @Test func aFolderTakesTheExtensionsOfTheRegisteredCodecs() {
    let codecs = ImageCodecs([PNGCodec(), ToyCodec()])
    for (name, taken) in [("a.png", true), ("A.PNG", true), ("b.Toy", true), (".png", false), ("png", false), ("a.jpg", false)] {
      #expect(codecs.takesFile(named: Array(name.utf8)) == taken, "\(name)")
    }
    // The registered codecs: a folder takes .png, .jpg and .jpeg files (any case), nothing else.
    #expect(ImageCodecs.registered.codecs.map(\.name) == ["PNG", "JPEG"])
    #expect(PNGFolderScan.isImage(Array("x.png".utf8)) && PNGFolderScan.isImage(Array("x.jpeg".utf8)))
    #expect(PNGFolderScan.isImage(Array("x.JPG".utf8)) && !PNGFolderScan.isImage(Array("x.gif".utf8)))
  }
}
