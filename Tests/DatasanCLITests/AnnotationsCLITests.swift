import DatasanTestSupport
import Foundation
import Testing

/// Checks a JUnit file with a real XML parser against the structure of the JUnit schema that
/// Jenkins' xunit/junit plugins publish (junit-10.xsd) and GitLab / GitHub reporters read:
/// elements, required and allowed attributes, SUREFIRE_TIME, text-only results, and counts that
/// match the test cases. When the `junitparser` package is importable, it reads the file too
/// and must see the same test cases. Needs python3; the tests that use it are skipped, with a
/// message, where there is none.
enum JUnitSchema {
  static let script = #"""
    import json, re, sys
    import xml.etree.ElementTree as ET

    path = sys.argv[1]
    errors = []
    cases = []
    TIME = re.compile(r'^(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?$')
    SUITES_ATTRS = {'name', 'time', 'tests', 'failures', 'errors'}
    SUITE_ATTRS = {'name', 'tests', 'failures', 'errors', 'group', 'time', 'skipped', 'timestamp', 'hostname',
                   'id', 'package', 'file', 'log', 'url'}
    SUITE_REQUIRED = ['name', 'tests', 'failures', 'errors']
    SUITE_CHILDREN = {'testsuite', 'properties', 'testcase', 'system-out', 'system-err'}
    CASE_ATTRS = {'name', 'time', 'classname', 'group'}
    RESULTS = {'skipped', 'error', 'failure'}
    RERUNS = {'rerunFailure', 'rerunError', 'flakyFailure', 'flakyError'}
    CASE_CHILDREN = RESULTS | RERUNS | {'system-out', 'system-err'}

    def attrs(el, allowed, required):
        for a in el.attrib:
            if a not in allowed:
                errors.append('%s: attribute %s is not in the schema' % (el.tag, a))
        for a in required:
            if a not in el.attrib:
                errors.append('%s: required attribute %s is missing' % (el.tag, a))
        if el.tag in ('testsuite', 'testsuites') and 'time' in el.attrib and not TIME.match(el.attrib['time']):
            errors.append('%s: time %r is not a SUREFIRE_TIME' % (el.tag, el.attrib['time']))

    def text_only(el):
        if len(el):
            errors.append('%s: must hold text only' % el.tag)

    def count(el, attr, actual):
        if attr not in el.attrib:
            return
        try:
            if int(el.attrib[attr]) != actual:
                errors.append('%s %r: %s=%s but %d counted' % (el.tag, el.get('name'), attr, el.attrib[attr], actual))
        except ValueError:
            errors.append('%s: %s=%r is not an integer' % (el.tag, attr, el.attrib[attr]))

    def suite(s):
        attrs(s, SUITE_ATTRS, SUITE_REQUIRED)
        n = f = e = k = 0
        for c in s:
            if c.tag not in SUITE_CHILDREN:
                errors.append('testsuite: element %s is not allowed' % c.tag)
            elif c.tag == 'testsuite':
                t = suite(c)
                n, f, e, k = n + t[0], f + t[1], e + t[2], k + t[3]
            elif c.tag == 'testcase':
                attrs(c, CASE_ATTRS, ['name'])
                n += 1
                kinds = []
                for r in c:
                    if r.tag not in CASE_CHILDREN:
                        errors.append('testcase: element %s is not allowed' % r.tag)
                    elif r.tag in RESULTS:
                        attrs(r, {'type', 'message'}, [])
                        text_only(r)
                        kinds.append(r.tag)
                    else:
                        attrs(r, set(), [])
                        text_only(r)
                result = 'failure' if 'failure' in kinds else 'error' if 'error' in kinds else \
                    'skipped' if 'skipped' in kinds else 'passed'
                f += result == 'failure'
                e += result == 'error'
                k += result == 'skipped'
                out = ''.join(x.text or '' for x in c if x.tag == 'system-out')
                cases.append({'name': c.get('name') or '', 'classname': c.get('classname') or '', 'result': result,
                              'message': next((x.get('message') or '' for x in c if x.tag in RESULTS), ''),
                              'out': out})
            elif c.tag == 'properties':
                for p in c:
                    if p.tag != 'property':
                        errors.append('properties: element %s is not allowed' % p.tag)
                    attrs(p, {'name', 'value'}, ['name', 'value'])
            else:
                attrs(c, set(), [])
                text_only(c)
        count(s, 'tests', n)
        count(s, 'failures', f)
        count(s, 'errors', e)
        count(s, 'skipped', k)
        return n, f, e, k

    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as error:
        print(json.dumps({'parser': 'xml.etree', 'errors': ['not well-formed XML: %s' % error], 'cases': []}))
        sys.exit(1)
    if root.tag == 'testsuites':
        attrs(root, SUITES_ATTRS, [])
        total = [0, 0, 0, 0]
        for s in root:
            if s.tag != 'testsuite':
                errors.append('testsuites: element %s is not allowed' % s.tag)
                continue
            t = suite(s)
            total = [a + b for a, b in zip(total, t)]
        count(root, 'tests', total[0])
        count(root, 'failures', total[1])
        count(root, 'errors', total[2])
    elif root.tag == 'testsuite':
        suite(root)
    else:
        errors.append('the root element is %s, not testsuites or testsuite' % root.tag)

    parser = 'xml.etree'
    try:
        import junitparser
    except ImportError:
        junitparser = None
    if junitparser is not None:
        parser = 'junitparser ' + getattr(junitparser, 'version', '?')
        try:
            xml = junitparser.JUnitXml.fromfile(path)
            suites = [xml] if isinstance(xml, junitparser.TestSuite) else list(xml)
            seen = []
            for s in suites:
                for case in s:
                    kinds = [type(r).__name__ for r in case.result]
                    seen.append((case.name, 'failure' if 'Failure' in kinds else 'error' if 'Error' in kinds else
                                 'skipped' if 'Skipped' in kinds else 'passed'))
            mine = [(c['name'], c['result']) for c in cases]
            if seen != mine:
                errors.append('junitparser reads %r, the schema walk %r' % (seen, mine))
        except Exception as error:
            errors.append('junitparser cannot read it: %r' % error)
    print(json.dumps({'parser': parser, 'errors': errors, 'cases': cases}))
    sys.exit(1 if errors else 0)
    """#

  struct Case: Decodable {
    var name: String
    var classname: String
    var result: String
    var message: String
    var out: String
  }

  struct Verdict: Decodable {
    var parser: String
    var errors: [String]
    var cases: [Case]

    func result(_ kind: String) -> String? { cases.first { $0.name == "datasan.\(kind)" }?.result }
    var failed: Set<String> { Set(cases.filter { $0.result == "failure" }.map { String($0.name.dropFirst("datasan.".count)) }) }
  }

  static var available: Bool { Python.path != nil }
  static let skipMessage: Comment = "python3 is not installed here: the JUnit schema check with a real XML parser is skipped"

  static func check(_ junit: String) throws -> Verdict {
    try JSONDecoder().decode(Verdict.self, from: Python.run(script, [junit]).stdout)
  }
}

/// `--junit` against the JUnit schema, `--annotations github` and the job summary.
@Suite struct AnnotationsCLITests {
  let dirty = CLI.fixture("hdf5/dirty.h5")

  func annotations(_ stdout: String) -> [String] {
    stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("::") }
  }

  @Test func oneWorkflowCommandPerFindingAfterTheSummary() throws {
    let r = try CLI.run(["scan", dirty, "--num-classes", "5", "--annotations", "github"])
    #expect(r.status == 1)
    let lines = annotations(r.stdout)
    let errors = lines.filter { $0.hasPrefix("::error ") }
    let warnings = lines.filter { $0.hasPrefix("::warning ") }
    #expect(errors.count == 5 && warnings.count == 3 && lines.count == 8)
    #expect(errors.first == "::error title=datasan nan_value,file=\(dirty)::key 3: 2 NaN values, first at [0, 1, 2]")
    #expect(errors.contains { $0.hasPrefix("::error title=datasan label_out_of_domain,file=\(dirty)::key 9: label 7 is not below") })
    #expect(warnings.allSatisfy { $0.hasPrefix("::warning title=datasan unnormalized_scale,file=\(dirty)::data[") })
    // The summary first, then the annotations.
    let fail = try #require(r.stdout.range(of: "FAIL:"))
    let first = try #require(r.stdout.range(of: "::error"))
    #expect(fail.lowerBound < first.lowerBound)
    // Nothing without the option.
    #expect(annotations(try CLI.run(["scan", dirty, "--num-classes", "5"]).stdout).isEmpty)
    #expect(annotations(try CLI.run(["scan", dirty, "--annotations", "none"]).stdout).isEmpty)
  }

  @Test func csvFindingsNameTheLineAndPropertiesAreEscaped() throws {
    let dir = try makeTempDir()
    let odd = dir + "/a,b:c%d"
    try FileManager.default.createDirectory(atPath: odd, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: CLI.fixture("csv/dirty.csv"), toPath: odd + "/train.csv")
    let r = try CLI.run(["scan", "a,b:c%d/train.csv", "--annotations", "github"], cwd: dir)
    #expect(r.status == 1)
    let lines = annotations(r.stdout)
    #expect(lines.count == 9)
    for line in lines {
      #expect(line.contains(",file=a%2Cb%3Ac%25d/train.csv,line="), "\(line)")
      // The message follows the second `::`; the key is the CSV line.
      let parts = line.components(separatedBy: "::")
      #expect(parts.count == 3, "\(line)")
      let lineNumber = parts[1].split(separator: ",").first { $0.hasPrefix("line=") }.map { String($0.dropFirst(5)) }
      #expect(parts[2].hasPrefix("key \(lineNumber ?? "?"): "), "\(line)")
    }
  }

  @Test func annotationsAreCappedWithANotice() throws {
    let dir = try makeTempDir()
    var csv = "a,b,label\n"  // 80 rows with a NaN, 20 clean ones, nothing else to report
    for i in 0..<80 { csv += "\(i % 5),NaN,\(i % 2)\n" }
    for i in 0..<20 { csv += "\(i % 5),\(i % 3),\(i % 2)\n" }
    try writeText(csv, dir + "/many.csv")
    let r = try CLI.run(["scan", dir + "/many.csv", "--annotations", "github"])
    #expect(r.status == 1)
    let lines = annotations(r.stdout)
    #expect(lines.filter { $0.hasPrefix("::error ") }.count == 50)
    #expect(lines.count == 51)
    #expect(lines.last?.hasPrefix("::notice title=datasan::30 more findings not annotated") == true)
  }

  @Test func toleratedSamplesAreWarnings() throws {
    let r = try CLI.run(["scan", dirty, "--num-classes", "5", "--max-flagged-fraction", "0.2", "--annotations", "github"])
    #expect(r.status == 0)
    let lines = annotations(r.stdout)
    #expect(lines.count == 8 && lines.allSatisfy { $0.hasPrefix("::warning ") })
  }

  @Test func jobSummaryIsAppendedToGitHubStepSummary() throws {
    let dir = try makeTempDir()
    let summary = dir + "/summary.md"
    try writeText("## earlier step\n\n", summary)
    let r = try CLIEnv.run(
      ["scan", dirty, "--num-classes", "5", "--annotations", "github"], environment: ["GITHUB_STEP_SUMMARY": summary])
    #expect(r.status == 1)
    let md = try String(contentsOfFile: summary, encoding: .utf8)
    #expect(md.hasPrefix("## earlier step\n\n### datasan: FAIL — `\(dirty)` (hdf5)"))
    #expect(md.contains("FAIL: 5 flagged samples"))
    #expect(md.contains("| 40 | 35 | 5 |"))
    #expect(md.contains("| `nan_value` | 1 sample | **fails** |"))
    #expect(md.contains("| `label_out_of_domain` | 2 samples | **fails** |"))
    #expect(md.contains("| `unnormalized_scale` | 3 findings | warning |"))
    #expect(md.contains("| `3` | `nan_value` | 2 NaN values, first at [0, 1, 2] |"))
    // A second step appends; a clean dataset says PASS.
    let clean = try CLIEnv.run(
      ["scan", CLI.fixture("hdf5/clean_small.h5"), "--annotations", "github"], environment: ["GITHUB_STEP_SUMMARY": summary])
    #expect(clean.status == 0 && annotations(clean.stdout).isEmpty)
    let both = try String(contentsOfFile: summary, encoding: .utf8)
    #expect(both.hasPrefix(md) && both.contains("### datasan: PASS"))
    // Without --annotations github, the summary file is left alone; without the variable, nothing is written.
    _ = try CLIEnv.run(["scan", dirty], environment: ["GITHUB_STEP_SUMMARY": summary])
    #expect(try String(contentsOfFile: summary, encoding: .utf8) == both)
    #expect(try CLIEnv.run(["scan", dirty, "--annotations", "github"], cwd: dir).status == 1)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["summary.md"])
  }

  // MARK: JUnit against the schema, read by a real parser

  @Test(.enabled(if: JUnitSchema.available, JUnitSchema.skipMessage))
  func junitIsValidForEveryFormatAndPolicy() throws {
    let dir = try makeTempDir()
    let runs: [(String, [String], Set<String>)] = [
      ("dirty", [dirty, "--num-classes", "5"], ["nan_value", "inf_value", "label_out_of_domain"]),
      ("clean", [CLI.fixture("hdf5/clean_small.h5")], []),
      ("csv", [CLI.fixture("csv/dirty.csv")], ["nan_value", "inf_value", "unreadable", "label_out_of_domain"]),
      ("lmdb", [CLI.fixture("lmdb/train.lmdb")], ["unreadable", "label_out_of_domain"]),
      ("png", [CLI.fixture("png/train")], ["unreadable", "shape_mismatch"]),
      // A class list: the suite's <properties> and the unknown_class case.
      ("classes", [CLI.fixture("classes/val_renamed"), "--classes", "cat,dog,fish"], ["unknown_class"]),
      ("strict", [CLI.fixture("hdf5/constant.h5"), "--strict"], ["constant_feature"]),
      ("tolerated", [dirty, "--num-classes", "5", "--max-flagged-fraction", "0.2"], []),
      ("ignored", [dirty, "--num-classes", "5", "--ignore", "nan_value,unnormalized_scale"], ["inf_value", "label_out_of_domain"]),
    ]
    for (name, args, failed) in runs {
      let path = "\(dir)/\(name).xml"
      let r = try CLI.run(["scan"] + args + ["--junit", path])
      #expect(r.status == (failed.isEmpty ? 0 : 1), "\(name)")
      let verdict = try JUnitSchema.check(path)
      #expect(verdict.errors.isEmpty, "\(name) (\(verdict.parser)): \(verdict.errors)")
      #expect(verdict.failed == failed, "\(name)")
      #expect(verdict.cases.allSatisfy { $0.name.hasPrefix("datasan.") && !$0.classname.isEmpty })
    }
    let ignored = try JUnitSchema.check("\(dir)/ignored.xml")
    // One case per kind of the catalog (18, with extension_mismatch, cmyk_image, unknown_class, mixed_column and
    // empty_dataset), less the ignored ones.
    #expect(ignored.cases.count == 16 && ignored.result("nan_value") == nil)
    let tolerated = try JUnitSchema.check("\(dir)/tolerated.xml")
    #expect(tolerated.cases.first { $0.name == "datasan.nan_value" }?.out.contains("tolerated") == true)
    let dirtyVerdict = try JUnitSchema.check("\(dir)/dirty.xml")
    #expect(dirtyVerdict.cases.count == 18)
    #expect(dirtyVerdict.cases.first { $0.name == "datasan.label_out_of_domain" }?.message == "2 samples with label_out_of_domain")
  }

  @Test(.enabled(if: JUnitSchema.available, JUnitSchema.skipMessage))
  func junitEscapesMarkupInPaths() throws {
    let dir = try makeTempDir()
    let odd = dir + "/a&b<c>\"d'"
    try FileManager.default.createDirectory(atPath: odd, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: CLI.fixture("csv/dirty.csv"), toPath: odd + "/t.csv")
    let r = try CLI.run(["scan", odd + "/t.csv", "--junit", dir + "/j.xml"])
    #expect(r.status == 1)
    let verdict = try JUnitSchema.check(dir + "/j.xml")
    #expect(verdict.errors.isEmpty, "\(verdict.errors)")
    #expect(verdict.cases.first?.classname == "datasan.\(odd)/t.csv")
  }

  @Test(.enabled(if: JUnitSchema.available, JUnitSchema.skipMessage))
  func theCheckerRejectsInvalidJUnit() throws {
    // The checker itself catches what the schema forbids.
    let dir = try makeTempDir()
    let bad: [String] = [
      "<testsuites><testcase name=\"x\"/></testsuites>",
      "<testsuites><testsuite name=\"s\" tests=\"2\" failures=\"0\" errors=\"0\"><testcase name=\"x\"/></testsuite></testsuites>",
      "<testsuites><testsuite name=\"s\" tests=\"1\" errors=\"0\"><testcase name=\"x\"/></testsuite></testsuites>",
      "<testsuites><testsuite name=\"s\" tests=\"1\" failures=\"0\" errors=\"0\" time=\"-1\"><testcase name=\"x\"/></testsuite></testsuites>",
      "<testsuites><testsuite name=\"s\" tests=\"1\" failures=\"0\" errors=\"0\"><testcase/></testsuite></testsuites>",
      "<testsuites><testsuite name=\"s\" tests=\"1\" failures=\"1\" errors=\"0\"><testcase name=\"x\"><failure><b/></failure></testcase></testsuite></testsuites>",
      "<testsuites><testsuite name=\"s\" tests=\"1\" failures=\"0\" errors=\"0\"><testcase name=\"x\">",
    ]
    for (i, xml) in bad.enumerated() {
      try writeText(xml, "\(dir)/\(i).xml")
      #expect(try !JUnitSchema.check("\(dir)/\(i).xml").errors.isEmpty, "\(xml)")
    }
  }
}
