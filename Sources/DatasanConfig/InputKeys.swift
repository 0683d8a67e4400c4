#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A datasan.yml describes its own input: the keys that say how to read that input (its format,
/// HDF5 dataset and labels, CSV label column, text columns, delimiter, ..., image list) and where
/// `clean` writes its outputs apply only to a run on the file's `input` (or a run that names no input, which reads it); the policy keys
/// (checks, thresholds, reports, outputs) apply to every input.
extension ConfigKey {
  /// The keys of the input groups that are not about one input: limits and how images are viewed
  /// or resized, which a project applies to all its data.
  public static let forEveryInput: Set<String> = ["max_pixels", "channel_order", "resize"]
  /// `clean`'s outputs of the file's input: another input's clean copy, quarantine, statistics or
  /// mean image does not go where the file's input's go.
  public static let outputsOfTheInput: Set<String> = ["output", "quarantine", "stats_out", "caffe_mean"]

  /// Whether the key describes the file's own input: a key of ``inputGroups`` (InputOptions and
  /// every format's options, so a new format's options are input-specific by being declared)
  /// other than those of ``forEveryInput``, or one of ``outputsOfTheInput``.
  public var isInputSpecific: Bool {
    if ConfigKey.outputsOfTheInput.contains(name) { return true }
    return ConfigKey.inputGroups.contains { ObjectIdentifier($0) == group } && !ConfigKey.forEveryInput.contains(name)
  }
}

extension ConfigFile {
  /// Whether the file's input-specific keys apply to a run on `input` (nil: the command line names
  /// no input, so the run reads the file's). A file without `input` describes no particular input:
  /// its keys apply to every one.
  public func describes(input: String?) -> Bool {
    guard let input, let own = string("input"), !own.isEmpty else { return true }
    return ConfigFile.canonical(input) == ConfigFile.canonical(own)
  }

  /// The input-specific keys the file sets, `input` aside, in the file's order.
  public var inputSpecificKeys: [String] {
    keys.filter { $0 != "input" && ConfigKey.byName[$0]?.isInputSpecific == true }
  }

  /// The path resolved (symbolic links, `.`, `..`) when it exists, else without `./` and trailing
  /// slashes; relative paths are relative to the working directory, as on the command line.
  static func canonical(_ path: String) -> String {
    if let resolved = realpath(path, nil) {
      defer { free(resolved) }
      return String(cString: resolved)
    }
    var p = Substring(path)
    while p.hasPrefix("./") { p = p.dropFirst(2) }
    while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
    return String(p)
  }
}
