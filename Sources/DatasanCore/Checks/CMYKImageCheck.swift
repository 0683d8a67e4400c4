extension FindingKind {
  public static let cmykImage = FindingKind(
    "cmyk_image", .dataset, meaning: "an image stored as CMYK (or YCCK), which some loaders fail on")
}

/// `cmyk_image`: clean samples stored as CMYK or YCCK JPEGs (ImageNet's training set holds 22).
/// datasan decodes them to RGB as Pillow's `convert("RGB")` does; some loaders fail on them or give 4
/// channels. One finding naming the files (the first ``NamedSamples/limit``) and the count; the reader
/// notes each image (``StorageNote/convertedFrom``).
public struct CMYKImageCheck: DatasetCheck {
  public static let kinds: [FindingKind] = [.cmykImage]
  public static let name = "cmyk_image"

  public init() {}

  public func makeState(_ context: CheckContext) -> NamedSamples { NamedSamples() }

  public func add(_ checked: CheckedBatch, to state: inout NamedSamples, _ context: CheckContext) {
    let batch = checked.batch
    guard !batch.storageNotes.isEmpty else { return }
    checked.forEachClean { i in
      guard let model = batch.storageNotes[i]?.convertedFrom else { return }
      state.add(index: batch.firstIndex + i, key: batch.key(of: i), detail: model)
    }
  }

  public func finish(_ state: NamedSamples, _ context: FinishContext) -> [Finding] {
    guard state.count > 0 else { return [] }
    let n = state.count
    return [
      Finding(
        kind: .cmykImage, severity: context.severity,
        detail: "\(n) image\(n == 1 ? " is" : "s are") stored as CMYK: \(state.list); datasan decodes "
          + "\(n == 1 ? "it" : "them") to RGB as Pillow's convert(\"RGB\") does, some loaders fail or give 4 channels; "
          + "convert to RGB")
    ]
  }
}
