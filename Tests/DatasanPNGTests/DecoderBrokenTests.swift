import DatasanTestSupport
import DatasanCore
import Testing

@testable import DatasanPNG

/// Broken files fail with libpng's reason; nothing crashes, nothing is printed.
@Suite struct DecoderBrokenTests {
  static let reasons: [(String, String)] = [
    ("empty.png", "empty file (0 bytes)"),
    ("truncated.png", "unexpected end of file (truncated)"),
    ("no_iend.png", "unexpected end of file (truncated)"),
    ("short.png", "unexpected end of file (truncated)"),
    ("crc_idat.png", "IDAT: CRC error"),
    ("crc_text.png", "tEXt: CRC error"),
    ("crc_text_end.png", "tEXt: CRC error"),
    ("bad_signature.png", "Not a PNG file"),
    ("ascii_signature.png", "PNG file corrupted by ASCII conversion"),
    ("jpeg.png", "Not a PNG file (JPEG data)"),
    ("text.png", "Not a PNG file"),
  ]

  @Test(arguments: reasons)
  func brokenFileHasLibpngsReason(_ name: String, _ reason: String) throws {
    guard case .failure(let error) = try decodeFixture("broken/\(name)") else {
      Issue.record("\(name) decoded")
      return
    }
    #expect(error.reason == .invalid)
    #expect(error.message == reason)
    #expect(error.description == reason)
  }

  @Test func changedIDATByteDoesNotDecode() throws {
    guard case .failure(let error) = try decodeFixture("broken/idat_byte.png") else {
      Issue.record("idat_byte.png decoded")
      return
    }
    #expect(error.reason == .invalid)
    #expect(error.message.hasPrefix("IDAT: "))
  }

  @Test func headerAloneCatchesWhatPrecedesIDAT() throws {
    for name in ["empty.png", "crc_text.png", "bad_signature.png", "jpeg.png", "short.png"] {
      let bytes = try Fixture.bytes("broken/\(name)")
      guard case .failure = bytes.withUnsafeBytes({ PNGDecoder.readHeader($0, maxPixels: 1000) }) else {
        Issue.record("\(name): header read")
        continue
      }
    }
    // A CRC error in the image data is only seen when decoding.
    let idat = try Fixture.bytes("broken/crc_idat.png")
    #expect((try? idat.withUnsafeBytes { PNGDecoder.readHeader($0, maxPixels: 1000) }.get()) != nil)
  }

  @Test func bombHeaderIsRefusedQuicklyWithoutAllocating() throws {
    let bytes = try Fixture.bytes("broken/bomb.png")
    #expect(bytes.count < 200)
    for limit in [100_000_000, 1000] {
      let clock = ContinuousClock()
      var result: Result<DecodedImage, PNGDecodeError>? = nil
      let elapsed = clock.measure {
        result = bytes.withUnsafeBytes { PNGDecoder.decode($0, maxPixels: limit, channelAxis: .first) }
      }
      guard case .failure(let error)? = result else {
        Issue.record("a 100000 x 100000 image decoded")
        return
      }
      #expect(error.reason == .tooLarge)
      #expect(error.message == "image of 100000 x 100000 = 10000000000 pixels exceeds --max-pixels \(limit)")
      #expect(elapsed < .milliseconds(50))
    }
  }

  @Test func bombWithinTheLimitFailsOnItsData() throws {
    // With a limit above 10^10 pixels the pixel count is accepted, but its few bytes of IDAT cannot
    // inflate to 30 GB (deflate expands at most 1032:1): the header itself is refused, so a reader
    // never allocates for it.
    let bytes = try Fixture.bytes("broken/bomb.png")
    let header = bytes.withUnsafeBytes { PNGDecoder.readHeader($0, maxPixels: Int.max) }
    guard case .failure(let error) = header else {
      Issue.record("the header of bomb.png was accepted")
      return
    }
    #expect(error.reason == .invalid)
    #expect(error.message.hasPrefix("Not enough image data: "))
    var out = [UInt8](repeating: 0, count: 16)
    let result = bytes.withUnsafeBytes { src in
      out.withUnsafeMutableBytes { PNGDecoder.decode(src, maxPixels: Int.max, channelAxis: .first, into: $0) }
    }
    #expect(result == .failure(error))
  }

  /// A small file whose IHDR declares a large image (within --max-pixels) and whose image data is
  /// far too short for it, in every color type and with Adam7: refused from its header in well under
  /// a second, nothing allocated for the declared size.
  @Test(arguments: [(8, 2, false), (16, 6, false), (16, 6, true), (1, 3, true), (2, 0, false)])
  func declaredSizeBeyondItsDataIsRefusedFromTheHeader(_ depth: Int, _ colorType: Int, _ interlaced: Bool) throws {
    let png = shortDataPNG(width: 10_000, height: 10_000, depth: depth, colorType: colorType, interlaced: interlaced)
    let start = ContinuousClock.now
    let header = png.withUnsafeBytes { PNGDecoder.readHeader($0, maxPixels: 100_000_000) }
    #expect(ContinuousClock.now - start < .milliseconds(100))
    guard case .failure(let error) = header else {
      Issue.record("the header was accepted")
      return
    }
    #expect(error.reason == .invalid)
    #expect(error.message.hasPrefix("Not enough image data: "), "\(error.message)")
  }

  func shortDataPNG(width: Int, height: Int, depth: Int, colorType: Int, interlaced: Bool) -> [UInt8] {
    PNGBytes.shortData(width: width, height: height, depth: depth, colorType: colorType, interlaced: interlaced)
  }

  @Test func arbitraryPrefixesNeverCrash() throws {
    let bytes = try Fixture.bytes("kinds/rgb_text.png")
    for length in 0..<bytes.count {
      let prefix = Array(bytes[0..<length])
      let result = prefix.withUnsafeBytes { PNGDecoder.decode($0, maxPixels: 1000, channelAxis: .first) }
      if case .success = result { Issue.record("a \(length)-byte prefix of \(bytes.count) decoded") }
    }
  }

  @Test func everySingleBitFlipIsCaughtOrHarmless() throws {
    // Each bit flip breaks a CRC, the signature or a length; none may crash or hang.
    let bytes = try Fixture.bytes("kinds/gray16_9x7_adam7.png")
    var decoded = 0
    for i in 0..<bytes.count {
      for bit in [0, 5] {
        var copy = bytes
        copy[i] ^= UInt8(1 << bit)
        let result = copy.withUnsafeBytes { PNGDecoder.decode($0, maxPixels: 10_000, channelAxis: .first) }
        if case .success = result { decoded += 1 }
      }
    }
    #expect(decoded == 0)
  }
}
