import DatasanCore
import DatasanPNG

/// What an LMDB input's samples are beyond its records: resized images (`--resize`), whose original
/// Datums are then not the samples a clean output holds (the quarantine still keeps them).
public struct LMDBSourceLayout: SourceLayout, Equatable {
  /// The `--resize` target (height, width) of the encoded images, or nil.
  public var resizedTo: ImageSize?

  public init(resizedTo: ImageSize?) { self.resizedTo = resizedTo }
}
