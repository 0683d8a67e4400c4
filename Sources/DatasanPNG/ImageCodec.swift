import DatasanCore

/// What an encoded image decodes to, read from its header alone (no pixel decoded).
public struct ImageHeader: Sendable, Equatable {
  /// Width and height in pixels.
  public var width: Int
  public var height: Int
  /// Channels of the decoded image (1 gray, 2 gray+alpha, 3 colour, 4 colour+alpha).
  public var channels: Int
  /// Bits per decoded value: 8 or 16.
  public var bitDepth: Int
  /// The colour model the image is stored in when decoding converts it to another ("CMYK" or
  /// "YCCK", decoded to RGB); nil when the decoded channels are the stored ones.
  public var convertedFrom: String?

  public init(width: Int, height: Int, channels: Int, bitDepth: Int, convertedFrom: String? = nil) {
    self.width = width
    self.height = height
    self.channels = channels
    self.bitDepth = bitDepth
    self.convertedFrom = convertedFrom
  }

  /// `.uint8` or `.uint16`.
  public var elementType: ElementType { bitDepth == 16 ? .uint16 : .uint8 }
  /// Number of decoded values: width x height x channels.
  public var elementCount: Int { width * height * channels }
  /// Size of the decoded values in bytes.
  public var byteCount: Int { elementCount * (bitDepth / 8) }

  /// `[C, H, W]` for `.first`, `[H, W, C]` for `.last`.
  public func shape(_ channelAxis: ChannelAxis) -> [Int] {
    channelAxis == .first ? [channels, height, width] : [height, width, channels]
  }
}

/// Why an image did not decode; `message` is the codec's own reason ("IDAT: CRC error", ...).
public struct ImageDecodeError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The kinds of failure.
  public enum Reason: Sendable, Equatable {
    /// Not a valid image: empty, truncated, bad signature, checksum error, bad data.
    case invalid
    /// The declared width x height exceeds the pixel limit (refused before decoding).
    case tooLarge
    /// The destination given to ``ImageCodec/decode(_:maxPixels:channelAxis:into:)`` is too small.
    case bufferTooSmall
    /// Out of memory or another failure outside the file.
    case failure
  }

  public var reason: Reason
  /// The codec's message, or datasan's for what the codec does not see.
  public var message: String

  public init(_ reason: Reason, _ message: String) {
    self.reason = reason
    self.message = message
  }

  public var description: String { message }
}

/// One image format (PNG, JPEG): recognized by its magic bytes, its header read cheaply,
/// decoded into a caller's buffer. Implementations are thread-safe: readers decode several images at
/// once with one codec value.
///
/// Adding a codec is a conformance plus one entry in ``ImageCodecs/registered``: the image folder
/// reader and the LMDB reader's encoded Datums find it there.
public protocol ImageCodec: Sendable {
  /// The format's name in messages ("PNG").
  var name: String { get }
  /// File name extensions of this format, lower case without the dot: an image folder takes the
  /// files with these (in any case).
  var fileExtensions: [String] { get }
  /// Whether `bytes` start with this format's signature. Cheap: looks at the first bytes only.
  func recognizes(_ bytes: UnsafeRawBufferPointer) -> Bool
  /// Reads the header of the image in `bytes` (no pixel decoded, no pixel memory allocated); an
  /// image of more than `maxPixels` pixels is `.tooLarge`.
  func readHeader(_ bytes: UnsafeRawBufferPointer, maxPixels: Int) -> Result<ImageHeader, ImageDecodeError>
  /// Decodes the image in `bytes` into `destination` (at least the header's ``ImageHeader/byteCount``
  /// bytes), C x H x W for `.first` or H x W x C for `.last`, 16-bit values in native byte order.
  /// An image of more than `maxPixels` pixels is refused before any allocation. On failure
  /// `destination` may be partly written.
  func decode(
    _ bytes: UnsafeRawBufferPointer, maxPixels: Int, channelAxis: ChannelAxis, into destination: UnsafeMutableRawBufferPointer
  ) -> Result<ImageHeader, ImageDecodeError>
}

/// The registry of image codecs: which one decodes given bytes (by their magic bytes, never the
/// file name), and which files an image folder takes.
public struct ImageCodecs: Sendable {
  /// In order of preference; the first also explains bytes that no codec recognizes.
  public let codecs: [any ImageCodec]

  public init(_ codecs: [any ImageCodec]) {
    precondition(!codecs.isEmpty, "an image codec registry needs a codec")
    self.codecs = codecs
    extensions = codecs.map { $0.fileExtensions.map { Array(("." + $0).utf8) } }
  }

  /// The codecs datasan decodes with. Register a new codec here.
  public static let registered = ImageCodecs([PNGCodec(), JPEGCodec()])

  /// `.ext` of each codec (in the order of ``codecs``), as lower-case bytes: made once, so that
  /// matching a file name allocates nothing.
  private let extensions: [[[UInt8]]]

  /// The codec for `bytes`: the first that recognizes them, else the first registered one, so
  /// that its reader says why the bytes are not an image ("Not a PNG file").
  public func codec(for bytes: UnsafeRawBufferPointer) -> any ImageCodec {
    codecs.first { $0.recognizes(bytes) } ?? codecs[0]
  }

  /// The codec for `bytes` of a file named `name`: the first that recognizes them, else the one
  /// the name's extension names, else the first registered one (whose reader says why the bytes are
  /// not an image).
  public func codec(for bytes: UnsafeRawBufferPointer, fileNamed name: [UInt8]) -> any ImageCodec {
    codecs.first { $0.recognizes(bytes) } ?? codec(forFileNamed: name) ?? codecs[0]
  }

  /// The codec whose extension ends `name` (in any case), or nil.
  public func codec(forFileNamed name: [UInt8]) -> (any ImageCodec)? {
    zip(codecs, extensions).first { _, extensions in extensions.contains { Self.name(name, endsWith: $0) } }?.0
  }

  /// Whether some codec recognizes `bytes`.
  public func recognizes(_ bytes: UnsafeRawBufferPointer) -> Bool { codecs.contains { $0.recognizes(bytes) } }

  /// The file extensions of the codecs, for messages: ".png, .jpg or .jpeg".
  public var extensionList: String {
    let all = codecs.flatMap { $0.fileExtensions.map { "." + $0 } }
    return all.count <= 1 ? all.joined() : all.dropLast().joined(separator: ", ") + " or " + all.last!
  }

  /// The names of the codecs, for messages: "PNG", "PNG or JPEG".
  public var names: String { codecs.map(\.name).joined(separator: " or ") }

  /// Whether an image folder takes the file `name`: it ends with the extension of a codec, in any
  /// case, after at least one other byte.
  public func takesFile(named name: [UInt8]) -> Bool {
    extensions.contains { $0.contains { Self.name(name, endsWith: $0) } }
  }

  /// Whether `name` ends with `ext` (lower-case ASCII, with its dot) in any case, after at least one
  /// other byte.
  private static func name(_ name: [UInt8], endsWith ext: [UInt8]) -> Bool {
    name.count > ext.count && zip(name[(name.count - ext.count)...], ext).allSatisfy { $0 | 0x20 == $1 | 0x20 }
  }

  /// ``ImageCodec/readHeader(_:maxPixels:)`` of the codec for `bytes`.
  public func readHeader(_ bytes: UnsafeRawBufferPointer, maxPixels: Int) -> Result<ImageHeader, ImageDecodeError> {
    codec(for: bytes).readHeader(bytes, maxPixels: maxPixels)
  }

  /// ``ImageCodec/decode(_:maxPixels:channelAxis:into:)`` of the codec for `bytes`.
  public func decode(
    _ bytes: UnsafeRawBufferPointer, maxPixels: Int, channelAxis: ChannelAxis, into destination: UnsafeMutableRawBufferPointer
  ) -> Result<ImageHeader, ImageDecodeError> {
    codec(for: bytes).decode(bytes, maxPixels: maxPixels, channelAxis: channelAxis, into: destination)
  }

  /// Decodes `bytes` into scratch memory that is dropped: whether they decode, and their header.
  public func trialDecode(
    _ bytes: UnsafeRawBufferPointer, maxPixels: Int, channelAxis: ChannelAxis
  ) -> Result<ImageHeader, ImageDecodeError> {
    let codec = codec(for: bytes)
    return codec.readHeader(bytes, maxPixels: maxPixels).flatMap { header in
      let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: Swift.max(header.byteCount, 1), alignment: 16)
      defer { scratch.deallocate() }
      return codec.decode(bytes, maxPixels: maxPixels, channelAxis: channelAxis, into: scratch)
    }
  }
}

/// PNG through ``PNGDecoder``: the fast path (fast.c) for the common images, libpng for the rest.
public struct PNGCodec: ImageCodec {
  public init() {}
  public var name: String { "PNG" }
  public var fileExtensions: [String] { ["png"] }

  /// The 8-byte PNG signature.
  public func recognizes(_ bytes: UnsafeRawBufferPointer) -> Bool {
    let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    return bytes.count >= 8 && zip(bytes.prefix(8), signature).allSatisfy { $0 == $1 }
  }

  public func readHeader(_ bytes: UnsafeRawBufferPointer, maxPixels: Int) -> Result<ImageHeader, ImageDecodeError> {
    PNGDecoder.readHeader(bytes, maxPixels: maxPixels).map(\.image)
  }

  public func decode(
    _ bytes: UnsafeRawBufferPointer, maxPixels: Int, channelAxis: ChannelAxis, into destination: UnsafeMutableRawBufferPointer
  ) -> Result<ImageHeader, ImageDecodeError> {
    PNGDecoder.decode(bytes, maxPixels: maxPixels, channelAxis: channelAxis, into: destination).map(\.image)
  }
}

extension PNGImageHeader {
  /// The codec-independent part.
  public var image: ImageHeader { ImageHeader(width: width, height: height, channels: channels, bitDepth: bitDepth) }
}
