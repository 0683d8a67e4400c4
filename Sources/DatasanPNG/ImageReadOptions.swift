import ArgumentParser
import DatasanCore

/// How to read images (an image folder of PNG and JPEG files, and the images inside Caffe Datums) and
/// an image folder's samples.
public struct ImageReadOptions: FormatReadOptions, Equatable {
  /// PNG folders: `--list FILE` in convert_imageset's `relative/path.png LABEL` layout.
  public var listFile: String? = nil
  /// Images larger than this many pixels are refused before decoding (`--max-pixels`).
  public var maxPixels = 100_000_000
  /// The colour channel order of decoded images (`--channel-order`); nil: the input's loader's
  /// (RGB for an image folder, BGR for the encoded images of Caffe Datums).
  public var channelOrder: ChannelOrder? = nil
  /// Every decoded image resized to this size (`--resize H,W`, OpenCV's bilinear ``ImageResize``);
  /// nil: images keep their size.
  public var resize: ImageSize? = nil

  public init() {}
}

extension ReadOptions {
  /// PNG folders: `--list FILE` in convert_imageset's `relative/path.png LABEL` layout.
  public var listFile: String? {
    get { self[ImageReadOptions.self].listFile }
    set { self[ImageReadOptions.self].listFile = newValue }
  }

  /// PNG / LMDB: images larger than this many pixels are refused before decoding (`--max-pixels`).
  public var maxPixels: Int {
    get { self[ImageReadOptions.self].maxPixels }
    set { self[ImageReadOptions.self].maxPixels = newValue }
  }

  /// PNG / LMDB: the colour channel order of decoded images (`--channel-order`); nil: the input's
  /// loader's (``ChannelOrder``).
  public var channelOrder: ChannelOrder? {
    get { self[ImageReadOptions.self].channelOrder }
    set { self[ImageReadOptions.self].channelOrder = newValue }
  }

  /// Image folder / LMDB: the size every decoded image is resized to (`--resize`); nil: none.
  public var resize: ImageSize? {
    get { self[ImageReadOptions.self].resize }
    set { self[ImageReadOptions.self].resize = newValue }
  }
}

/// The command-line options of image inputs: image folders, and the images in Caffe Datums.
public struct ImageOptions: ParsableArguments, FormatOptionGroup {
  @Option(help: "Image folder: a convert_imageset list, one 'relative/path.jpg LABEL' a line (e.g. --list train.txt).")
  public var list: String?
  @Option(help: "Image folder / LMDB: images declaring more pixels are unreadable, refused before decoding; default 100000000 (e.g. --max-pixels 100000000).")
  public var maxPixels: Int?
  @Option(help: "PNG / LMDB: colour channel order of decoded images, rgb or bgr; default rgb for an image folder (torchvision's view), bgr for the encoded images of an LMDB (Caffe's view); raw Datums keep their stored order (e.g. --channel-order bgr).")
  public var channelOrder: ChannelOrder?
  @Option(help: "Image folder / LMDB: resize every image (decoded files, raw uint8 Datums) to HEIGHT,WIDTH with bilinear interpolation, as convert_imageset --resize_height/--resize_width (OpenCV INTER_LINEAR); statistics and clean's output are of the resized images (e.g. --resize 256,256).")
  public var resize: String?

  public static let configTypes: [String: ConfigType] = ["max-pixels": .int(min: 1), "resize": .shape]

  public init() {}

  public func validate() throws {
    if let maxPixels, maxPixels <= 0 { throw ValidationError("--max-pixels must be > 0") }
    if let resize {
      guard let size = Self.size(resize) else {
        throw ValidationError("--resize must be HEIGHT,WIDTH, two positive integers, e.g. 256,256")
      }
      let limit = maxPixels ?? ImageReadOptions().maxPixels
      guard let pixels = size.pixels, pixels <= limit else {
        throw ValidationError(
          "--resize \(resize) makes images of more than --max-pixels \(limit) pixels; give a smaller size or a larger --max-pixels")
      }
    }
  }

  /// `H,W` as a size, or nil when it is not two positive integers.
  static func size(_ text: String) -> ImageSize? {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingWhitespace()) }
    guard parts.count == 2, let h = parts[0], let w = parts[1], h > 0, w > 0 else { return nil }
    return ImageSize(height: h, width: w)
  }

  public func apply(to options: inout ReadOptions) {
    options.listFile = list
    if let maxPixels { options.maxPixels = maxPixels }
    if let channelOrder { options.channelOrder = channelOrder }
    if let resize { options.resize = Self.size(resize) }
  }

  public static func template(for info: DatasetInfo, read: ReadOptions) -> [TemplateEntry] {
    guard info.samplesAreImages else { return [] }
    var entries: [TemplateEntry] = []
    let isFolder = info.format == .png
    if isFolder, let list = read.listFile { entries.append(TemplateEntry("list", TemplateEntry.yaml(list))) }
    if read.maxPixels != ImageReadOptions().maxPixels {
      entries.append(TemplateEntry("max_pixels", String(read.maxPixels)))
    } else if isFolder {
      entries.append(TemplateEntry("max_pixels", String(read.maxPixels), commentedOut: true))
    }
    if let size = read.resize { entries.append(TemplateEntry("resize", size.description)) }
    if let order = read.channelOrder {
      entries.append(TemplateEntry("channel_order", order.rawValue))
    } else {
      entries.append(TemplateEntry("channel_order", (isFolder ? ChannelOrder.rgb : .bgr).rawValue, commentedOut: true))
    }
    return entries
  }
}
