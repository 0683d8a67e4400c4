import ArgumentParser
import DatasanCore

/// How to read images (an image folder of PNG and JPEG files, and the images inside Caffe Datums) and
/// an image folder's samples.
public struct ImageReadOptions: FormatReadOptions, Equatable {
  /// PNG folders: `--list FILE` in convert_imageset's `relative/path.png LABEL` layout.
  public var listFile: String? = nil
  /// Images larger than this many pixels are refused before decoding (`--max-pixels`).
  public var maxPixels = 100_000_000

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
}

/// The command-line options of image inputs: image folders, and the images in Caffe Datums.
public struct ImageOptions: ParsableArguments, FormatOptionGroup {
  @Option(help: "Image folder: a convert_imageset list, one 'relative/path.jpg LABEL' a line (e.g. --list train.txt).")
  public var list: String?
  @Option(help: "Image folder / LMDB: images declaring more pixels are unreadable, refused before decoding; default 100000000 (e.g. --max-pixels 100000000).")
  public var maxPixels: Int?

  public static let configTypes: [String: ConfigType] = ["max-pixels": .int(min: 1)]

  public init() {}

  public func validate() throws {
    if let maxPixels, maxPixels <= 0 { throw ValidationError("--max-pixels must be > 0") }
  }

  public func apply(to options: inout ReadOptions) {
    options.listFile = list
    if let maxPixels { options.maxPixels = maxPixels }
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
    return entries
  }
}
