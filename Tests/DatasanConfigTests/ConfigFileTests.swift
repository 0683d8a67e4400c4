import DatasanCore
import Testing

@testable import DatasanConfig

@Suite struct ConfigFileTests {
  func parse(_ text: String) throws -> ConfigFile { try ConfigFile.parse(text, path: "datasan.yml") }

  func error(_ text: String) -> ConfigError? {
    do {
      _ = try parse(text)
      return nil
    } catch let e as ConfigError {
      return e
    } catch {
      Issue.record("unexpected error \(error)")
      return nil
    }
  }

  @Test func readsEveryTypeOfValue() throws {
    let c = try parse(
      """
      # a comment
      input: data/train.h5
      format: hdf5
      header: false
      skip_rows: 2
      label_column: 3
      text_columns: [id, comment]
      loss: cross-entropy
      num_classes: 10
      ignore_label: -1
      shape: [3, 32, 32]
      scale_limit: 300
      max_abs: 1e6
      class_imbalance_ratio: 0.05
      fail_on: [constant_feature, class_missing]
      ignore: class_imbalance
      max_flagged_fraction: 0.001
      range: "0,1"
      delimiter: ";"
      """)
    #expect(c.string("input") == "data/train.h5")
    #expect(c.string("format") == "hdf5")
    #expect(c.bool("header") == false)
    #expect(c.int("skip_rows") == 2)
    #expect(c.string("label_column") == "3")
    #expect(c.list("text_columns") == ["id", "comment"])
    #expect(c.string("loss") == "cross-entropy")
    #expect(c.int("num_classes") == 10)
    #expect(c.number("ignore_label") == -1)
    #expect(c.list("shape") == ["3", "32", "32"])
    #expect(c.number("scale_limit") == 300)
    #expect(c.number("max_abs") == 1e6)
    #expect(c.number("class_imbalance_ratio") == 0.05)
    #expect(c.list("fail_on") == ["constant_feature", "class_missing"])
    #expect(c.list("ignore") == ["class_imbalance"])
    #expect(c.number("max_flagged_fraction") == 0.001)
    #expect(c.list("range") == ["0", "1"])
    #expect(c.string("delimiter") == ";")
    #expect(c["num_classes"]?.line == 9)
    #expect(c.keys.first == "input")
  }

  @Test func emptyFileAndCommentsOnlySetNothing() throws {
    #expect(try parse("").entries.isEmpty)
    #expect(try parse("# nothing here\n").entries.isEmpty)
    #expect(try parse("fail_on: []\nignore: []\n").list("fail_on") == [])
    #expect(try parse("fail_on:\nignore: ~\n").list("ignore") == [])
  }

  @Test func unknownKeyNamesLineAndSuggests() {
    let e = error("input: a.h5\nloss: binary\n\nnum_clases: 5\n")
    #expect(e?.description == "datasan.yml:4: num_clases: unknown key (did you mean num_classes?)")
    #expect(error("num-classes: 5")?.description == "datasan.yml:1: num-classes: unknown key (keys use _ for -: num_classes)")
    #expect(error("colour: red")?.description == "datasan.yml:1: colour: unknown key")
  }

  @Test func wrongTypesNameLineAndKey() {
    #expect(error("num_classes: ten")?.description == "datasan.yml:1: num_classes: expected an integer, got 'ten'")
    #expect(error("a_comment_line: 1\n")?.line == 1)
    #expect(error("\nheader: maybe")?.description == "datasan.yml:2: header: expected true or false, got 'maybe'")
    #expect(error("scale_limit: [1, 2]")?.description.hasPrefix("datasan.yml:1: scale_limit: expected a number, got a list") == true)
    #expect(error("num_classes: 2.5")?.description == "datasan.yml:1: num_classes: expected an integer, got '2.5'")
    #expect(error("strict: 1")?.key == "strict")
    #expect(error("input:")?.description == "datasan.yml:1: input: expected a value, got no value")
    #expect(error("shape: {c: 3}")?.description.contains("got a mapping") == true)
    #expect(error("text_columns: [[a]]")?.key == "text_columns")
  }

  @Test func badValuesNameLineAndKey() {
    #expect(error("loss: hinge")?.description == "datasan.yml:1: loss: 'hinge' is not one of cross-entropy, log, binary, regression, none")
    #expect(error("format: hfd5")?.description.hasSuffix("(did you mean hdf5?)") == true)
    #expect(error("num_classes: 0")?.description == "datasan.yml:1: num_classes: must be at least 1, got 0")
    #expect(error("scale_limit: 0")?.description == "datasan.yml:1: scale_limit: must be > 0, got 0")
    #expect(error("max_flagged_fraction: 1.5")?.description.hasPrefix("datasan.yml:1: max_flagged_fraction: must be <= 1") == true)
    #expect(error("class_imbalance_ratio: 100")?.description.contains("a fraction") == true)
    #expect(error("scale_imbalance_ratio: 0.5")?.key == "scale_imbalance_ratio")
    #expect(error("max_abs: .inf")?.key == "max_abs")
    #expect(error("shape: [3, 0, 32]")?.key == "shape")
    #expect(error("range: [1, -1]")?.key == "range")
    #expect(error("delimiter: ab")?.key == "delimiter")
    let kind = error("\n\nfail_on: [constant_featur]")
    #expect(kind?.line == 3 && kind?.key == "fail_on")
    #expect(kind?.message.hasPrefix("unknown finding kind 'constant_featur' (did you mean constant_feature?)") == true)
    #expect(error("ignore: all")?.key == "ignore")
    #expect(error("annotations: gitlab")?.key == "annotations")
  }

  @Test func structureErrors() {
    #expect(error("- a\n- b\n")?.description.hasPrefix("datasan.yml:1: expected keys and values") == true)
    #expect(error("just text")?.description.hasPrefix("datasan.yml:1: expected keys and values") == true)
    #expect(error("num_classes: 3\nnum_classes: 4\n")?.description == "datasan.yml:2: num_classes: appears twice (first on line 1)")
    let syntax = error("loss: binary\nshape: [3, 4\n")
    #expect(syntax?.line != nil && syntax?.message.hasPrefix("not valid YAML") == true)
  }

  @Test func everyKeyIsAnOptionName() {
    for key in ConfigKey.all {
      #expect(!key.name.contains("-"))
      #expect(key.flag == "--" + key.name.replacingAll("_", with: "-"))
    }
    #expect(Set(ConfigKey.all.map(\.name)).count == ConfigKey.all.count)
  }
}

@Suite struct LabelGuessTests {
  func labels(_ values: [Double]) -> LabelStats {
    var s = LabelStats()
    for v in values { s.add(v) }
    return s
  }

  @Test func zeroAndOneIsBinary() {
    let g = LabelGuess.guess(labels([0, 1, 1, 0, 1]))
    #expect(g?.loss == .binary && g?.numClasses == nil)
  }

  @Test func nonNegativeIntegersAreClassesMaxPlusOne() {
    let g = LabelGuess.guess(labels([0, 1, 2, 4, 4, 1, 0, 2]))
    #expect(g?.loss == .crossEntropy && g?.numClasses == 5)
    #expect(g?.notes.contains { $0.contains("classes 3 have no sample") } == true)
  }

  @Test func fractionsAreRegression() {
    #expect(LabelGuess.guess(labels([0.5, 1.25, 3]))?.loss == .regression)
    #expect(LabelGuess.guess(labels([0, 0.5, 1]))?.loss == .regression)
  }

  @Test func aRareNegativeStaysClassificationManyAreRegression() {
    let rare = LabelGuess.guess(labels(Array(repeating: 1, count: 30) + Array(repeating: 2, count: 30) + [-1]))
    #expect(rare?.loss == .crossEntropy && rare?.numClasses == 3)
    #expect(rare?.notes.contains { $0.contains("negative label (-1)") } == true)
    #expect(LabelGuess.guess(labels([-3, -1, 0, 2, 5]))?.loss == .regression)
    // Only -1, up to a quarter of the labels: Caffe's usual ignore label, or mistakes.
    let minusOne = LabelGuess.guess(labels([-1, -1, -1] + Array(repeating: 0, count: 10) + Array(repeating: 3, count: 5)))
    #expect(minusOne?.loss == .crossEntropy && minusOne?.numClasses == 4)
    #expect(LabelGuess.guess(labels([-1, 1, -1, 1]))?.loss == .regression)
  }

  @Test func noLabelsNoGuess() {
    #expect(LabelGuess.guess(LabelStats()) == nil)
  }

  @Test func yamlStringsReadBack() throws {
    for s in ["data/train.h5", "my data/x.csv", "yes", "10", "a: b", "#x", "-1", "label", "tab\there", "q\"uote"] {
      let c = try ConfigFile.parse("input: \(InitTemplate.yamlString(s))\n", path: "t.yml")
      #expect(c.string("input") == s, "\(s)")
    }
  }
}

@Suite struct ConfigKeyDerivationTests {
  /// The YAML types of a group name its own options (a misspelt name would silently make a key a string).
  @Test func everyTypedNameIsAnOptionOfItsGroup() {
    for group in ConfigKey.groups {
      let names = Set(ConfigKey.keys(of: group).map(\.name))
      for name in group.configTypes.keys {
        #expect(names.contains(name.replacingAll("-", with: "_")), "\(group): \(name)")
      }
    }
  }

  @Test func keysCarryTheirOptionsTypeAndHelp() throws {
    let numClasses = try #require(ConfigKey.byName["num_classes"])
    #expect(numClasses.type == .int(min: 1) && numClasses.form == .value)
    #expect(numClasses.help == "Number of classes: labels must be below it, and absent classes are reported")
    #expect(ConfigKey.byName["loss"]?.type == .choice(LossKind.allCases.map(\.rawValue)))
    #expect(ConfigKey.byName["channel_order"]?.type == .choice(["rgb", "bgr"]))
    #expect(ConfigKey.byName["strict"]?.form == .flag(invertible: true))
    #expect(ConfigKey.byName["quiet"]?.form == .flag(invertible: false))
    #expect(ConfigKey.byName["input"]?.form == .argument)
  }

  @Test func theFileReadsAsArgumentsBeforeTheCommandLine() throws {
    let c = try ConfigFile.parse(
      "input: a.csv\nnum_classes: 3\nstrict: false\nquiet: true\nfail_on: [constant_feature, class_missing]\nignore_label: -1\noutput: x.csv\n",
      path: "t.yml")
    let groups: [any ConfigurableOptions.Type] = [InputOptions.self, CheckFlags.self, ReportFlags.self]
    #expect(
      c.arguments(for: groups, skippingInput: false)
        == ["a.csv", "--num-classes=3", "--no-strict", "--quiet", "--fail-on=constant_feature,class_missing", "--ignore-label=-1.0"])
    #expect(c.arguments(for: groups, skippingInput: true).first == "--num-classes=3")
  }

  /// The keys about the file's own input (format, a format's reading options, clean's outputs) are
  /// left out for another input; checks, thresholds, reports and policy stay.
  @Test func inputSpecificKeysApplyToTheFilesInputOnly() throws {
    let c = try ConfigFile.parse(
      "input: train.h5\nformat: hdf5\ndataset: /x\nlabel_column: y\nlist: l.txt\nmax_pixels: 100\nnum_classes: 3\n"
        + "output: train.clean.h5\nnormalize: zscore\nreport: r.json\nstrict: true\n",
      path: "t.yml")
    #expect(c.describes(input: nil) && c.describes(input: "train.h5") && c.describes(input: "./train.h5"))
    #expect(!c.describes(input: "images") && !c.describes(input: "val.h5"))
    #expect(try ConfigFile.parse("format: csv\n", path: "t.yml").describes(input: "any.csv"))  // no input: every input
    #expect(c.inputSpecificKeys == ["format", "dataset", "label_column", "list", "output"])
    let other = c.arguments(for: ConfigKey.groups, skippingInput: true, inputKeys: false)
    #expect(other == ["--max-pixels=100", "--num-classes=3", "--normalize=zscore", "--report=r.json", "--strict"])
  }
}
