import Testing

@testable import DatasanConfig

/// datasan.yml's YAML reader (libyaml's events, our composer): the tags, values, lines and errors
/// that Yams 5.0.1 gave, which it replaced. The expectations were taken from Yams (a differential
/// run over 60,000 generated scalars and 6,000 mutated documents agreed on every one).
@Suite struct YAMLTests {
  @Test func plainScalarsResolveAsYamsDefaultResolver() {
    let expected: [(String, YAMLTag)] = [
      ("", .null), ("~", .null), ("null", .null), ("Null", .null), ("NULL", .null), ("nULL", .str),
      ("true", .bool), ("True", .bool), ("TRUE", .bool), ("tRue", .str), ("yes", .bool), ("No", .bool), ("on", .bool),
      ("OFF", .bool), ("y", .str), ("n", .str),
      ("0", .int), ("00", .int), ("07", .int), ("08", .float), ("0o7", .int), ("0o", .str), ("0b101", .int), ("0b2", .str),
      ("0x1F", .int), ("-0x1f", .int), ("0xg", .str), ("+12", .int), ("1_000", .int), ("1:30", .int), ("1:60", .str),
      ("0:30", .str), ("190:20:30", .int), ("1:30.5", .float),
      ("1.5", .float), ("1.", .float), (".5", .float), ("._", .float), (".5e+3", .float), (".5e3", .str), ("1e6", .float),
      ("1E+6", .float), ("1e", .str), ("-.inf", .float), ("+.INF", .float), (".Inf", .float), (".nan", .float), ("-.nan", .str),
      ("2001-12-14", .timestamp), ("2001-1-1", .str), ("2001-12-14t21:59:43.10-05:00", .timestamp),
      ("2001-12-14 21:59:43.10 -5", .timestamp), ("2001-12-14T21:59:43Z", .timestamp), ("2001-12-14 21:59:43.10 ", .str),
      ("<<", .merge), ("=", .value), ("1_", .int), ("_1", .str), ("+", .str), ("-0", .int), ("12:", .str), ("hdf5", .str),
    ]
    for (text, tag) in expected {
      #expect(YAML.resolve(plain: text) == tag, "\(text.debugDescription)")
    }
  }

  @Test func integersAsYamsConstructsThem() {
    func int(_ s: String, plain: Bool = true) -> Int? { YAMLScalar(string: s, tag: .int, plain: plain, line: 1).intValue }
    #expect(int("0") == 0)
    #expect(int("07") == 7)
    #expect(int("0o17") == 15)
    #expect(int("0x1F") == 31)
    #expect(int("-0x1f") == -31)
    #expect(int("0b101") == 5)
    #expect(int("1_000") == 1000)
    #expect(int("+12") == 12)
    #expect(int("1:30") == 90)
    #expect(int("-1:30") == -90)
    #expect(int("5", plain: false) == nil)  // a quoted "5" tagged !!int is no int
    #expect(YAMLScalar(string: "On", tag: .bool, plain: true, line: 1).boolValue == true)
    #expect(YAMLScalar(string: "NO", tag: .bool, plain: true, line: 1).boolValue == false)
  }

  func error(_ text: String) -> YAMLSyntaxError? {
    do {
      _ = try YAML.compose(text)
      return nil
    } catch {
      return error as? YAMLSyntaxError
    }
  }

  @Test func syntaxErrorsNameLibyamlsProblemAndLine() {
    let e = error("loss: binary\nshape: [3, 4\n")
    #expect(e?.line == 3)
    #expect(e?.message == "while parsing a flow sequence: did not find expected ',' or ']'")
    #expect(error("a: &x 1\nb: *y\n").map { "\($0.line ?? 0): \($0.message)" } == "2: found undefined alias")
    #expect(
      error("a: 1\n---\nb: 2\n").map { "\($0.line ?? 0): \($0.message)" }
        == "2: expected a single document in the stream: but found another document")
    #expect(error("a: \u{1}\n").map { "\($0.line.map(String.init) ?? "-"): \($0.message)" } == "-: control characters are not allowed")
  }

  @Test func nodesKeepTheirLinesAndAnchors() throws {
    let root = try #require(try YAML.compose("# c\na: &x [1, 2]\n\nb: *x\nc: 'q'\n"))
    guard case .mapping(let pairs, let line) = root else {
      Issue.record("not a mapping")
      return
    }
    #expect(line == 2)
    #expect(pairs.map(\.key.line) == [2, 4, 5])
    guard case .sequence(let items, _) = pairs[1].value, case .scalar(let c) = pairs[2].value else {
      Issue.record("alias or scalar lost")
      return
    }
    #expect(items.count == 2)
    #expect(c.tag == .str && c.string == "q" && !c.plain)
    #expect(try YAML.compose("") == nil)
    #expect(try YAML.compose("# only a comment\n") == nil)
  }
}
