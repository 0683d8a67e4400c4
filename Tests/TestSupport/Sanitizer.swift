import Foundation

/// The sanitizer this test process was built with (`make test-asan`, `make test-tsan`), if any: its
/// runtime's entry point is then linked in. The test targets that run `datasan` run the build of
/// the same sanitizer (the Makefile sets DATASAN_BINARY).
public enum Sanitizer {
  public static let active: String? = {
    guard let process = dlopen(nil, RTLD_NOW) else { return nil }
    defer { dlclose(process) }
    if dlsym(process, "__asan_init") != nil { return "AddressSanitizer" }
    if dlsym(process, "__tsan_init") != nil { return "ThreadSanitizer" }
    return nil
  }()

  /// Whether this is the ThreadSanitizer build.
  public static var thread: Bool { active == "ThreadSanitizer" }

  /// How many times longer a run may take in this build, for tests that bound a run's time: 10
  /// under ThreadSanitizer (every memory access checked, in the test process and in the sanitized
  /// `datasan` with its supervised child: a 0.04 s scan of huge.h5 took 2.02 s in the TSan suite on
  /// a loaded machine), 1 otherwise (the ASan suite keeps the plain bounds).
  public static var slowdown: Double { thread ? 10 : 1 }

  /// Why the tests that make the LMDB fault guard jump are skipped under ThreadSanitizer: the guard
  /// leaves liblmdb's SIGBUS/SIGSEGV by `siglongjmp` out of its signal handler, and TSan, which
  /// intercepts every signal and runs handlers from its own, cannot unwind such a jump (the
  /// process dies). The ASan build runs them.
  public static let lmdbGuardUnderThreadSanitizer =
    "skipped under ThreadSanitizer: TSan intercepts signals and cannot unwind the LMDB fault guard's siglongjmp out of its SIGBUS/SIGSEGV handler; make test-asan runs it"
}
