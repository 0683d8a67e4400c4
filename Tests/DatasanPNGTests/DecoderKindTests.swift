import DatasanCore
import Testing

@testable import DatasanPNG

/// Every PNG kind decodes to the values Fixtures/png/kinds/expected.json lists (C x H x W).
@Suite struct DecoderKindTests {
  static let kinds = [
    "gray1.png", "gray2.png", "gray4.png", "gray1_adam7.png", "gray8.png", "gray8_trns.png", "gray16.png",
    "gray_alpha.png", "rgb.png", "rgba.png", "palette.png", "palette_trns.png", "palette1.png", "rgb16.png",
    "rgba16.png", "rgb_9x7.png", "rgb_9x7_adam7.png", "gray16_9x7.png", "gray16_9x7_adam7.png",
    "rgb_gamma_sbit.png", "rgb_text.png", "gray8_filters.png", "gray_alpha_filters.png", "rgb_filters.png",
    "rgba_filters.png", "rgb16_filters.png", "rgba16_filters.png",
  ]

  @Test func everyFixtureKindIsListed() {
    #expect(Set(Fixture.expected.keys) == Set(Self.kinds))
  }

  @Test(arguments: kinds)
  func decodesChannelsFirst(_ name: String) throws {
    let expected = try #require(Fixture.expected[name])
    let image = try decodeFixture("kinds/\(name)").get()
    #expect(image.channels == expected.channels)
    #expect(image.height == expected.height)
    #expect(image.width == expected.width)
    #expect(image.bitDepth == expected.bitDepth)
    #expect(image.shape == [expected.channels, expected.height, expected.width])
    #expect(image.elementType == (expected.bitDepth == 16 ? .uint16 : .uint8))
    #expect(image.bytes.count == expected.values.count * expected.bitDepth / 8)
    #expect(image.values == expected.values)
  }

  @Test(arguments: kinds)
  func decodesChannelsLast(_ name: String) throws {
    let e = try #require(Fixture.expected[name])
    let image = try decodeFixture("kinds/\(name)", channelAxis: .last).get()
    #expect(image.shape == [e.height, e.width, e.channels])
    var hwc: [Int] = []
    for y in 0..<e.height {
      for x in 0..<e.width {
        for c in 0..<e.channels { hwc.append(e.values[(c * e.height + y) * e.width + x]) }
      }
    }
    #expect(image.values == hwc)
  }

  @Test func channelsPerKind() throws {
    let channels = [
      "gray1.png": 1, "gray8_trns.png": 1, "gray16.png": 1, "gray_alpha.png": 2, "rgb.png": 3, "rgba.png": 4,
      "palette.png": 3, "palette_trns.png": 3, "palette1.png": 3, "rgb16.png": 3, "rgba16.png": 4,
    ]
    for (name, c) in channels {
      #expect(try decodeFixture("kinds/\(name)").get().channels == c, "\(name)")
    }
  }

  @Test func lowBitGrayIsScaledTo8Bits() throws {
    #expect(Set(try decodeFixture("kinds/gray1.png").get().values) == [0, 255])
    #expect(Set(try decodeFixture("kinds/gray2.png").get().values) == [0, 85, 170, 255])
    #expect(try decodeFixture("kinds/gray4.png").get().values.allSatisfy { $0 % 17 == 0 })
  }

  @Test func sixteenBitValuesAreKeptUpTo65535() throws {
    let rgb16 = try decodeFixture("kinds/rgb16.png").get()
    #expect(rgb16.elementType == .uint16)
    let v = rgb16.values
    // [0, 0] is (65535, 0, 65535); [2, 3] is (1, 65534, 256); planes are 3 x 4.
    #expect(v[0] == 65535 && v[12] == 0 && v[24] == 65535)
    #expect(v[11] == 1 && v[12 + 11] == 65534 && v[24 + 11] == 256)
    #expect(v.max() == 65535)
    let gray16 = try decodeFixture("kinds/gray16.png").get().values
    #expect(gray16[0] == 65535 && gray16[1] == 0 && gray16[6] == 256)
  }

  @Test func paletteTransparencyIsNotApplied() throws {
    let plain = try decodeFixture("kinds/palette.png").get()
    let transparent = try decodeFixture("kinds/palette_trns.png").get()
    #expect(transparent.channels == 3)
    #expect(transparent.values == plain.values)
  }

  @Test func interlacedEqualsNonInterlaced() throws {
    for (plain, adam7) in [("rgb_9x7.png", "rgb_9x7_adam7.png"), ("gray16_9x7.png", "gray16_9x7_adam7.png")] {
      for axis in [ChannelAxis.first, .last] {
        let a = try decodeFixture("kinds/\(plain)", channelAxis: axis).get()
        let b = try decodeFixture("kinds/\(adam7)", channelAxis: axis).get()
        #expect(a == b, "\(adam7) \(axis)")
      }
    }
  }

  @Test func headerDescribesTheDecodedImage() throws {
    let bytes = try Fixture.bytes("kinds/rgb_9x7_adam7.png")
    let header = try bytes.withUnsafeBytes { PNGDecoder.readHeader($0, maxPixels: 1000) }.get()
    #expect(header.width == 9 && header.height == 7 && header.channels == 3 && header.bitDepth == 8)
    #expect(header.interlaced)
    #expect(header.byteCount == 9 * 7 * 3)
    #expect(header.shape(.first) == [3, 7, 9] && header.shape(.last) == [7, 9, 3])
    let gray2 = try Fixture.bytes("kinds/gray2.png")
    let h2 = try gray2.withUnsafeBytes { PNGDecoder.readHeader($0, maxPixels: 1000) }.get()
    #expect(h2.sourceBitDepth == 2 && h2.bitDepth == 8 && h2.sourceColorType == 0)
    let pal = try Fixture.bytes("kinds/palette_trns.png")
    let hp = try pal.withUnsafeBytes { PNGDecoder.readHeader($0, maxPixels: 1000) }.get()
    #expect(hp.channels == 3 && hp.sourceColorType == 3)
  }

  @Test func decodesIntoADestination() throws {
    let bytes = try Fixture.bytes("kinds/rgba16.png")
    let expected = try decodeFixture("kinds/rgba16.png").get()
    var out = [UInt8](repeating: 0xAA, count: expected.bytes.count + 3)
    let header = try bytes.withUnsafeBytes { src in
      out.withUnsafeMutableBytes { PNGDecoder.decode(src, maxPixels: 100, channelAxis: .first, into: $0) }
    }.get()
    #expect(header.byteCount == expected.bytes.count)
    #expect(Array(out.prefix(header.byteCount)) == expected.bytes)
    #expect(out.suffix(3).allSatisfy { $0 == 0xAA })
  }

  @Test func tooSmallADestinationIsRefused() throws {
    let bytes = try Fixture.bytes("kinds/rgb.png")
    var out = [UInt8](repeating: 0, count: 5 * 4 * 3 - 1)
    let result = bytes.withUnsafeBytes { src in
      out.withUnsafeMutableBytes { PNGDecoder.decode(src, maxPixels: 100, channelAxis: .first, into: $0) }
    }
    guard case .failure(let error) = result else {
      Issue.record("decoded into a buffer one byte short")
      return
    }
    #expect(error.reason == .bufferTooSmall)
  }

  @Test func maxPixelsIsInclusive() throws {
    // rgb.png is 5 x 4 = 20 pixels.
    #expect((try? decodeFixture("kinds/rgb.png", maxPixels: 20).get()) != nil)
    guard case .failure(let error) = try decodeFixture("kinds/rgb.png", maxPixels: 19) else {
      Issue.record("20 pixels decoded with --max-pixels 19")
      return
    }
    #expect(error.reason == .tooLarge)
    #expect(error.message == "image of 5 x 4 = 20 pixels exceeds --max-pixels 19")
  }
}
