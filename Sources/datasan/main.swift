import ArgumentParser
import Datasan
import DatasanConfig
import Foundation

// The entry point maps every failure to SPEC.md's exit codes: a problem with a file is one
// line on stderr and exit 2; usage errors print the usage and exit 2 (not 64).
setvbuf(stdout, nil, _IOFBF, 1 << 16)
signal(SIGPIPE, SIG_IGN)
InterruptGuard.shared.install()

func fail(_ message: String, code: Int32) -> Never {
  fflush(stdout)
  FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
  exit(code)
}

do {
  var command = try DatasanCommand.parseAsRoot()
  try command.run()
  fflush(stdout)
  exit(0)
} catch let error as DatasanError {
  fail("datasan: \(error)", code: 2)
} catch let error as ConfigError {
  fail("datasan: \(error)", code: 2)
} catch let error as ExitCode {
  fflush(stdout)
  exit(error.rawValue)
} catch {
  let code = DatasanCommand.exitCode(for: error)
  let message = DatasanCommand.fullMessage(for: error)
  if code == .success {
    print(message)
    fflush(stdout)
    exit(0)
  }
  fail(message, code: 2)
}
