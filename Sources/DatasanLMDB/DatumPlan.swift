import DatasanCore
import DatasanPNG

/// What one LMDB value holds, decided before any value is written to a batch: its Datum decoded,
/// its content, shape and element type, or why it is not a usable sample.
struct DatumPlan {
  /// What a record holds.
  enum Content {
    case raw  // data bytes, uint8
    case floats  // float_data
    case image(ImageHeader)  // an encoded image, decoded by the codec its bytes name
    case unreadable
  }

  var content: Content = .unreadable
  var datum = Datum()
  /// The label, NaN when the value is not a Datum at all.
  var label: Double { hasLabel ? Double(datum.label) : .nan }
  var hasLabel = true
  func withoutLabel() -> DatumPlan {
    var p = self
    p.hasLabel = false
    return p
  }
  var shape: [Int] = [0]
  var elements = 0
  var type: ElementType = .uint8
  var problem: ReaderProblem? = nil

  /// "uint8 data record", "16-bit encoded image", ... for messages.
  var contentDescription: String {
    switch content {
    case .raw: return "uint8 data record"
    case .floats: return "float_data record"
    case .image(let h): return "\(h.bitDepth)-bit encoded image"
    case .unreadable: return "\(type.rawValue) record"
    }
  }
}

/// Plans the Datums of a read: decodes each value's Datum (``Datum/decode(_:)``) and, for an encoded
/// image, reads its header through the image codecs (no pixel decoded).
struct DatumPlanner {
  let codecs: ImageCodecs
  let maxPixels: Int
  let channelAxis: ChannelAxis
  /// The order of colour channels of decoded images: BGR unless `--channel-order` says otherwise,
  /// as Caffe's data layer sees them (`DecodeDatumToCVMat`: OpenCV's `imdecode`).
  let channelOrder: ChannelOrder
  /// `--resize`: encoded images are resized to this size after decoding, raw uint8 records (C x H x W
  /// images) as they are copied (``ImageResize``); `float_data` records keep their stored size.
  let resize: ImageSize?
  /// Records of one shape share one shape array.
  private var shapes = ImageShapes()

  init(codecs: ImageCodecs = .registered, options: ReadOptions) {
    self.codecs = codecs
    maxPixels = options.maxPixels
    channelAxis = options.channelAxis
    channelOrder = options.channelOrder ?? .bgr
    resize = options.resize
  }

  /// Decodes the Datum of one value and decides its shape and type (no pixel is decoded).
  mutating func plan(_ value: UnsafeRawBufferPointer) -> DatumPlan {
    var p = DatumPlan()
    func unreadable(_ why: String) -> DatumPlan {
      var u = DatumPlan()
      u.datum = p.datum
      u.problem = ReaderProblem(.unreadable, why)
      return u
    }
    if value.count == 0 { return unreadable("empty value").withoutLabel() }
    do {
      p.datum = try Datum.decode(value)
    } catch {
      return unreadable(error.description).withoutLabel()
    }
    let d = p.datum
    var dims: String { "channels=\(d.channels), height=\(d.height), width=\(d.width)" }  // for messages only
    if d.encoded {
      guard !d.data.isEmpty else { return unreadable("encoded Datum with empty data") }
      let image = UnsafeRawBufferPointer(rebasing: value[d.data])
      switch codecs.readHeader(image, maxPixels: maxPixels) {
      case .failure(let e):
        return unreadable(imageProblem(e, image))
      case .success(let stored):
        let header = stored.resized(to: resize)
        p.content = .image(header)
        p.shape = shapes.shape(channels: header.channels, height: header.height, width: header.width, axis: channelAxis)
        p.elements = header.elementCount
        p.type = header.elementType
        // Caffe leaves channels/height/width at 0 for encoded images; set ones must match the image.
        func differs(_ declared: Int32, _ actual: Int) -> Bool { declared != 0 && Int(declared) != actual }
        if differs(d.channels, stored.channels) || differs(d.height, stored.height) || differs(d.width, stored.width) {
          p.problem = ReaderProblem(
            .shapeMismatch,
            "encoded image is \(stored.channels)x\(stored.height)x\(stored.width) (CxHxW), the Datum says \(dims)")
        }
        return p
      }
    }
    guard let count = d.elementCount else {
      return unreadable(d.channels < 0 || d.height < 0 || d.width < 0 ? "negative dimension (\(dims))" : "dimensions too large (\(dims))")
    }
    let shape = shapes.shape(channels: Int(d.channels), height: Int(d.height), width: Int(d.width), axis: channelAxis)
    if !d.data.isEmpty {
      guard d.data.count == count else {
        return unreadable("data is \(d.data.count) bytes, channels*height*width = \(count) (\(dims))")
      }
      p.content = .raw
      p.type = .uint8
      if let resize, d.height > 0, d.width > 0, d.channels > 0 {
        p.shape = shapes.shape(channels: Int(d.channels), height: resize.height, width: resize.width, axis: channelAxis)
        p.elements = Int(d.channels) * resize.height * resize.width
        return p
      }
    } else if d.floatCount > 0 {
      guard d.floatCount == count else {
        return unreadable("float_data has \(d.floatCount) values, channels*height*width = \(count) (\(dims))")
      }
      p.content = .floats
      p.type = .float32
    } else {
      return unreadable("neither data nor float_data (\(dims))")
    }
    p.shape = shape
    p.elements = count
    return p
  }

  /// Why an encoded image is unreadable.
  func imageProblem(_ error: ImageDecodeError, _ image: UnsafeRawBufferPointer) -> String {
    if !codecs.recognizes(image) && image.count >= 3 && image[0] == 0xFF && image[1] == 0xD8 && image[2] == 0xFF {
      return "encoded image is a JPEG (datasan decodes encoded \(codecs.names) only)"
    }
    if error.reason == .tooLarge { return "encoded image: \(error.message)" }
    return "encoded image does not decode: \(error.message)"
  }

  /// Decodes the encoded image of `plan` (whose value is `value`) into `destination`, resized to
  /// ``resize`` when set, its colour channels in ``channelOrder``.
  func decodeImage(
    _ plan: DatumPlan, in value: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer
  ) -> Result<ImageHeader, ImageDecodeError> {
    codecs.decode(
      UnsafeRawBufferPointer(rebasing: value[plan.datum.data]), maxPixels: maxPixels, channelAxis: channelAxis,
      order: channelOrder, resize: resize, into: destination)
  }

  /// Whether values of `from` can be stored as `to` without loss.
  static func widens(_ from: ElementType, to: ElementType) -> Bool {
    from == to || (to == .float32 && (from == .uint8 || from == .uint16))
  }

  /// Whether a dataset of `type` takes the record of `plan`: its values widen to `type`, or it is a
  /// `float_data` record in a uint8 dataset (its storage is not its shape: the batch assembly
  /// narrows its values when they are all uint8, else makes its batch float32).
  static func holds(_ plan: DatumPlan, in type: ElementType) -> Bool {
    if case .floats = plan.content, type == .uint8 { return true }
    return widens(plan.type, to: type)
  }
}
