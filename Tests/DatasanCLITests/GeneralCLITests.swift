import Foundation
import Testing

@Suite struct GeneralCLITests {
  @Test func helpDocumentsEveryOptionWithAnExample() throws {
    let top = try CLI.run(["--help"])
    #expect(top.status == 0)
    #expect(top.stdout.contains("scan") && top.stdout.contains("clean"))
    let clean = try CLI.run(["clean", "--help"])
    #expect(clean.status == 0)
    let options = [
      "--format", "--dataset", "--labels", "--delimiter", "--header", "--skip-rows", "--label-column",
      "--text-columns", "--list", "--max-pixels", "--loss", "--num-classes", "--ignore-label", "--shape", "--channel-axis", "--scale-limit",
      "--max-abs", "--strict", "--report", "--junit", "--html", "--max-issues", "--quiet", "--output", "--output-format",
      "--normalize", "--range", "--stats-out", "--stats-in", "--quarantine", "--caffe-mean", "--force",
    ]
    for option in options { #expect(clean.stdout.contains(option), "clean --help lacks \(option)") }
    // Every option line's help carries an example.
    let exampleCount = clean.stdout.components(separatedBy: "(e.g.").count - 1
    #expect(exampleCount >= options.count - 1)
  }

  @Test func versionPrints() throws {
    let r = try CLI.run(["--version"])
    #expect(r.status == 0 && r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
  }

  @Test func missingInputIsOneLineExit2() throws {
    let r = try CLI.run(["scan", "/nonexistent/train.h5"])
    #expect(r.status == 2)
    let lines = r.stderr.split(separator: "\n")
    #expect(lines.count == 1)
    #expect(r.stderr.contains("/nonexistent/train.h5"))
  }

  @Test func usageErrorsExit2() throws {
    #expect(try CLI.run(["scan", "x.h5", "--bogus"]).status == 2)
    #expect(try CLI.run(["scan", "x.h5", "--loss", "hinge"]).status == 2)
    #expect(try CLI.run(["clean", CLI.fixture("hdf5/dirty.h5")]).status == 2)  // no -o
  }

  @Test func notADatasetIsExit2() throws {
    let dir = try makeTempDir()
    let path = dir + "/train.h5"
    try Data("just some text\n".utf8).write(to: URL(fileURLWithPath: path))
    let r = try CLI.run(["scan", path])
    #expect(r.status == 2)
    #expect(r.stderr.split(separator: "\n").count == 1)
    #expect(r.stderr.contains(path))
  }
}
