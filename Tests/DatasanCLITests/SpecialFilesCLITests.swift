import DatasanTestSupport
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
    let received = Locked(Data())
    let reader = Thread {
      if let h = FileHandle(forReadingAtPath: fifo) {
        let data = h.readDataToEndOfFile()
        received.withLock { $0 = data }
      }
    }
    reader.start()
    let r = try CLI.run(["scan", input, "--quiet", "--report", fifo])
    while !reader.isFinished { usleep(1000) }
    #expect(r.status == 0, "\(r.stderr)")
    #expect(String(decoding: received.value, as: UTF8.self).contains("datasan-report/1"))
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

  /// A Unix socket bound at `path` (closed, and the path removed, by the caller's folder cleanup).
  func bindSocket(_ path: String) throws -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    try #require(fd >= 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    try #require(bytes.count < MemoryLayout.size(ofValue: address.sun_path))
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    try #require(bound == 0, "bind \(path): errno \(errno)")
    return fd
  }

  /// A socket and character devices as input: `scan` with every `--format` and `clean` exit 2 with one
  /// line naming the input, within ten seconds (about 0.1 s alone; the bound leaves room for the
  /// parallel suite and other work loading both cores: up to 4.9 s was seen at a load of 10; 15 s
  /// under ASan, ``Sanitizer/slowdown`` s under TSan: two sanitized processes start; reading
  /// /dev/zero would not end, which the 20 s timeout catches),
  /// never opening them (opening a socket fails, reading /dev/zero never ends) and leaving nothing.
  @Test func socketsAndDevicesAreExit2Promptly() throws {
    let dir = try makeTempDir()
    let socketPath = dir + "/in.sock"
    let fd = try bindSocket(socketPath)
    defer { close(fd) }
    var st = stat()
    try #require(stat(socketPath, &st) == 0 && (st.st_mode & S_IFMT) == S_IFSOCK)
    let limit = Sanitizer.thread ? Sanitizer.slowdown : Sanitizer.active == nil ? 10.0 : 15.0
    for input in [socketPath, "/dev/zero", "/dev/null"] {
      let formats: [[String]] = [[], ["--format", "hdf5"], ["--format", "csv"], ["--format", "lmdb"], ["--format", "png"]]
      let runs = formats.map { ["scan", input] + $0 } + formats.map { ["clean", input, "-o", dir + "/out"] + $0 }
      for arguments in runs {
        let started = Date()
        let r = try CLI.run(arguments, timeout: 20)
        let seconds = Date().timeIntervalSince(started)
        #expect(r.status == 2 && r.signal == nil && !r.timedOut, "\(arguments): \(r.status) \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains(input), "\(arguments): \(r.stderr)")
        #expect(seconds < limit, "\(arguments): \(seconds) s")
      }
    }
    #expect(isCharacterDevice("/dev/zero") && isCharacterDevice("/dev/null"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["in.sock"])
  }
}
