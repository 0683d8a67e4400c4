import DatasanCore

extension PNGFolderReader {
  /// SPEC.md's `skipped_files` (one finding: the count and a few names) and one
  /// `hidden_class_folder` per hidden folder at class level (torchvision's ImageFolder would
  /// make it a class and shift every label after it).
  public var layoutFindings: [Finding] {
    var findings: [Finding] = []
    if skippedFiles.count > 0 {
      let n = skippedFiles.count
      let more = n > skippedFiles.examples.count ? ", ..." : ""
      findings.append(
        Finding(
          kind: .skippedFiles, severity: .warning,
          detail: "\(n) file\(n == 1 ? " is" : "s are") not \(ImageCodecs.registered.extensionList) and \(n == 1 ? "was" : "were") skipped: "
            + skippedFiles.examples.joined(separator: ", ") + more))
    }
    for folder in hiddenClassFolders {
      findings.append(
        Finding(
          kind: .hiddenClassFolder, severity: .warning, field: folder,
          detail: "hidden folder '\(folder)' at class level: datasan skips it, but torchvision's ImageFolder "
            + "would make it a class and shift every label after it; remove it"))
    }
    return findings
  }
}
