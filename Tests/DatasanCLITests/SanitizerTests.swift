import DatasanTestSupport
import Foundation
import Testing

/// Under `make test-asan` / `make test-tsan` the CLI tests must run the sanitized `datasan`, not an
/// earlier build of another scratch path: that binary answers its sanitizer's `help=1` option.
@Suite(.enabled(if: Sanitizer.active != nil, "no sanitizer in this build (make test-asan, make test-tsan)"))
struct SanitizerTests {
  @Test func theCLITestsRunTheSanitizedBinary() throws {
    let sanitizer = try #require(Sanitizer.active)
    let variable = sanitizer == "AddressSanitizer" ? "ASAN_OPTIONS" : "TSAN_OPTIONS"
    let r = try CLI.run(["--version"], environment: [variable: "help=1"])
    #expect(r.stderr.contains("Available flags for \(sanitizer)"), "\(CLI.binary) is not built with \(sanitizer)")
  }
}
