import DatasanPNG
import DatasanTestSupport
import Testing

@testable import DatasanCore
@testable import DatasanReports

/// The thumbnails' PNG encoding (libpng), checked by decoding with libpng (which verifies every CRC,
/// the zlib stream and its Adler-32).
@Suite struct PNGEncoderTests {
  func decode(_ png: [UInt8]) throws -> DecodedImage {
    try png.withUnsafeBytes { PNGDecoder.decode($0, maxPixels: 1 << 24, channelAxis: .last) }.get()
  }

  @Test(arguments: [(1, 1, 1), (7, 5, 3), (64, 48, 3), (33, 17, 1), (200, 3, 4)])
  func roundTripsThroughLibpng(size: (Int, Int, Int)) throws {
    let (w, h, c) = size
    var rng = SplitMix(state: UInt64(w * 1000 + h))
    // Noise, gradients and runs, so that every filter and both literals and matches occur.
    var pixels = [UInt8](repeating: 0, count: w * h * c)
    for y in 0..<h {
      for x in 0..<w {
        for k in 0..<c {
          let i = (y * w + x) * c + k
          switch (y + k) % 3 {
          case 0: pixels[i] = UInt8.random(in: 0...255, using: &rng)
          case 1: pixels[i] = UInt8(truncatingIfNeeded: x * 3 + y)
          default: pixels[i] = UInt8(x / 4 % 2 * 200)
          }
        }
      }
    }
    let png = HTMLThumbnails.encodePNG(width: w, height: h, channels: c, pixels: pixels)
    let image = try decode(png)
    #expect(image.width == w && image.height == h && image.channels == c)
    #expect(image.bytes == pixels)
  }

  @Test func upscaledThumbnailsCompress() throws {
    // An 8x8 RGB image upscaled 12x: 27 KB of pixels in well under 2 KB of PNG.
    var values = [Double](repeating: 0, count: 3 * 8 * 8)
    for i in values.indices { values[i] = Double((i * 37) % 256) }
    values[5] = .nan
    let t = HTMLThumbnails.thumbnail(values: values, layout: .init(channels: 3, height: 8, width: 8, channelLast: false))
    #expect(t.width == 96 && t.height == 96)
    #expect(t.nonFinite == 1)
    #expect(t.png.count < 2500)
    let image = try decode(t.png)
    #expect(image.width == 96 && image.channels == 3)
    // The NaN pixel (channel 0, y 0, x 5) is magenta over its 12x12 block.
    let p = (0 * 96 + 5 * 12) * 3
    #expect(Array(image.bytes[p..<(p + 3)]) == [255, 0, 255])
  }

  @Test func imageLayouts() {
    #expect(HTMLThumbnails.layout(of: [3, 8, 8], channelAxis: .first) == .init(channels: 3, height: 8, width: 8, channelLast: false))
    #expect(HTMLThumbnails.layout(of: [8, 8, 3], channelAxis: .last) == .init(channels: 3, height: 8, width: 8, channelLast: true))
    #expect(HTMLThumbnails.layout(of: [8, 8, 3], channelAxis: .first) == nil)
    #expect(HTMLThumbnails.layout(of: [5, 8, 8], channelAxis: .first) == nil)
    #expect(HTMLThumbnails.layout(of: [28, 28], channelAxis: .first) != nil)
    #expect(HTMLThumbnails.layout(of: [784], channelAxis: .first) == nil)
  }
}
