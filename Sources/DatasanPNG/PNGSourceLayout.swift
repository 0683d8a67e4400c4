import DatasanCore

extension DataFormat {
  /// A folder of PNG images (ImageFolder class folders, a flat folder, or a `--list` file).
  public static let png = DataFormat(rawValue: "png")
}

/// A PNG folder's layout: the name of the `--list` file when samples came from one (a PNG
/// folder output writes its own list under that name).
public struct PNGSourceLayout: SourceLayout, Equatable {
  public var listFile: String?

  public init(listFile: String?) { self.listFile = listFile }
}
