import DatasanCore
import Foundation
import Testing

@testable import DatasanPNG

/// `Fixtures/jpeg/<name>` (made by Fixtures/make_jpeg_fixtures.py).
enum JPEGFixture {
  static func path(_ name: String) -> String { Fixture.root.appendingPathComponent("Fixtures/jpeg/\(name)").path }
  static func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path(name)))) }

  /// One entry of kinds/expected.json: what Pillow decodes, C x H x W.
  struct Expected {
    var channels: Int
    var height: Int
    var width: Int
    var values: [Int]
    var convertedFrom: String?
  }

  static let expected: [String: Expected] = {
    guard let data = try? Data(contentsOf: URL(fileURLWithPath: path("kinds/expected.json"))),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: [String: Any]]
    else { return [:] }
    var result: [String: Expected] = [:]
    for (name, e) in object {
      var values = (e["values"] as? [Int]) ?? []
      if let png = e["png"] as? String, let bytes = try? JPEGFixture.bytes("kinds/\(png)"),
        case .success(let image) = bytes.withUnsafeBytes({ PNGDecoder.decode($0, maxPixels: 1 << 30, channelAxis: .first) })
      {
        values = image.bytes.map(Int.init)
      }
      result[name] = Expected(
        channels: e["channels"] as? Int ?? -1, height: e["height"] as? Int ?? -1, width: e["width"] as? Int ?? -1,
        values: values, convertedFrom: e["converted_from"] as? String)
    }
    return result
  }()
}

/// Decodes `bytes` with the JPEG codec into a new array.
func decodeJPEG(
  _ bytes: [UInt8], maxPixels: Int = 100_000_000, axis: ChannelAxis = .first
) -> Result<(ImageHeader, [Int]), ImageDecodeError> {
  let codec = JPEGCodec()
  return bytes.withUnsafeBytes { raw in
    codec.readHeader(raw, maxPixels: maxPixels).flatMap { header in
      var out = [UInt8](repeating: 0, count: header.byteCount)
      let result = out.withUnsafeMutableBytes { codec.decode(raw, maxPixels: maxPixels, channelAxis: axis, into: $0) }
      return result.map { ($0, out.map(Int.init)) }
    }
  }
}

/// The JPEG codec (TurboJPEG through CDatasanJPEG) against Pillow's decoding of the same files.
@Suite struct JPEGCodecTests {
  static let kinds = JPEGFixture.expected.keys.sorted()

  @Test func everyKindFixtureIsListed() {
    #expect(Self.kinds.count == 12)
  }

  /// Value for value what Pillow (libjpeg-turbo, accurate integer IDCT, fancy upsampling) decodes:
  /// baseline 4:2:0 / 4:2:2 / 4:4:4, partial MCUs, progressive, optimized tables, restart markers,
  /// EXIF, gray, and CMYK / YCCK through Pillow's convert("RGB").
  @Test(arguments: kinds) func decodesWhatPillowDecodes(_ name: String) throws {
    let expected = try #require(JPEGFixture.expected[name])
    let bytes = try JPEGFixture.bytes("kinds/\(name)")
    let (header, values) = try decodeJPEG(bytes).get()
    #expect(header == ImageHeader(
      width: expected.width, height: expected.height, channels: expected.channels, bitDepth: 8,
      convertedFrom: expected.convertedFrom))
    #expect(values.count == expected.values.count)
    let differing = zip(values, expected.values).filter { $0 != $1 }.count
    #expect(differing == 0, "\(name): \(differing) of \(values.count) values differ from Pillow's")
    // The header alone says the same, without decoding.
    let alone = bytes.withUnsafeBytes { JPEGCodec().readHeader($0, maxPixels: 100_000_000) }
    #expect(try alone.get() == header)
  }

  /// H x W x C is the same values interleaved.
  @Test(arguments: ["baseline_420.jpg", "gray.jpg", "cmyk.jpg", "ycck.jpg", "odd_420.jpg"])
  func channelsLastIsTheTranspose(_ name: String) throws {
    let bytes = try JPEGFixture.bytes("kinds/\(name)")
    let (h, first) = try decodeJPEG(bytes, axis: .first).get()
    let (_, last) = try decodeJPEG(bytes, axis: .last).get()
    let plane = h.width * h.height
    var transposed = [Int](repeating: -1, count: first.count)
    for p in 0..<plane { for c in 0..<h.channels { transposed[p * h.channels + c] = first[c * plane + p] } }
    #expect(last == transposed)
  }

  /// Strict like the PNG rules: every libjpeg error and warning is `.invalid` with libjpeg's message,
  /// where Pillow decodes corrupt_entropy.jpg and extraneous.jpg without a word.
  @Test(arguments: [
    ("truncated.jpg", "Premature end of JPEG file"),
    ("truncated_header.jpg", "Invalid JPEG file structure: missing SOS marker"),
    ("corrupt_entropy.jpg", "Corrupt JPEG data: 64 extraneous bytes before marker 0xd9"),
    ("bad_huffman.jpg", "Bogus Huffman table definition"),
    ("extraneous.jpg", "Corrupt JPEG data: 2 extraneous bytes before marker 0xdb"),
    ("no_sof.jpg", "no image: the JPEG ends before a frame header (SOF)"),
    ("empty.jpg", "empty file"),
    ("text.jpg", "Not a JPEG file: starts with 0x74 0x68"),
  ])
  func brokenFilesAreInvalidWithLibjpegsMessage(_ name: String, _ message: String) throws {
    let result = decodeJPEG(try JPEGFixture.bytes("broken/\(name)"))
    #expect(result.map { _ in 0 } == .failure(ImageDecodeError(.invalid, message)))
    // Several threads at once (each has its own decompressor): the same message.
    let bytes = try JPEGFixture.bytes("broken/\(name)")
    let messages = parallelMap(8) { _ -> String in
      if case .failure(let e) = decodeJPEG(bytes) { return e.message }
      return "decoded"
    }
    #expect(Set(messages) == [message])
  }

  /// A header declaring more than maxPixels is refused before any pixel memory: the decode call is
  /// given no destination at all and still answers `.tooLarge` (not `.bufferTooSmall`), for a
  /// progressive JPEG (whose coefficient buffers libjpeg would allocate whole) and a baseline one.
  @Test(arguments: [("bomb.jpg", 60000), ("bomb_baseline.jpg", 20000)])
  func aBombIsRefusedFromItsHeader(_ name: String, _ side: Int) throws {
    let bytes = try JPEGFixture.bytes("broken/\(name)")
    let message = "image of \(side) x \(side) = \(side * side) pixels exceeds --max-pixels 100000000"
    let header = bytes.withUnsafeBytes { JPEGCodec().readHeader($0, maxPixels: 100_000_000) }
    #expect(header.map { _ in 0 } == .failure(ImageDecodeError(.tooLarge, message)))
    let decoded = bytes.withUnsafeBytes {
      JPEGCodec().decode($0, maxPixels: 100_000_000, channelAxis: .first, into: UnsafeMutableRawBufferPointer(start: nil, count: 0))
    }
    #expect(decoded.map { _ in 0 } == .failure(ImageDecodeError(.tooLarge, message)))
    // A good file above a small limit: the same refusal, exactly at the limit it decodes.
    let ok = try JPEGFixture.bytes("broken/ok.jpg")
    #expect(decodeJPEG(ok, maxPixels: 16 * 12 - 1).map { _ in 0 }
      == .failure(ImageDecodeError(.tooLarge, "image of 16 x 12 = 192 pixels exceeds --max-pixels 191")))
    #expect(throws: Never.self) { try decodeJPEG(ok, maxPixels: 16 * 12).get() }
  }

  /// A decompressor after a failure: TurboJPEG 2.1 would misread the next header with it ("no image"),
  /// so none is reused. Every broken file, each followed by a good one, on one thread.
  @Test func aFailureLeavesNothingBehind() throws {
    let ok = try JPEGFixture.bytes("broken/ok.jpg")
    let (_, good) = try decodeJPEG(ok).get()
    for name in try FileManager.default.contentsOfDirectory(atPath: JPEGFixture.path("broken")).sorted() {
      _ = decodeJPEG(try JPEGFixture.bytes("broken/\(name)"))
      let again = try decodeJPEG(ok).get()
      #expect(again.1 == good, "after \(name)")
      let header = ok.withUnsafeBytes { JPEGCodec().readHeader($0, maxPixels: 1000) }
      #expect(try header.get().width == 16, "after \(name)")
    }
  }

  /// libjpeg keeps the last image's quantization tables in a decompressor: a JPEG without DQT (the jpeg
  /// fuzz target's Fuzz/crashes/jpeg/crash-4e21c33e...) decoded after another file would use that
  /// file's tables. Every call has a decompressor of its own, so the verdict does not depend on what
  /// the thread decoded before.
  @Test func aJPEGWithoutQuantizationTablesNeverBorrowsAnothersTables() throws {
    let noTables = try [UInt8](Data(contentsOf: Fixture.root.appendingPathComponent(
      "Fuzz/crashes/jpeg/crash-4e21c33e6732363459c097986617952840df6a41")))
    let alone = decodeJPEG(noTables).map { _ in 0 }
    _ = try decodeJPEG(try JPEGFixture.bytes("kinds/cmyk.jpg")).get()
    #expect(decodeJPEG(noTables).map { _ in 0 } == alone)
    _ = try decodeJPEG(try JPEGFixture.bytes("kinds/baseline_420.jpg"), axis: .last).get()
    #expect(decodeJPEG(noTables, axis: .last).map { _ in 0 } == alone)
    print("no DQT: \(alone)")
  }

  @Test func aSmallDestinationIsRefused() throws {
    let bytes = try JPEGFixture.bytes("broken/ok.jpg")
    var out = [UInt8](repeating: 0, count: 16 * 12 * 3 - 1)
    let result = bytes.withUnsafeBytes { raw in
      out.withUnsafeMutableBytes { JPEGCodec().decode(raw, maxPixels: 1000, channelAxis: .first, into: $0) }
    }
    #expect(result.map { _ in 0 } == .failure(ImageDecodeError(.bufferTooSmall, "output buffer too small")))
  }

  /// The registry: JPEG bytes go to the JPEG codec whatever the name says; bytes no codec recognizes
  /// are explained by the codec the file's extension names.
  @Test func theRegistryDecidesByTheBytes() throws {
    let codecs = ImageCodecs.registered
    #expect(codecs.names == "PNG or JPEG")
    let jpeg = try JPEGFixture.bytes("kinds/baseline_420.jpg")
    let png = try Fixture.bytes("kinds/rgb.png")
    #expect(jpeg.withUnsafeBytes { codecs.codec(for: $0, fileNamed: Array("x.png".utf8)).name } == "JPEG")
    #expect(png.withUnsafeBytes { codecs.codec(for: $0, fileNamed: Array("x.JPG".utf8)).name } == "PNG")
    let text: [UInt8] = Array("hello".utf8)
    #expect(text.withUnsafeBytes { codecs.codec(for: $0, fileNamed: Array("x.jpeg".utf8)).name } == "JPEG")
    #expect(text.withUnsafeBytes { codecs.codec(for: $0, fileNamed: Array("x.png".utf8)).name } == "PNG")
    #expect(codecs.codec(forFileNamed: Array("a/B.JpEg".utf8))?.name == "JPEG")
    #expect(codecs.codec(forFileNamed: Array(".jpg".utf8)) == nil)
    for name in ["a.jpg", "a.JPG", "a.jpeg", "a.JPEG", "a.png", "a.PnG"] {
      #expect(codecs.takesFile(named: Array(name.utf8)), "\(name)")
    }
    for name in ["a.jpe", "a.jfif", "jpg", "a.jpg.txt"] {
      #expect(!codecs.takesFile(named: Array(name.utf8)), "\(name)")
    }
  }
}
