import ArgumentParser
import Datasan
import DatasanConfig
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

// The entry point maps every failure to SPEC.md's exit codes: a problem with a file is one
// line on stderr and exit 2; usage errors print the usage and exit 2 (not 64); a scan that
// failed exits 1. What it prints goes through Console (buffered stdout, flushed before exit; a
// closed pipe is EPIPE, not a signal, and ends that output in silence).
signal(SIGPIPE, SIG_IGN)
let arguments = Array(CommandLine.arguments.dropFirst())
// scan, clean and init go on in a supervised child: this same program started again
// (Supervisor.swift); in that child, adoptChildRole() takes its part and the work goes on here.
Supervisor.unblockFaults()
if !Supervisor.adoptChildRole() && Supervisor.wanted(arguments) { Supervisor.superviseChild() }
InterruptGuard.shared.install()

func fail(_ message: String, code: Int32) -> Never {
  Console.out.flush()
  Console.err.write(message.hasSuffix("\n") ? message : message + "\n")
  exit(code)
}

/// Ends the process with `code` once stdout is written out.
func finish(_ code: Int32) -> Never {
  Console.out.flush()
  exit(code)
}

// Parsing: help, the version and completion scripts are "errors" of exit code 0, printed on stdout.
let command: ParsableCommand
do {
  try DatasanCommand.checkSubcommand(arguments)
  command = try DatasanCommand.parseAsRoot(arguments.isEmpty ? ["--help"] : arguments)
} catch let error as UsageError {
  fail("Error: \(error.message)\nUsage: datasan <subcommand>\n  See 'datasan --help' for more information.", code: 2)
} catch {
  let code = DatasanCommand.exitCode(for: error)
  if code == .success {
    Console.out.line(DatasanCommand.fullMessage(for: error, columns: 80))
    finish(0)
  }
  fail(DatasanCommand.fullMessage(for: error, columns: 80), code: 2)
}
subcommandArguments = Array(arguments.dropFirst())

do {
  var command = command
  try command.run()
  finish(0)
} catch let code as ExitCode {
  finish(code.rawValue)
} catch let error as UsageError {
  // After parsing, in the command: still one line and that command's usage.
  let type = Swift.type(of: command)
  fail(
    "Error: \(error.message)\nUsage: \(DatasanCommand.usageString(for: type))\n"
      + "  See 'datasan \(type._commandName) --help' for more information.", code: 2)
} catch let error as DatasanError {
  fail("datasan: \(error)", code: 2)
} catch let error as ConfigError {
  fail("datasan: \(error.description.oneLine())", code: 2)
} catch let error as CustomStringConvertible {
  fail("Error: \(error.description.oneLine())", code: 2)
} catch {
  // swift-argument-parser's own: `help <subcommand>` asks for help this way.
  if DatasanCommand.exitCode(for: error) == .success {
    Console.out.line(DatasanCommand.fullMessage(for: error, columns: 80))
    finish(0)
  }
  fail(DatasanCommand.fullMessage(for: error, columns: 80), code: 2)
}
