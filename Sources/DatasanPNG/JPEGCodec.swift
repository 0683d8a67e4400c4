import CDatasanJPEG
import DatasanCore

/// JPEG through libjpeg-turbo's TurboJPEG API (the `CDatasanJPEG` shim: errors are return codes,
/// each thread keeps one decompressor).
///
/// Strict, like the PNG rules: a truncated file, corrupt entropy data or any other libjpeg warning
/// is `.invalid` with libjpeg's message (`TJFLAG_STOPONWARNING`); a header declaring more than
/// `maxPixels` pixels is `.tooLarge`, refused before any pixel memory is allocated (progressive
/// JPEGs included: their coefficient buffers are allocated after the header is checked). Gray decodes
/// to 1 channel, colour to 3 in RGB order, CMYK / YCCK to 3 as Pillow's `convert("RGB")` computes
/// them (``ImageHeader/convertedFrom`` says so). The accurate integer IDCT and fancy upsampling,
/// TurboJPEG's defaults, as Pillow (libjpeg-turbo too) decodes: the same values. EXIF orientation is not
/// applied (neither Pillow's `open` nor torchvision applies it).
public struct JPEGCodec: ImageCodec {
  public init() {}
  public var name: String { "JPEG" }
  public var fileExtensions: [String] { ["jpg", "jpeg"] }

  /// SOI followed by the start of a marker: FF D8 FF.
  public func recognizes(_ bytes: UnsafeRawBufferPointer) -> Bool {
    bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF
  }

  public func readHeader(_ bytes: UnsafeRawBufferPointer, maxPixels: Int) -> Result<ImageHeader, ImageDecodeError> {
    Self.call { header, message, capacity in
      datasan_jpeg_read_header(bytes.baseAddress, bytes.count, Self.limit(maxPixels), header, message, capacity)
    }
  }

  public func decode(
    _ bytes: UnsafeRawBufferPointer, maxPixels: Int, channelAxis: ChannelAxis, into destination: UnsafeMutableRawBufferPointer
  ) -> Result<ImageHeader, ImageDecodeError> {
    Self.call { header, message, capacity in
      datasan_jpeg_decode(
        bytes.baseAddress, bytes.count, Self.limit(maxPixels), channelAxis == .first ? 1 : 0, destination.baseAddress,
        destination.count, header, message, capacity)
    }
  }

  private static let messageCapacity = 256

  private static func limit(_ maxPixels: Int) -> UInt64 { UInt64(Swift.max(0, maxPixels)) }

  /// Runs one shim call with a header and a message buffer, and maps its status.
  private static func call(
    _ body: (UnsafeMutablePointer<datasan_jpeg_header>, UnsafeMutablePointer<CChar>, Int) -> Int32
  ) -> Result<ImageHeader, ImageDecodeError> {
    withUnsafeTemporaryAllocation(of: CChar.self, capacity: messageCapacity) { message in
      var header = datasan_jpeg_header()
      guard let text = message.baseAddress else { return .failure(ImageDecodeError(.failure, "no message buffer")) }
      text[0] = 0
      let status = body(&header, text, messageCapacity)
      let reason: ImageDecodeError.Reason
      switch Int(status) {
      case DATASAN_JPEG_OK:
        var image = ImageHeader(width: Int(header.width), height: Int(header.height), channels: Int(header.channels), bitDepth: 8)
        if header.cmyk != 0 { image.convertedFrom = header.cmyk == 2 ? "YCCK" : "CMYK" }
        return .success(image)
      case DATASAN_JPEG_INVALID: reason = .invalid
      case DATASAN_JPEG_TOO_LARGE: reason = .tooLarge
      case DATASAN_JPEG_BUFFER_TOO_SMALL: reason = .bufferTooSmall
      default: reason = .failure
      }
      var why = String(cString: text)
      if why.isEmpty {
        why = reason == .bufferTooSmall ? "destination buffer smaller than the decoded image" : "JPEG decoding failed"
      }
      return .failure(ImageDecodeError(reason, why))
    }
  }
}
