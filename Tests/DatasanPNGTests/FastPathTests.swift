import CDatasanPNG
import DatasanCore
import Foundation
import Testing

@testable import DatasanPNG

/// The libpng-free fast path (CDatasanPNG/fast.c) must decode the common PNGs, decline the others,
/// and never change a result: whatever the input, `datasan_png_decode` (fast path first) returns
/// the same status, message, header and bytes as libpng alone.
@Suite struct FastPathTests {
  /// Status, message, header fields and decoded bytes of one decode.
  struct Outcome: Equatable, CustomStringConvertible {
    var status: Int32
    var message: String
    var header: [Int]
    var bytes: [UInt8]
    var description: String { "status \(status) '\(message)' header \(header) \(bytes.count) bytes" }
  }

  static func decode(_ png: [UInt8], channelsFirst: Bool, libpngOnly: Bool, maxPixels: UInt64 = 1 << 24) -> Outcome {
    var header = datasan_png_header()
    var message = [CChar](repeating: 0, count: 512)
    var out = [UInt8](repeating: 0xAB, count: 1 << 16)
    let status = png.withUnsafeBytes { input in
      out.withUnsafeMutableBytes { output in
        libpngOnly
          ? datasan_png_decode_libpng(
            input.baseAddress, input.count, maxPixels, channelsFirst ? 1 : 0, output.baseAddress, output.count, &header,
            &message, message.count)
          : datasan_png_decode(
            input.baseAddress, input.count, maxPixels, channelsFirst ? 1 : 0, output.baseAddress, output.count, &header,
            &message, message.count)
      }
    }
    let fields = [
      Int(header.width), Int(header.height), Int(header.channels), Int(header.bit_depth), Int(header.source_bit_depth),
      Int(header.source_color_type), Int(header.interlaced), Int(header.decoded_bytes),
    ]
    let made = status == DATASAN_PNG_OK ? Int(header.decoded_bytes) : 0
    let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    return Outcome(status: status, message: text, header: fields, bytes: Array(out[0..<made]))
  }

  static func fastPathDecodes(_ png: [UInt8]) -> Bool {
    var header = datasan_png_header()
    var out = [UInt8](repeating: 0, count: 1 << 16)
    return png.withUnsafeBytes { input in
      out.withUnsafeMutableBytes { output in
        datasan_png_fast_path_decodes(input.baseAddress, input.count, 1, output.baseAddress, output.count, &header) == 1
      }
    }
  }

  /// Every fixture PNG, by path relative to Fixtures/png.
  static let fixtures: [String] = {
    let root = Fixture.png("")
    let all = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
    return all.filter { $0.hasSuffix(".png") }.sorted()
  }()

  @Test func everyKindTakesTheFastPath() throws {
    // Palette, gray of 1/2/4 bits and Adam7 too: their cost per pixel is the common path's.
    for name in DecoderKindTests.kinds { #expect(Self.fastPathDecodes(try Fixture.bytes("kinds/\(name)")), "\(name)") }
    // Broken files are never decoded by the fast path: libpng gives the verdict.
    for name in Self.fixtures where name.hasPrefix("broken/") && name != "broken/ok.png" && name != "broken/text.png" {
      #expect(!Self.fastPathDecodes(try Fixture.bytes(name)), "\(name)")
    }
  }

  @Test func everyFixtureDecodesAsLibpngDecodesIt() throws {
    #expect(Self.fixtures.count > 40)
    for name in Self.fixtures {
      let png = try Fixture.bytes(name)
      for channelsFirst in [true, false] {
        let libpng = Self.decode(png, channelsFirst: channelsFirst, libpngOnly: true)
        let datasan = Self.decode(png, channelsFirst: channelsFirst, libpngOnly: false)
        #expect(datasan == libpng, "\(name): \(datasan) vs libpng \(libpng)")
      }
    }
  }

  /// Every single-bit flip and every truncation of images the fast path takes: the same outcome as
  /// libpng alone, failure message included (the fast path declines, libpng explains).
  @Test(arguments: [
    "rgb_filters.png", "rgba16_filters.png", "gray_alpha_filters.png", "rgb_text.png", "palette.png", "palette_trns.png",
    "gray2.png", "gray1_adam7.png", "rgb_9x7_adam7.png", "gray16_9x7_adam7.png",
  ])
  func damagedImagesGetLibpngsVerdict(_ name: String) throws {
    let png = try Fixture.bytes("kinds/\(name)")
    var variants: [[UInt8]] = (0..<png.count).map { Array(png[0..<$0]) }
    for i in 0..<png.count {
      for bit in [0, 3, 7] {
        var copy = png
        copy[i] ^= UInt8(1 << bit)
        variants.append(copy)
      }
    }
    var decoded = 0
    for (n, variant) in variants.enumerated() {
      let libpng = Self.decode(variant, channelsFirst: true, libpngOnly: true)
      let datasan = Self.decode(variant, channelsFirst: true, libpngOnly: false)
      #expect(datasan == libpng, "\(name) variant \(n): \(datasan) vs libpng \(libpng)")
      if datasan.status == DATASAN_PNG_OK { decoded += 1 }
    }
    // Only the untouched file (the full-length "prefix" is not among the variants) and flips that no
    // check can see (none in these files) decode.
    #expect(decoded == 0, "\(name): \(decoded) damaged variants decoded")
  }

  /// Images written by Pillow (zlib, adaptive filters) at several sizes and modes, as in a real
  /// image folder: fast path taken, same bytes as libpng.
  @Test func pillowStyleImagesOfTheTrainFixture() throws {
    let names = Self.fixtures.filter { $0.hasPrefix("train/") || $0.hasPrefix("imagefolder/") }
    #expect(!names.isEmpty)
    var fast = 0
    for name in names {
      let png = try Fixture.bytes(name)
      if Self.fastPathDecodes(png) { fast += 1 }
      #expect(Self.decode(png, channelsFirst: true, libpngOnly: false) == Self.decode(png, channelsFirst: true, libpngOnly: true))
    }
    #expect(fast > 0)
  }
}
