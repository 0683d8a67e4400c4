extension FindingKind {
  public static let cmykImage = FindingKind(
    "cmyk_image", .dataset, meaning: "an image stored as CMYK (or YCCK), which some loaders fail on")
}

/// `cmyk_image`: clean samples stored as CMYK or YCCK JPEGs (ImageNet's training set holds 22).
/// datasan decodes them to RGB as Pillow's `convert("RGB")` does; some loaders fail on them or give 4
/// channels. The reader notes each image (``StorageNote/convertedFrom``).
public struct CMYKImageCheck: StorageNoteCheck {
  public static let kind = FindingKind.cmykImage

  public init() {}

  public static func noted(_ note: StorageNote) -> String? { note.convertedFrom }

  public static func detail(count n: Int, list: String) -> String {
    "\(n) image\(n == 1 ? " is" : "s are") stored as CMYK: \(list); datasan decodes "
      + "\(n == 1 ? "it" : "them") to RGB as Pillow's convert(\"RGB\") does, some loaders fail or give 4 channels; "
      + "convert to RGB"
  }
}
