import DatasanTestSupport
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

  /// A zlib stream of `count` zero bytes, deflated with fixed Huffman codes (a literal 0, then
  /// matches of 258 at distance 1, then literals): about 13 bits per 258 bytes.
  static func zlibZeros(_ count: Int) -> [UInt8] {
    var out: [UInt8] = [0x78, 0x01]
    var bits: UInt64 = 0
    var used = 0
    func put(_ value: UInt64, _ n: Int) {  // LSB first
      bits |= value << UInt64(used)
      used += n
      while used >= 8 {
        out.append(UInt8(truncatingIfNeeded: bits))
        bits >>= 8
        used -= 8
      }
    }
    func putCode(_ code: UInt64, _ n: Int) {  // Huffman codes go MSB first
      var reversed: UInt64 = 0
      for k in 0..<n where code & (1 << UInt64(k)) != 0 { reversed |= 1 << UInt64(n - 1 - k) }
      put(reversed, n)
    }
    put(1, 1)  // final block
    put(1, 2)  // fixed Huffman
    var left = count
    if left > 0 {
      putCode(0x30, 8)  // literal 0
      left -= 1
    }
    while left >= 258 {
      putCode(0xC5, 8)  // length 258 (code 285)
      putCode(0, 5)  // distance 1
      left -= 258
    }
    for _ in 0..<left { putCode(0x30, 8) }
    putCode(0, 7)  // end of block (code 256)
    if used > 0 { put(0, 8 - used) }
    let adler = UInt32((count % 65521) << 16 | 1)
    out += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: adler >> UInt32($0)) }
    return out
  }

  /// A PNG whose image data is all zero bytes (every row filter 0, every value 0).
  static func zeroPNG(width: Int, height: Int, depth: Int, colorType: Int, interlaced: Bool, filtered: Int) -> [UInt8] {
    let (be32, chunk) = (PNGBytes.be32, PNGBytes.chunk)
    let ihdr = be32(width) + be32(height) + [UInt8(depth), UInt8(colorType), 0, 0, interlaced ? 1 : 0]
    let stream = zlibZeros(filtered)
    // The stream in IDAT chunks of 64 KiB, as encoders write them.
    var idat: [UInt8] = []
    var at = 0
    while at < stream.count {
      let end = Swift.min(at + 65536, stream.count)
      idat += chunk("IDAT", Array(stream[at..<end]))
      at = end
    }
    let palette = colorType == 3 ? chunk("PLTE", [9, 8, 7]) : []
    return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + palette + idat + chunk("IEND", [])
  }

  /// Images whose inflated rows exceed 64 MiB (the two 16-bit RGBA ones, 72 MB) are inflated row by
  /// row (zlib, two rows of memory), smaller ones whole (the palette one): the same bytes as libpng
  /// either way, and a file cut short is left to libpng's verdict.
  @Test(arguments: [(16, 6, false), (16, 6, true), (8, 3, true)])
  func largeImagesAreStreamedAndStillDecodeAsLibpng(_ depth: Int, _ colorType: Int, _ interlaced: Bool) throws {
    let (width, height) = (9_000, 1_000)
    let samples = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colorType]!
    let rowBytes = (width * samples * depth + 7) / 8
    var filtered = 0
    if interlaced {
      for (x0, y0, dx, dy) in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)] {
        let (w, h) = ((width - x0 + dx - 1) / dx, (height - y0 + dy - 1) / dy)
        filtered += h * ((w * samples * depth + 7) / 8 + 1)
      }
    } else {
      filtered = height * (rowBytes + 1)
    }
    let png = Self.zeroPNG(
      width: width, height: height, depth: depth, colorType: colorType, interlaced: interlaced, filtered: filtered)
    let channels = colorType == 3 ? 3 : samples
    let decoded = width * height * channels * (depth == 16 ? 2 : 1)
    var fast = [UInt8](repeating: 0xAB, count: decoded)
    var slow = [UInt8](repeating: 0xCD, count: decoded)
    for channelsFirst in [1, 0] as [Int32] {
      var h1 = datasan_png_header()
      var h2 = datasan_png_header()
      var m = [CChar](repeating: 0, count: 512)
      let s1 = png.withUnsafeBytes { i in
        fast.withUnsafeMutableBytes { o in
          datasan_png_decode(i.baseAddress, i.count, 100_000_000, channelsFirst, o.baseAddress, o.count, &h1, &m, 512)
        }
      }
      let s2 = png.withUnsafeBytes { i in
        slow.withUnsafeMutableBytes { o in
          datasan_png_decode_libpng(i.baseAddress, i.count, 100_000_000, channelsFirst, o.baseAddress, o.count, &h2, &m, 512)
        }
      }
      #expect(s1 == DATASAN_PNG_OK && s2 == DATASAN_PNG_OK)
      #expect(fast == slow)
      #expect(h1.decoded_bytes == UInt64(decoded) && h2.decoded_bytes == UInt64(decoded))
    }
    let taken = png.withUnsafeBytes { i in
      fast.withUnsafeMutableBytes { o in
        var h = datasan_png_header()
        return datasan_png_fast_path_decodes(i.baseAddress, i.count, 1, o.baseAddress, o.count, &h)
      }
    }
    #expect(taken == 1)
    // Cut inside the image data (CRC of the last IDAT recomputed is not needed: the walk declines a
    // truncated file and libpng explains), then a missing IEND: libpng's verdict either way.
    for variant in [Array(png[0..<(png.count / 2)]), Array(png[0..<(png.count - 12)])] {
      let a = Self.decode(variant, channelsFirst: true, libpngOnly: false, maxPixels: 100_000_000)
      let b = Self.decode(variant, channelsFirst: true, libpngOnly: true, maxPixels: 100_000_000)
      #expect(a.status == b.status && a.message == b.message && a.status != DATASAN_PNG_OK)
    }
  }
}
