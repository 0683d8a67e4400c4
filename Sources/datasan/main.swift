import Datasan
import DatasanConfig
import Foundation

// The entry point maps every failure to SPEC.md's exit codes: a problem with a file is one
// line on stderr and exit 2; usage errors print the usage and exit 2 (not 64); a scan that
// failed exits 1.
setvbuf(stdout, nil, _IOFBF, 1 << 16)
signal(SIGPIPE, SIG_IGN)
let arguments = Array(CommandLine.arguments.dropFirst())
// scan, clean and init go on in a supervised child: this same program started again
// (Supervisor.swift); in that child, adoptChildRole() takes its part and the work goes on here.
Supervisor.unblockFaults()
if !Supervisor.adoptChildRole() && Supervisor.wanted(arguments) { Supervisor.superviseChild() }
InterruptGuard.shared.install()

func fail(_ message: String, code: Int32) -> Never {
  fflush(stdout)
  fputs(message.hasSuffix("\n") ? message : message + "\n", stderr)  // (Data(message.utf8) cost 0.15 ms)
  exit(code)
}

do {
  let code = try datasanProgram.run(arguments)
  fflush(stdout)
  exit(code)
} catch let error as UsageError {
  fail(error.fullText, code: 2)
} catch let error as DatasanError {
  fail("datasan: \(error)", code: 2)
} catch let error as ConfigError {
  fail("datasan: \(error.description.oneLine())", code: 2)
} catch let error as CustomStringConvertible {
  fail("Error: \(error.description.oneLine())", code: 2)
} catch {
  fail("Error: \(error.localizedDescription.oneLine())", code: 2)
}
