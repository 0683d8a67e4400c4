import DatasanCore

extension DataFormat {
  /// A folder of PNG images (ImageFolder class folders, a flat folder, or a `--list` file).
  public static let png = DataFormat(rawValue: "png")
}

/// A PNG folder's layout: the name of the `--list` file when samples came from one (a PNG
/// folder output writes its own list under that name), whether the samples are resized images
/// (`--resize`: the original files are not the samples), and the reader's pixel limit.
public struct PNGSourceLayout: SourceLayout, Equatable {
  public var listFile: String?
  /// The `--resize` target (height, width) the samples were resized to, or nil.
  public var resizedTo: ImageSize?
  /// `--max-pixels` of the reader (it bounds the size of the files read again).
  public var maxPixels: Int
  /// The colour order of the decoded images in the batches.
  public var channelOrder: ChannelOrder

  public init(
    listFile: String?, resizedTo: ImageSize? = nil, maxPixels: Int = ImageReadOptions().maxPixels,
    channelOrder: ChannelOrder = .rgb
  ) {
    self.listFile = listFile
    self.channelOrder = channelOrder
    self.resizedTo = resizedTo
    self.maxPixels = maxPixels
  }
}
