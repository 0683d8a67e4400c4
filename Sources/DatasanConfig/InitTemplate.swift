import Datasan
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What the labels of a dataset suggest: the loss and the number of classes (`datasan init`).
public struct LabelGuess: Sendable, Equatable {
  public var loss: LossKind
  public var numClasses: Int?
  /// Comment lines that explain the guess.
  public var notes: [String]

  /// - all integers in {0, 1} -> binary
  /// - all integers >= 0 -> cross-entropy with max + 1 classes
  /// - integers, a few negative (< 5% of the labels, or only -1 and < 25%) -> cross-entropy as
  ///   well (the gate flags the negative ones: mistakes, or an ignore_label to declare)
  /// - anything else (fractions, many negatives, too many distinct values) -> regression
  public static func guess(_ labels: LabelStats) -> LabelGuess? {
    let n = labels.values.count
    guard n > 0 else { return nil }
    let range = "\(DatasetChecks.num(labels.values.min))..\(DatasetChecks.num(labels.values.max))"
    if labels.histogramIncomplete || labels.histogram.isEmpty {
      return LabelGuess(
        loss: .regression, numClasses: nil,
        notes: ["labels are not all integers (\(range)): a regression target, so any finite value passes"])
    }
    let keys = labels.histogram.keys.sorted()
    let negatives = labels.histogram.filter { $0.key < 0 }.values.reduce(0, +)
    if negatives == 0 && keys.allSatisfy({ $0 == 0 || $0 == 1 }) {
      return LabelGuess(loss: .binary, numClasses: nil, notes: ["labels are 0 and 1 only: a binary target"])
    }
    let onlyMinusOne = labels.histogram.keys.allSatisfy { $0 >= -1 }
    if negatives == 0 || Double(negatives) < 0.05 * Double(n) || (onlyMinusOne && Double(negatives) < 0.25 * Double(n)) {
      let maxLabel = keys.last!
      var notes = ["integer labels \(range): class indexes; num_classes = largest label \(maxLabel) + 1"]
      let nonNegative = labels.histogram.filter { $0.key >= 0 }
      let absent = (0..<maxLabel).filter { nonNegative[$0] == nil }
      if !absent.isEmpty {
        let shown = absent.prefix(8).map(String.init).joined(separator: ", ") + (absent.count > 8 ? ", ..." : "")
        notes.append("classes \(shown) have no sample: check num_classes (class_missing warns about them)")
      }
      let others = nonNegative.filter { $0.key != maxLabel }
      let average = others.isEmpty ? 0 : Double(others.values.reduce(0, +)) / Double(others.count)
      if let top = nonNegative[maxLabel], Double(top) < 0.25 * average {
        notes.append("the largest label \(maxLabel) has only \(top) sample\(top == 1 ? "" : "s"): if it is a mistake, lower num_classes")
      }
      if negatives > 0 {
        let values = labels.histogram.keys.filter { $0 < 0 }.sorted().map(String.init).joined(separator: ", ")
        notes.append(
          "\(negatives) sample\(negatives == 1 ? " has" : "s have") a negative label (\(values)): the gate fails on "
            + "\(negatives == 1 ? "it" : "them"); if a value means 'ignore this sample', set ignore_label")
      }
      return LabelGuess(loss: .crossEntropy, numClasses: Int(maxLabel) + 1, notes: notes)
    }
    return LabelGuess(
      loss: .regression, numClasses: nil,
      notes: ["integer labels \(range) with many negative values: a regression target, so any finite value passes"])
  }
}

/// The commented datasan.yml that `datasan init` writes.
public enum InitTemplate {
  /// The `shape:` `init` proposes when the samples' sizes vary (images of a folder or an LMDB):
  /// any size along every axis but the channel axis, which keeps the most common number of
  /// channels (`[3, any, any]`; `[any, any, 3]` with `--channel-axis last`). Nil when one size
  /// covers every sample, or the samples are not images (fewer than two axes: their lengths are
  /// their feature groups, which cannot vary).
  public static func anyShapePattern(_ sizes: SizeDistribution, channelAxis: ChannelAxis) -> [Int?]? {
    guard sizes.distinct > 1 else { return nil }
    var byRank: [Int: Int] = [:]
    for (shape, n) in sizes.counts { byRank[shape.count, default: 0] += n }
    guard let rank = byRank.max(by: { ($0.value, -$0.key) < ($1.value, -$1.key) })?.key, rank >= 2 else { return nil }
    let axis = channelAxis == .last ? rank - 1 : 0
    var byChannels: [Int: Int] = [:]
    for (shape, n) in sizes.counts where shape.count == rank { byChannels[shape[axis], default: 0] += n }
    guard let channels = byChannels.max(by: { ($0.value, -$0.key) < ($1.value, -$1.key) })?.key else { return nil }
    return (0..<rank).map { $0 == axis ? channels : nil }
  }

  /// What `datasan init` learned from reading the dataset.
  public struct Facts: Sendable {
    public var input: String
    public var info: DatasetInfo
    public var read: ReadOptions
    /// Whether `--header` / `--no-header` was given (else detected).
    public var header: Bool?
    public var total: Int
    public var flagged: Int
    public var labels: LabelStats?
    public var groups: [GroupStats]
    /// The sizes of the decoded samples: `shape: [3, any, any]` when they vary.
    public var sizes: SizeDistribution

    public init(
      input: String, info: DatasetInfo, read: ReadOptions, header: Bool?, total: Int, flagged: Int,
      labels: LabelStats?, groups: [GroupStats], sizes: SizeDistribution = SizeDistribution()
    ) {
      self.sizes = sizes
      self.input = input
      self.info = info
      self.read = read
      self.header = header
      self.total = total
      self.flagged = flagged
      self.labels = labels
      self.groups = groups
    }
  }

  public static func render(_ f: Facts) -> (text: String, guess: LabelGuess?) {
    var out: [String] = []
    func line(_ s: String = "") { out.append(s) }
    // Every key written is an option (ConfigKey.all); its comment is the option's help unless
    // the dataset says more.
    func help(_ name: String) -> String {
      guard let key = ConfigKey.byName[name] else { preconditionFailure("init writes \(name), which is no option") }
      return key.help
    }
    func choices(_ name: String) -> String {
      guard case .choice(let values) = ConfigKey.byName[name]?.type else { return help(name) }
      return values.joined(separator: " | ")
    }
    // A comment of several lines, broken between words before 90 columns.
    func comment(_ text: String) {
      var current = "#"
      for word in text.split(separator: " ") {
        if current.count + 1 + word.count > 90 && current != "#" {
          line(current)
          current = "#"
        }
        current += " " + word
      }
      line(current)
    }
    func key(_ name: String, _ value: String, _ comment: String? = nil) {
      let text = "\(name): \(value)"
      line(padded(text, toLength: Swift.max(text.count + 2, 28)) + "# " + (comment ?? help(name)))
    }
    func commented(_ name: String, _ value: String, _ comment: String? = nil) {
      let text = "# \(name): \(value)"
      line(padded(text, toLength: Swift.max(text.count + 2, 28)) + "# " + (comment ?? help(name)))
    }

    line("# datasan.yml: the data gate for \(f.input), written by `datasan init`.")
    line("#")
    line("# Run the gate from this folder:   datasan scan")
    line("#   exit 0 passed, 1 failed (a finding fails the gate), 2 could not run.")
    line("# Keys are the long options of `datasan scan --help` with _ for -; an option given on the")
    line("# command line wins over this file. Paths are relative to the working directory.")
    line("# Seen when this file was written: \(f.total) sample\(f.total == 1 ? "" : "s"), \(f.flagged) with an error finding.")
    line()
    line("# The dataset")
    key("input", yamlString(f.input))
    key("format", f.info.format.rawValue)
    for group in Formats.optionGroups {  // each format writes its own keys
      for entry in group.template(for: f.info, read: f.read) {
        if entry.commentedOut {
          commented(entry.key, entry.value, entry.comment)
        } else {
          key(entry.key, entry.value, entry.comment)
        }
      }
    }
    if let pattern = anyShapePattern(f.sizes, channelAxis: f.read.channelAxis) {
      let s = f.sizes
      let common = s.mostCommon(1).first!
      let value = "[" + pattern.map { $0.map(String.init) ?? "any" }.joined(separator: ", ") + "]"
      if common.count * 10 >= s.samples * 9 {
        // One size for nearly every sample (a fixed-size dataset with a few odd files): those
        // stay shape_mismatch unless the user says otherwise.
        comment(
          "\(common.count) of \(s.samples) decoded samples are \(SizeDistribution.text(common.shape)); the other "
            + "\(s.samples - common.count) (\(s.distinct - 1) other size\(s.distinct == 2 ? "" : "s")) are shape_mismatch. "
            + "If the sizes may vary (a loader that resizes), accept every size:")
        commented("shape", value, "every size, these channels")
      } else {
        comment(
          "The sizes vary: \(s.samples) decoded samples in \(s.distinct) sizes (smallest \(SizeDistribution.text(s.smallest!.shape)), "
            + "largest \(SizeDistribution.text(s.largest!.shape)), most common \(SizeDistribution.text(common.shape)) x \(common.count)). "
            + "Every size passes; another number of channels is shape_mismatch.")
        key("shape", value, "every size, these channels")
      }
    } else if !f.info.keysAreLineNumbers, let shape = f.info.sampleShape, !shape.isEmpty {
      commented("shape", "[" + shape.map(String.init).joined(separator: ", ") + "]")
    }
    if f.read.channelAxis == .last { key("channel_axis", "last") }
    line()

    line("# The labels: the loss decides which values are allowed")
    line("#   cross-entropy: integer >= 0 and < num_classes; log: >= 0; binary: [0, 1]; regression / none: any finite value")
    var guess: LabelGuess? = nil
    if f.info.labelName == nil {
      line("# No labels were found, so no label check runs.")
      commented("loss", "cross-entropy", choices("loss"))
    } else if let labels = f.labels, let g = LabelGuess.guess(labels) {
      guess = g
      // A class list that reads back as --classes (no comma in a name) is written instead of num_classes.
      let names = f.info.classNames.flatMap { ClassList.problem($0) == nil && g.loss.isClassification ? $0 : nil }
      for note in g.notes where names == nil || !note.contains("num_classes") { line("# " + note) }
      key("loss", g.loss.rawValue, choices("loss"))
      if let names {
        // The class list, kept: a class folder deleted or renamed later fails the gate
        // (class_missing, unknown_class) instead of shifting every label after it.
        line("# the \(names.count) class folders, in label order (torchvision's ImageFolder order: sorted names);")
        line("# a folder deleted or renamed later is class_missing / unknown_class instead of a silent label shift")
        key("classes", "[" + names.map(yamlString).joined(separator: ", ") + "]", "label i is class i of this list")
      } else if let k = g.numClasses {
        key("num_classes", String(k))
      }
      commented("ignore_label", "-1")
    } else {
      line("# No readable label was seen; set the loss of your model.")
      commented("loss", "cross-entropy", choices("loss"))
    }
    line()

    let errorKinds = FindingKind.allCases.filter { $0.defaultSeverity == .error }.map(\.rawValue)
    comment("The gate: error findings (\(errorKinds.joined(separator: ", "))) fail it; dataset warnings do not, unless listed in fail_on.")
    key("fail_on", "[]")
    key("ignore", "[]")
    key("max_flagged_fraction", "0")
    let scaled = f.groups.filter { $0.values.count > 0 && $0.values.maxMagnitude > 10 }
    if !scaled.isEmpty {
      line("# Note: \(scaled.count) feature group\(scaled.count == 1 ? "" : "s") exceed\(scaled.count == 1 ? "s" : "") the scale limit (e.g. values up to "
        + "\(DatasetChecks.num(scaled[0].values.maxMagnitude))): unnormalized_scale warns; `datasan clean` normalizes.")
    }
    line()
    line("# Thresholds of the dataset warnings (the defaults)")
    commented("scale_limit", "10")
    commented("max_abs", "1e6")
    commented("scale_imbalance_ratio", "1000")
    commented("class_imbalance_ratio", "0.01")
    line()
    line("# Reports for CI")
    commented("report", "datasan-report.json")
    commented("junit", "datasan-junit.xml")
    commented("annotations", "github")
    return (out.joined(separator: "\n") + "\n", guess)
  }

  /// A YAML scalar for a string: plain when that reads back as the same string, else quoted.
  public static func yamlString(_ s: String) -> String { TemplateEntry.yaml(s) }
}

/// `text` padded with spaces (or cut) to `length` UTF-16 units: Foundation's
/// `padding(toLength:withPad: " ", startingAt: 0)`.
func padded(_ text: String, toLength length: Int) -> String {
  let units = text.utf16.count
  if units >= length { return String(decoding: Array(text.utf16.prefix(length)), as: UTF16.self) }
  return text + String(repeating: " ", count: length - units)
}
