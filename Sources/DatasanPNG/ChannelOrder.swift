import ArgumentParser
import DatasanCore

/// The order of the colour channels of decoded images (`--channel-order`). Codecs decode in their
/// natural RGB(A) order; the order is one step after decoding (``ImageCodecs/decode(_:maxPixels:channelAxis:order:into:)``).
///
/// Each input has its loader's view by default: an image folder is RGB (torchvision's ImageFolder,
/// Pillow), the encoded images of Caffe Datums are BGR (Caffe's `DecodeDatumToCVMat`, OpenCV's
/// `imdecode`), so that statistics, normalized outputs and `--caffe-mean` agree with what that
/// loader feeds the network. Raw Datums are not decoded: their channels stay as stored.
public enum ChannelOrder: String, CaseIterable, Sendable, ExpressibleByArgument {
  case rgb, bgr

  public static var allValueStrings: [String] { allCases.map { $0.rawValue } }

  /// Puts the channels of a decoded RGB(A) image in this order, in place: `.bgr` swaps channels 0
  /// and 2 of a colour image (3 channels; 4 with alpha, which stays last, as OpenCV's BGRA). Gray
  /// images (1 or 2 channels) and `.rgb` are left as they are.
  public func apply(to values: UnsafeMutableRawBufferPointer, _ header: ImageHeader, channelAxis: ChannelAxis) {
    guard self == .bgr, header.channels >= 3, let base = values.baseAddress else { return }
    precondition(values.count >= header.byteCount, "decoded image buffer smaller than the image")
    if header.bitDepth == 16 {
      ChannelOrder.swapRedBlue(base.assumingMemoryBound(to: UInt16.self), header, channelAxis)
    } else {
      ChannelOrder.swapRedBlue(base.assumingMemoryBound(to: UInt8.self), header, channelAxis)
    }
  }

  private static func swapRedBlue<T>(_ p: UnsafeMutablePointer<T>, _ h: ImageHeader, _ axis: ChannelAxis) {
    let plane = h.width * h.height
    if axis == .first {
      // C x H x W: swap the first and third planes, 1 KiB at a time through the stack (the
      // element-wise swap took 6% of an encoded LMDB scan; above 1 KiB the temporary is on the heap:
      // an allocation per image).
      var a = UnsafeMutableRawPointer(p), b = UnsafeMutableRawPointer(p + 2 * plane)
      var left = plane * MemoryLayout<T>.stride
      withUnsafeTemporaryAllocation(byteCount: 1024, alignment: 16) { scratch in
        let t = scratch.baseAddress!
        while left > 0 {
          let n = min(left, scratch.count)
          t.copyMemory(from: a, byteCount: n)
          a.copyMemory(from: b, byteCount: n)
          b.copyMemory(from: t, byteCount: n)
          a += n
          b += n
          left -= n
        }
      }
    } else {
      let c = h.channels
      for e in 0..<plane { swap(&p[e * c], &p[e * c + 2]) }
    }
  }
}

extension ImageCodecs {
  /// ``decode(_:maxPixels:channelAxis:into:)``, then the channels put in `order`.
  public func decode(
    _ bytes: UnsafeRawBufferPointer, maxPixels: Int, channelAxis: ChannelAxis, order: ChannelOrder,
    into destination: UnsafeMutableRawBufferPointer
  ) -> Result<ImageHeader, ImageDecodeError> {
    let result = decode(bytes, maxPixels: maxPixels, channelAxis: channelAxis, into: destination)
    if case .success(let header) = result { order.apply(to: destination, header, channelAxis: channelAxis) }
    return result
  }
}
