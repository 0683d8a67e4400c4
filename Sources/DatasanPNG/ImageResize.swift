import DatasanCore
import Synchronization

/// An image size in pixels (`--resize H,W`).
public struct ImageSize: Sendable, Hashable, CustomStringConvertible {
  public var height: Int
  public var width: Int

  public init(height: Int, width: Int) {
    self.height = height
    self.width = width
  }

  /// "HxW"... as `--resize` takes it: "H,W".
  public var description: String { "\(height),\(width)" }

  /// Pixels of the size (nil on overflow).
  public var pixels: Int? {
    let (p, overflow) = height.multipliedReportingOverflow(by: width)
    return overflow ? nil : p
  }
}

extension ImageHeader {
  /// The header of the image resized to `size` (itself when nil).
  public func resized(to size: ImageSize?) -> ImageHeader {
    guard let size else { return self }
    var h = self
    (h.height, h.width) = (size.height, size.width)
    return h
  }
}

/// Bilinear resizing as OpenCV's `cv::resize(..., INTER_LINEAR)` computes it (what Caffe's
/// `convert_imageset --resize_height/--resize_width` uses): one step after decoding, like
/// ``ChannelOrder``.
///
/// The same arithmetic as OpenCV 4's `resizeGeneric_`: source coordinate `(d + 0.5) * scale - 0.5`
/// in float, clamped at the borders (a column past the last one takes the last column alone, rows
/// are clamped); for 8-bit images the weights are 11-bit fixed point (`INTER_RESIZE_COEF_SCALE`
/// 2048), the horizontal pass sums in 32-bit integers and the vertical pass rounds as OpenCV's
/// `VResizeLinear<uchar, ...>` specialization does; 16-bit images use float weights and round to
/// nearest. A halving of both sides is OpenCV's INTER_AREA fast path (the mean of each 2x2 block,
/// rounded), as `cv::resize` substitutes it. The weight tables depend only on the source and target
/// sizes: they are made once per pair (``ResizePlan/plan(from:to:)``, cached) and shared by the
/// threads; resizing one image allocates two rows of intermediate values, never per pixel.
public enum ImageResize {
  /// Resizes the decoded image `source` (of `header`, C x H x W for `.first`, H x W x C for
  /// `.last`, 8 or 16 bits) to `size` into `destination` (at least `header.resized(to: size).byteCount`
  /// bytes), in the same layout.
  public static func resize(
    _ source: UnsafeRawBufferPointer, _ header: ImageHeader, channelAxis: ChannelAxis, to size: ImageSize,
    into destination: UnsafeMutableRawBufferPointer
  ) {
    let target = header.resized(to: size)
    precondition(source.count >= header.byteCount && destination.count >= target.byteCount, "resize buffers too small")
    guard header.elementCount > 0, target.elementCount > 0 else { return }
    let plan = ResizePlan.plan(from: ImageSize(height: header.height, width: header.width), to: size)
    let c = header.channels
    // Interleaved: one pass with c values a pixel; planar: one pass per plane.
    let (passes, cn) = channelAxis == .last ? (1, c) : (c, 1)
    let sourcePlane = header.width * header.height * cn
    let targetPlane = size.width * size.height * cn
    if header.bitDepth == 16 {
      let s = source.baseAddress!.assumingMemoryBound(to: UInt16.self)
      let d = destination.baseAddress!.assumingMemoryBound(to: UInt16.self)
      for p in 0..<passes { plan.resize(FloatWeights16.self, s + p * sourcePlane, d + p * targetPlane, cn) }
    } else {
      let s = source.baseAddress!.assumingMemoryBound(to: UInt8.self)
      let d = destination.baseAddress!.assumingMemoryBound(to: UInt8.self)
      for p in 0..<passes { plan.resize(FixedPoint8.self, s + p * sourcePlane, d + p * targetPlane, cn) }
    }
  }
}

/// The weight tables of one (source size, target size) pair: OpenCV's `xofs` / `alpha` and
/// `yofs` / `beta`, in fixed point (8-bit images) and float (16-bit).
public final class ResizePlan: Sendable {
  let source: ImageSize
  let target: ImageSize
  /// Source column of each target column (the left one of the pair).
  let xofs: [Int]
  /// Fixed-point weights of the pair, two per target column.
  let alpha: [Int32]
  let alphaF: [Float]
  /// Target columns from `xmax` on take their source column alone (OpenCV's right border).
  let xmax: Int
  /// The two source rows of each target row, clamped.
  let rows: [Int]
  let beta: [Int32]
  let betaF: [Float]
  /// Both sides halved exactly: OpenCV uses its INTER_AREA fast path.
  let halves: Bool

  /// `INTER_RESIZE_COEF_SCALE`.
  static let one: Int32 = 2048

  init(from source: ImageSize, to target: ImageSize) {
    self.source = source
    self.target = target
    let scaleX = 1.0 / (Double(target.width) / Double(source.width))
    let scaleY = 1.0 / (Double(target.height) / Double(source.height))
    halves = scaleX == 2 && scaleY == 2
    var xofs = [Int](repeating: 0, count: target.width)
    var alpha = [Int32](repeating: 0, count: 2 * target.width)
    var alphaF = [Float](repeating: 0, count: 2 * target.width)
    var xmax = target.width
    for dx in 0..<target.width {
      var fx = Float((Double(dx) + 0.5) * scaleX - 0.5)
      var sx = Int(fx.rounded(.down))
      fx -= Float(sx)
      if sx < 0 { (fx, sx) = (0, 0) }
      if sx + 1 >= source.width {
        xmax = Swift.min(xmax, dx)
        if sx >= source.width - 1 { (fx, sx) = (0, source.width - 1) }
      }
      xofs[dx] = sx
      (alphaF[2 * dx], alphaF[2 * dx + 1]) = (1 - fx, fx)
      alpha[2 * dx] = ResizePlan.fixed(1 - fx)
      alpha[2 * dx + 1] = ResizePlan.fixed(fx)
    }
    var rows = [Int](repeating: 0, count: 2 * target.height)
    var beta = [Int32](repeating: 0, count: 2 * target.height)
    var betaF = [Float](repeating: 0, count: 2 * target.height)
    for dy in 0..<target.height {
      var fy = Float((Double(dy) + 0.5) * scaleY - 0.5)
      let sy = Int(fy.rounded(.down))
      fy -= Float(sy)
      rows[2 * dy] = Swift.min(Swift.max(sy, 0), source.height - 1)
      rows[2 * dy + 1] = Swift.min(Swift.max(sy + 1, 0), source.height - 1)
      (betaF[2 * dy], betaF[2 * dy + 1]) = (1 - fy, fy)
      beta[2 * dy] = ResizePlan.fixed(1 - fy)
      beta[2 * dy + 1] = ResizePlan.fixed(fy)
    }
    (self.xofs, self.alpha, self.alphaF, self.xmax) = (xofs, alpha, alphaF, xmax)
    (self.rows, self.beta, self.betaF) = (rows, beta, betaF)
  }

  /// `saturate_cast<short>(w * INTER_RESIZE_COEF_SCALE)`: rounded to nearest, ties to even.
  private static func fixed(_ w: Float) -> Int32 {
    Int32(Swift.min(Swift.max((w * Float(one)).rounded(.toNearestOrEven), -32768), 32767))
  }

  // MARK: The plans made so far

  private struct Key: Hashable {
    var source: ImageSize
    var target: ImageSize
  }

  private static let cache = Mutex<[Key: ResizePlan]>([:])
  /// Plans kept at most (a folder of many sizes makes one per size; a new one past this clears them).
  private static let cacheLimit = 512

  /// The plan for resizing `source` to `target`, made once and shared.
  public static func plan(from source: ImageSize, to target: ImageSize) -> ResizePlan {
    let key = Key(source: source, target: target)
    if let known = cache.withLock({ $0[key] }) { return known }
    let plan = ResizePlan(from: source, to: target)
    cache.withLock { plans in
      if plans.count >= cacheLimit { plans.removeAll(keepingCapacity: true) }
      plans[key] = plan
    }
    return plan
  }

  // MARK: Shared steps

  /// Exactly half the size on both axes: the mean of each 2 x 2 block, rounded half up (OpenCV's
  /// shortcut for that case).
  private func halve<T: FixedWidthInteger & UnsignedInteger>(_ src: UnsafePointer<T>, _ dst: UnsafeMutablePointer<T>, _ cn: Int) {
    let (dw, dh) = (target.width, target.height)
    let srcStride = source.width * cn
    for dy in 0..<dh {
      let r0 = src + 2 * dy * srcStride
      let r1 = r0 + srcStride
      let out = dst + dy * dw * cn
      for dx in 0..<dw {
        let s = 2 * dx * cn
        for k in 0..<cn {
          let sum = Int(r0[s + k]) + Int(r0[s + cn + k]) + Int(r1[s + k]) + Int(r1[s + cn + k])
          out[dx * cn + k] = T(truncatingIfNeeded: (sum + 2) >> 2)
        }
      }
    }
  }

  /// The two horizontally resized source rows each target row blends, in `buffer`'s two halves of
  /// `rowLength`: a row is resized once (the lower row of one target row is often the upper row of the
  /// next), then `body(dy, upper, lower)` for each target row in order.
  private func rowPairs<Value>(
    _ buffer: UnsafeMutablePointer<Value>, _ rowLength: Int, _ horizontal: (Int, UnsafeMutablePointer<Value>) -> Void,
    _ body: (Int, UnsafeMutablePointer<Value>, UnsafeMutablePointer<Value>) -> Void
  ) {
    var held = (-1, -1)  // the source rows in buffer's two halves
    let (first, second) = (buffer, buffer + rowLength)
    for dy in 0..<target.height {
      let (r0, r1) = (rows[2 * dy], rows[2 * dy + 1])
      if held.0 != r0 {
        if held.1 == r0 { first.update(from: second, count: rowLength) } else { horizontal(r0, first) }
        held = (r0, -1)
      }
      if held.1 != r1 {
        if r1 == r0 { second.update(from: first, count: rowLength) } else { horizontal(r1, second) }
        held.1 = r1
      }
      body(dy, first, second)
    }
  }

  // MARK: One pass for both depths

  /// One image of `cn` interleaved channels (1 for a plane), in the arithmetic of its depth.
  func resize<A: ResizeArithmetic>(_: A.Type, _ src: UnsafePointer<A.Sample>, _ dst: UnsafeMutablePointer<A.Sample>, _ cn: Int) {
    let sw = source.width
    let dw = target.width
    let rowLength = dw * cn
    if halves { return halve(src, dst, cn) }
    let buffer = UnsafeMutablePointer<A.Value>.allocate(capacity: 2 * rowLength)
    defer { buffer.deallocate() }
    let (alpha, beta) = A.weights(self)
    xofs.withUnsafeBufferPointer { xofs in
      alpha.withUnsafeBufferPointer { alpha in
        func horizontal(_ row: Int, into out: UnsafeMutablePointer<A.Value>) {
          let s = src + row * sw * cn
          for dx in 0..<xmax {
            let sx = xofs[dx] * cn
            let (a0, a1) = (alpha[2 * dx], alpha[2 * dx + 1])
            for k in 0..<cn { out[dx * cn + k] = A.blend(s[sx + k], a0, s[sx + cn + k], a1) }
          }
          for dx in xmax..<dw {
            let sx = xofs[dx] * cn
            for k in 0..<cn { out[dx * cn + k] = A.alone(s[sx + k]) }
          }
        }
        rowPairs(buffer, rowLength, horizontal) { dy, first, second in
          let (b0, b1) = (beta[2 * dy], beta[2 * dy + 1])
          let out = dst + dy * rowLength
          for x in 0..<rowLength { out[x] = A.vertical(first[x], b0, second[x], b1) }
        }
      }
    }
  }
}

/// The arithmetic of one bit depth, as OpenCV's `resizeGeneric_` specializations do it: how a source
/// sample is weighed in the horizontal pass and how two resized rows blend into a target sample.
protocol ResizeArithmetic {
  associatedtype Sample: FixedWidthInteger & UnsignedInteger
  /// A horizontally resized value.
  associatedtype Value
  /// The plan's horizontal and vertical weights in this arithmetic.
  static func weights(_ plan: ResizePlan) -> (alpha: [Value], beta: [Value])
  static func blend(_ s0: Sample, _ w0: Value, _ s1: Sample, _ w1: Value) -> Value
  /// A column past the right border: its source column alone.
  static func alone(_ s: Sample) -> Value
  static func vertical(_ v0: Value, _ b0: Value, _ v1: Value, _ b1: Value) -> Sample
}

/// 8-bit images: 11-bit fixed-point weights, 32-bit sums, and `VResizeLinear<uchar, ...>`'s rounding.
enum FixedPoint8: ResizeArithmetic {
  static func weights(_ plan: ResizePlan) -> (alpha: [Int32], beta: [Int32]) { (plan.alpha, plan.beta) }
  @inline(__always) static func blend(_ s0: UInt8, _ w0: Int32, _ s1: UInt8, _ w1: Int32) -> Int32 {
    Int32(s0) &* w0 &+ Int32(s1) &* w1
  }
  @inline(__always) static func alone(_ s: UInt8) -> Int32 { Int32(s) &* ResizePlan.one }
  @inline(__always) static func vertical(_ v0: Int32, _ b0: Int32, _ v1: Int32, _ b1: Int32) -> UInt8 {
    UInt8(truncatingIfNeeded: (((b0 &* (v0 >> 4)) >> 16) &+ ((b1 &* (v1 >> 4)) >> 16) &+ 2) >> 2)
  }
}

/// 16-bit images: float weights, rounded to nearest and saturated.
enum FloatWeights16: ResizeArithmetic {
  static func weights(_ plan: ResizePlan) -> (alpha: [Float], beta: [Float]) { (plan.alphaF, plan.betaF) }
  @inline(__always) static func blend(_ s0: UInt16, _ w0: Float, _ s1: UInt16, _ w1: Float) -> Float {
    Float(s0) * w0 + Float(s1) * w1
  }
  @inline(__always) static func alone(_ s: UInt16) -> Float { Float(s) }
  @inline(__always) static func vertical(_ v0: Float, _ b0: Float, _ v1: Float, _ b1: Float) -> UInt16 {
    UInt16(Swift.min(Swift.max((v0 * b0 + v1 * b1).rounded(.toNearestOrEven), 0), 65535))
  }
}

extension ImageCodecs {
  /// Decodes `bytes`, resizes the image to `resize` when given (``ImageResize``), then puts the
  /// channels in `order`; returns the header of the image in `destination` (the resized one).
  /// Resizing decodes into scratch memory of the source image's size first.
  public func decode(
    _ bytes: UnsafeRawBufferPointer, maxPixels: Int, channelAxis: ChannelAxis, order: ChannelOrder, resize: ImageSize?,
    into destination: UnsafeMutableRawBufferPointer
  ) -> Result<ImageHeader, ImageDecodeError> {
    guard let resize else {
      return decode(bytes, maxPixels: maxPixels, channelAxis: channelAxis, order: order, into: destination)
    }
    let codec = codec(for: bytes)
    return codec.readHeader(bytes, maxPixels: maxPixels).flatMap { header in
      let target = header.resized(to: resize)
      guard destination.count >= target.byteCount else {
        return .failure(ImageDecodeError(.bufferTooSmall, "destination smaller than the resized image"))
      }
      let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: Swift.max(header.byteCount, 1), alignment: 16)
      defer { scratch.deallocate() }
      return codec.decode(bytes, maxPixels: maxPixels, channelAxis: channelAxis, into: scratch).map { decoded in
        ImageResize.resize(UnsafeRawBufferPointer(scratch), decoded, channelAxis: channelAxis, to: resize, into: destination)
        let resized = decoded.resized(to: resize)
        order.apply(to: destination, resized, channelAxis: channelAxis)
        return resized
      }
    }
  }
}
