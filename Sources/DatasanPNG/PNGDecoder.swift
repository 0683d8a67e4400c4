import CDatasanPNG
import DatasanCore

/// What a PNG decodes to, read from its header (the chunks before the image data).
public struct PNGImageHeader: Sendable, Equatable {
  /// Width and height in pixels.
  public var width: Int
  public var height: Int
  /// Channels of the decoded image: 1 gray, 2 gray+alpha, 3 RGB (also palette images), 4 RGBA.
  public var channels: Int
  /// Bits per decoded value: 8 or 16.
  public var bitDepth: Int
  /// Bit depth (1, 2, 4, 8, 16) and color type (0, 2, 3, 4, 6) as stored in IHDR.
  public var sourceBitDepth: Int
  public var sourceColorType: Int
  /// Whether the file is Adam7-interlaced (it decodes to the same pixels either way).
  public var interlaced: Bool

  /// `.uint8` or `.uint16`.
  public var elementType: ElementType { image.elementType }
  /// Number of decoded values: width x height x channels.
  public var elementCount: Int { image.elementCount }
  /// Size of the decoded values in bytes.
  public var byteCount: Int { image.byteCount }

  /// `[C, H, W]` for `.first`, `[H, W, C]` for `.last`.
  public func shape(_ channelAxis: ChannelAxis) -> [Int] { image.shape(channelAxis) }

  init(_ h: datasan_png_header) {
    width = Int(h.width)
    height = Int(h.height)
    channels = Int(h.channels)
    bitDepth = Int(h.bit_depth)
    sourceBitDepth = Int(h.source_bit_depth)
    sourceColorType = Int(h.source_color_type)
    interlaced = h.interlaced != 0
  }
}

/// A decoded PNG: its values in C x H x W or H x W x C order, native byte order.
public struct DecodedImage: Sendable, Equatable {
  /// 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.
  public var channels: Int
  public var height: Int
  public var width: Int
  /// 8 or 16.
  public var bitDepth: Int
  /// `[C, H, W]` or `[H, W, C]`, as asked.
  public var shape: [Int]
  /// `.uint8` or `.uint16`.
  public var elementType: ElementType
  /// The values in `shape` order; two bytes per value in native byte order when 16-bit.
  public var bytes: [UInt8]
}

/// Why a PNG did not decode (the image codecs' error, ``ImageDecodeError``).
public typealias PNGDecodeError = ImageDecodeError

/// Decodes PNG files held in memory with libpng (through the `CDatasanPNG` shim, which owns
/// libpng's `setjmp`).
///
/// Palettes are expanded to RGB (tRNS is not applied as alpha), gray of 1/2/4 bits is scaled
/// to 8 bits, 16-bit values are kept (0...65535, native byte order), gamma and sBIT are not
/// applied, interlaced images are de-interlaced. A CRC error in any chunk, a truncated file and
/// a file without IEND do not decode. Images of more than `maxPixels` pixels are refused from
/// their header, before any pixel memory is allocated. Thread-safe: calls share no state.
public enum PNGDecoder {
  private static let messageCapacity = 512

  /// Reads the header of the PNG in `bytes` (cheap: no pixel is decoded).
  ///
  /// - Parameters:
  ///   - bytes: the whole PNG file (or at least every chunk before the first IDAT).
  ///   - maxPixels: images with more pixels fail with `.tooLarge`.
  /// - Returns: the header, or why it could not be read.
  public static func readHeader(_ bytes: UnsafeRawBufferPointer, maxPixels: Int) -> Result<
    PNGImageHeader, PNGDecodeError
  > {
    call { header, message, capacity in
      datasan_png_read_header(bytes.baseAddress, bytes.count, limit(maxPixels), header, message, capacity)
    }
  }

  /// Decodes the PNG in `bytes` into a new array.
  ///
  /// - Parameters:
  ///   - bytes: the whole PNG file.
  ///   - maxPixels: images with more pixels fail with `.tooLarge` before any allocation.
  ///   - channelAxis: `.first` for C x H x W values, `.last` for H x W x C.
  /// - Returns: the decoded image, or libpng's reason.
  public static func decode(
    _ bytes: UnsafeRawBufferPointer, maxPixels: Int, channelAxis: ChannelAxis
  ) -> Result<DecodedImage, PNGDecodeError> {
    let header: PNGImageHeader
    switch readHeader(bytes, maxPixels: maxPixels) {
    case .success(let h): header = h
    case .failure(let e): return .failure(e)
    }
    var failure: PNGDecodeError? = nil
    let values = [UInt8](unsafeUninitializedCapacity: header.byteCount) { buffer, initialized in
      switch decode(bytes, maxPixels: maxPixels, channelAxis: channelAxis, into: UnsafeMutableRawBufferPointer(buffer))
      {
      case .success: initialized = header.byteCount
      case .failure(let e):
        failure = e
        initialized = 0
      }
    }
    if let failure { return .failure(failure) }
    return .success(
      DecodedImage(
        channels: header.channels, height: header.height, width: header.width, bitDepth: header.bitDepth,
        shape: header.shape(channelAxis), elementType: header.elementType, bytes: values))
  }

  /// Decodes the PNG in `bytes` straight into `destination` (no intermediate copy).
  ///
  /// - Parameters:
  ///   - bytes: the whole PNG file.
  ///   - maxPixels: images with more pixels fail with `.tooLarge` before decoding.
  ///   - channelAxis: `.first` for C x H x W values, `.last` for H x W x C.
  ///   - destination: at least ``PNGImageHeader/byteCount`` bytes (use ``readHeader(_:maxPixels:)``
  ///     first); 16-bit values need 2-byte alignment only for typed reads afterwards.
  /// - Returns: the header of the decoded image, or why it failed (`.bufferTooSmall` when
  ///   `destination` is smaller than the image). On failure `destination` may be partly written.
  public static func decode(
    _ bytes: UnsafeRawBufferPointer, maxPixels: Int, channelAxis: ChannelAxis,
    into destination: UnsafeMutableRawBufferPointer
  ) -> Result<PNGImageHeader, PNGDecodeError> {
    call { header, message, capacity in
      datasan_png_decode(
        bytes.baseAddress, bytes.count, limit(maxPixels), channelAxis == .first ? 1 : 0, destination.baseAddress,
        destination.count, header, message, capacity)
    }
  }

  private static func limit(_ maxPixels: Int) -> UInt64 { UInt64(Swift.max(0, maxPixels)) }

  /// Runs one shim call with a header and a message buffer, and maps its status.
  private static func call(
    _ body: (UnsafeMutablePointer<datasan_png_header>, UnsafeMutablePointer<CChar>, Int) -> Int32
  ) -> Result<PNGImageHeader, PNGDecodeError> {
    withUnsafeTemporaryAllocation(of: CChar.self, capacity: messageCapacity) { message in
      var header = datasan_png_header()
      // The buffer is never empty; the shim NUL-terminates whatever it writes.
      guard let text = message.baseAddress else { return .failure(PNGDecodeError(.failure, "no message buffer")) }
      text[0] = 0
      let status = body(&header, text, messageCapacity)
      let reason: PNGDecodeError.Reason
      switch Int(status) {
      case DATASAN_PNG_OK: return .success(PNGImageHeader(header))
      case DATASAN_PNG_INVALID: reason = .invalid
      case DATASAN_PNG_TOO_LARGE: reason = .tooLarge
      case DATASAN_PNG_BUFFER_TOO_SMALL: reason = .bufferTooSmall
      default: reason = .failure
      }
      var why = String(cString: text)
      if why.isEmpty {
        why = reason == .bufferTooSmall ? "destination buffer smaller than the decoded image" : "PNG decoding failed"
      }
      return .failure(PNGDecodeError(reason, why))
    }
  }
}
