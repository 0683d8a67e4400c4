import CDatasanPNG
import DatasanCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Thumbnails of flagged image samples for the HTML report.
enum HTMLThumbnails {
  /// How the values of an image sample are laid out.
  struct ImageLayout: Equatable {
    var channels: Int
    var height: Int
    var width: Int
    /// True for H x W x C, false for C x H x W.
    var channelLast: Bool
  }

  /// The image layout of a sample of `shape`: C x H x W with C in 1...4 (H x W x C with
  /// `--channel-axis last`), or H x W; nil when the sample is not an image.
  static func layout(of shape: [Int], channelAxis: ChannelAxis) -> ImageLayout? {
    switch shape.count {
    case 2 where shape[0] > 1 && shape[1] > 1:
      return ImageLayout(channels: 1, height: shape[0], width: shape[1], channelLast: false)
    case 3:
      if channelAxis == .last, (1...4).contains(shape[2]), shape[0] > 0, shape[1] > 0 {
        return ImageLayout(channels: shape[2], height: shape[0], width: shape[1], channelLast: true)
      }
      if channelAxis == .first, (1...4).contains(shape[0]), shape[1] > 0, shape[2] > 0 {
        return ImageLayout(channels: shape[0], height: shape[1], width: shape[2], channelLast: false)
      }
      return nil
    default:
      return nil
    }
  }

  /// Whether the input holds images: the reader says so, or samples are shaped like images.
  static func isImageInput(_ report: ScanReport, channelAxis: ChannelAxis) -> Bool {
    if report.info.samplesAreImages { return true }
    if let shape = report.info.sampleShape, layout(of: shape, channelAxis: channelAxis) != nil { return true }
    return report.flaggedSamples.contains { batch in
      batch.count > 0 && batch.problems[0] == nil && layout(of: batch.shape(of: 0), channelAxis: channelAxis) != nil
    }
  }

  /// A thumbnail: PNG bytes and the size it is shown at.
  struct Thumbnail {
    var png: [UInt8]
    var width: Int
    var height: Int
    /// Values that are NaN or infinite (drawn in magenta).
    var nonFinite: Int
  }

  /// Longest side of a thumbnail: small images are upscaled (nearest neighbour) to about
  /// `target`, large ones sampled down to at most `limit`.
  static let target = 96
  static let limit = 128

  /// The thumbnail of the one sample of `batch`, or nil when it has no values or is not an image.
  static func thumbnail(_ batch: SampleBatch, channelAxis: ChannelAxis) -> Thumbnail? {
    guard batch.count > 0, batch.problems[0]?.kind != .unreadable else { return nil }
    let range = batch.elementRange(of: 0)
    guard range.count > 0, let l = layout(of: batch.shape(of: 0), channelAxis: channelAxis),
      l.channels * l.height * l.width == range.count
    else { return nil }
    return batch.elementType.withType { t in render(t, batch, range, l) }
  }

  private static func render<T: FeatureElement>(_: T.Type, _ batch: SampleBatch, _ range: Range<Int>, _ l: ImageLayout) -> Thumbnail {
    let typed = batch.storage.typed(T.self, count: batch.elementCount)
    return thumbnail(UnsafeBufferPointer(rebasing: typed[range]), layout: l)
  }

  /// Scales the finite values to 0...255 (per image), non-finite values to magenta, then resizes.
  static func thumbnail(values: [Double], layout l: ImageLayout) -> Thumbnail {
    values.withUnsafeBufferPointer { thumbnail($0, layout: l) }
  }

  /// The thumbnail of one image's values (reads each value once for the range, then only the
  /// pixels the thumbnail shows).
  static func thumbnail<T: FeatureElement>(_ values: UnsafeBufferPointer<T>, layout l: ImageLayout) -> Thumbnail {
    var lo = Double.infinity
    var hi = -Double.infinity
    var nonFinite = 0
    for v in values {
      let x = v.doubleValue
      if x.isFinite {
        lo = Swift.min(lo, x)
        hi = Swift.max(hi, x)
      } else {
        nonFinite += 1
      }
    }
    let scale = hi > lo ? 255 / (hi - lo) : 0
    // Gray (1 channel, or gray + alpha) stays gray unless a value is not finite; alpha is ignored.
    let color = l.channels >= 3 || nonFinite > 0
    let outChannels = color ? 3 : 1
    func value(_ c: Int, _ y: Int, _ x: Int) -> Double {
      (l.channelLast ? values[(y * l.width + x) * l.channels + c] : values[(c * l.height + y) * l.width + x]).doubleValue
    }
    func byte(_ v: Double) -> UInt8 { hi > lo ? UInt8(Swift.max(0, Swift.min(255, ((v - lo) * scale).rounded()))) : 128 }

    let longest = Swift.max(l.width, l.height)
    var w = l.width
    var h = l.height
    if longest < target {
      let f = Swift.max(1, target / longest)
      w *= f
      h *= f
    } else if longest > limit {
      w = Swift.max(1, l.width * limit / longest)
      h = Swift.max(1, l.height * limit / longest)
    }
    var pixels = [UInt8](repeating: 0, count: w * h * outChannels)
    for y in 0..<h {
      let sy = y * l.height / h
      for x in 0..<w {
        let sx = x * l.width / w
        let o = (y * w + x) * outChannels
        if color {
          let gray = l.channels < 3
          let r = value(0, sy, sx)
          let g = gray ? r : value(1, sy, sx)
          let b = gray ? r : value(2, sy, sx)
          if !r.isFinite || !g.isFinite || !b.isFinite {
            pixels[o] = 255
            pixels[o + 1] = 0
            pixels[o + 2] = 255
          } else {
            pixels[o] = byte(r)
            pixels[o + 1] = byte(g)
            pixels[o + 2] = byte(b)
          }
        } else {
          pixels[o] = byte(value(0, sy, sx))
        }
      }
    }
    let png = encodePNG(width: w, height: h, channels: outChannels, pixels: pixels)
    return Thumbnail(png: png, width: w, height: h, nonFinite: nonFinite)
  }

  /// A PNG of `width` x `height` 8-bit pixels of `channels` (1 gray, 3 RGB), row by row, through
  /// libpng (``datasan_png_encode``). Empty when libpng fails (out of memory).
  static func encodePNG(width: Int, height: Int, channels: Int, pixels: [UInt8]) -> [UInt8] {
    precondition(pixels.count == width * height * channels, "pixel count")
    var out: UnsafeMutablePointer<UInt8>? = nil
    var size = 0
    var message = [CChar](repeating: 0, count: 256)
    let status = pixels.withUnsafeBufferPointer { p in
      datasan_png_encode(p.baseAddress, UInt32(width), UInt32(height), Int32(channels), &out, &size, &message, message.count)
    }
    guard status == Int32(DATASAN_PNG_OK), let out else { return [] }
    defer { datasan_png_free(out) }
    return Array(UnsafeBufferPointer(start: out, count: size))
  }
}
