import Foundation
import Testing

/// A datasan.yml describes its own input (issue 13 item 10): its input-specific keys (format,
/// dataset, labels, label column, ...) apply to its `input` only, its policy keys to every input.
@Suite struct ConfigInputCLITests {
  /// `init train.h5` writes `format: hdf5`; a later `scan images` in the same folder read the
  /// folder as HDF5 ("is a directory, not an HDF5 file"). Now it reads it as what it is, says which
  /// keys it left out, and still follows the file's checks and policy (its num_classes, and
  /// `strict: true` fails it).
  @Test func initThenScanOfAnotherInputInTheSameFolder() throws {
    let dir = try makeTempDir()
    let fm = FileManager.default
    try fm.copyItem(atPath: CLI.fixture("demo/train.h5"), toPath: dir + "/train.h5")
    try fm.copyItem(atPath: CLI.fixture("png/imagefolder"), toPath: dir + "/images")
    let initRun = try CLI.run(["init", "train.h5"], cwd: dir)
    #expect(initRun.status == 0, "\(initRun.stdout)\(initRun.stderr)")
    let yml = try String(contentsOfFile: dir + "/datasan.yml", encoding: .utf8)
    #expect(yml.contains("format: hdf5"))

    let other = try CLI.run(["scan", "images", "--report", "images.json"], cwd: dir)
    #expect(other.status == 0, "\(other.stdout)\(other.stderr)")
    #expect(try Report.load(dir + "/images.json").input.format == "png")
    #expect(other.stdout.contains("its keys for its input train.h5 (format"), "\(other.stdout)")
    #expect(other.stdout.contains("are not applied to this one"))
    #expect(other.stdout.contains("of --num-classes 11 has no sample"))  // train.h5's classes: a check, for every input

    // The file's own input: with no input named, and named as another spelling of the same path.
    for arguments in [["scan"], ["scan", "./train.h5"]] {
      let own = try CLI.run(arguments + ["--report", "own.json"], cwd: dir)
      #expect(own.status == 1, "\(arguments): \(own.stdout)\(own.stderr)")  // the demo has broken samples
      #expect(try Report.load(dir + "/own.json").input.format == "hdf5")
      #expect(!own.stdout.contains("not applied"), "\(own.stdout)")
    }

    // A policy key applies to every input: the images' scale warnings fail under strict.
    try (yml + "strict: true\n").write(toFile: dir + "/datasan.yml", atomically: false, encoding: .utf8)
    let strict = try CLI.run(["scan", "images", "--report", "strict.json"], cwd: dir)
    #expect(strict.status == 1, "\(strict.stdout)\(strict.stderr)")
    #expect(try Report.load(dir + "/strict.json").issues.contains { $0.kind == "unnormalized_scale" && $0.severity == "error" })
  }
}
