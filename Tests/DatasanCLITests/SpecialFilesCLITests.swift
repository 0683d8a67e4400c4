import Foundation
import Testing

/// Reports written to devices and pipes go to them as they are; no output ever replaces one
/// (as root, an atomic rename over /dev/null would turn it into a regular file).
@Suite struct SpecialFilesCLITests {
  let input = CLI.fixture("hdf5/clean_small.h5")

  func isCharacterDevice(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR
  }

  @Test func reportsToDevNullAndStdout() throws {
    let r = try CLI.run(["scan", input, "--quiet", "--report", "/dev/stdout", "--junit", "/dev/null", "--html", "/dev/null"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("\"schema\" : \"datasan-report/1\"") || r.stdout.contains("\"schema\": \"datasan-report/1\""))
    #expect(isCharacterDevice("/dev/null"))
  }

  @Test func reportToAPipe() throws {
    let dir = try makeTempDir()
    let fifo = dir + "/report.pipe"
    #expect(mkfifo(fifo, 0o600) == 0)
    var received = Data()
    let reader = Thread {
      if let h = FileHandle(forReadingAtPath: fifo) { received = h.readDataToEndOfFile() }
    }
    reader.start()
    let r = try CLI.run(["scan", input, "--quiet", "--report", fifo])
    while !reader.isFinished { usleep(1000) }
    #expect(r.status == 0, "\(r.stderr)")
    #expect(String(decoding: received, as: UTF8.self).contains("datasan-report/1"))
    var st = stat()
    #expect(stat(fifo, &st) == 0 && (st.st_mode & S_IFMT) == S_IFIFO)
  }

  @Test func cleanNeverReplacesADevice() throws {
    let dir = try makeTempDir()
    for args in [["-o", "/dev/null", "--output-format", "hdf5", "--force"], ["-o", dir + "/out.h5", "--stats-out", "/dev/null", "--force"]] {
      let r = try CLI.run(["clean", input, "--quiet"] + args)
      #expect(r.status == 2)
      #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("/dev/null"), "\(r.stderr)")
      #expect(isCharacterDevice("/dev/null"))
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
  }
}
