import CLMDB
import DatasanCore
import Foundation
import DatasanTestSupport
import Testing

@testable import DatasanLMDB

/// Damaged, foreign, read-only and busy environments: always a one-line error or `unreadable`
/// samples, never a crash. These run in the test process on purpose: the fault guard of
/// CDatasanLMDBGuard is what they test (a failure would take the test run down, which is the point).
@Suite struct RobustnessTests {
  func openError(_ path: String) -> DatasanError? { thrown(DatasanError.self) { _ = try readAll(path) } }

  @Test func notAnLMDB() throws {
    try withTemporaryDirectory { dir in
      let path = try copyFixture("not_lmdb.lmdb", to: dir)
      let e = try #require(openError(path))
      #expect(e.path == path + "/data.mdb")
      #expect(e.message == "not an LMDB environment (no LMDB magic number in the meta page)")
      #expect(!e.description.contains("\n"))

      let file = dir + "/random.mdb"
      var rng = SystemRandomNumberGenerator()
      _ = FileManager.default.createFile(atPath: file, contents: Data((0..<20000).map { _ in UInt8.random(in: 0...255, using: &rng) }))
      #expect(openError(file)?.message == "not an LMDB environment (no LMDB magic number in the meta page)")

      try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: false)
      #expect(openError(dir + "/empty")?.message == "not an LMDB environment (the directory holds no data.mdb)")
      #expect(openError(dir + "/missing")?.message == "no such file or directory")
      try FileManager.default.createDirectory(atPath: dir + "/zero", withIntermediateDirectories: false)
      _ = FileManager.default.createFile(atPath: dir + "/zero/data.mdb", contents: Data())
      #expect(openError(dir + "/zero")?.message == "empty file, not an LMDB environment")
      _ = FileManager.default.createFile(atPath: dir + "/tiny.mdb", contents: Data([1, 2, 3]))
      #expect(openError(dir + "/tiny.mdb")?.message == "not an LMDB environment (file too small)")
    }
  }

  @Test func truncatedDataFile() throws {
    try withTemporaryDirectory { dir in
      let e = try #require(openError(try copyFixture("truncated.lmdb", to: dir)))
      #expect(e.message.hasPrefix("truncated LMDB data file: 12288 bytes, but its meta page names"))
    }
  }

  @Test func everyTruncationIsAnError() throws {
    try withTemporaryDirectory { dir in
      let source = try Data(contentsOf: URL(fileURLWithPath: fixture("many.lmdb/data.mdb")))
      let sizes = stride(from: 0, to: source.count, by: 4096).flatMap { [$0, $0 + 100, $0 + 4095] }
      for size in sizes where size < source.count {
        let env = dir + "/cut\(size)"
        try FileManager.default.createDirectory(atPath: env, withIntermediateDirectories: false)
        _ = FileManager.default.createFile(atPath: env + "/data.mdb", contents: source.prefix(size))
        let e = openError(env)
        #expect(e != nil, "a data file cut to \(size) bytes must not open")
        try FileManager.default.removeItem(atPath: env)
      }
    }
  }

  @Test func garbageRootPage() throws {
    try withTemporaryDirectory { dir in
      let e = try #require(openError(try copyFixture("garbage_page.lmdb", to: dir)))
      #expect(e.message.hasPrefix("corrupt LMDB environment: "), "\(e)")
    }
  }

  /// Overwrites each page of many.lmdb in turn with several kinds of garbage: the reader must
  /// throw a DatasanError or finish (possibly with unreadable samples), and never crash.
  /// The general path (originals kept), the raw scan path copying values, and the raw scan path
  /// measuring records in the map without copying them.
  enum ReadPath: CaseIterable { case general, scan, scanWithoutValues }

  @Test(arguments: ReadPath.allCases) func everyPageOverwritten(path readPath: ReadPath) throws {
    try withTemporaryDirectory { dir in
      let source = try Data(contentsOf: URL(fileURLWithPath: fixture("many.lmdb/data.mdb")))
      let pages = source.count / 4096
      var rng = SplitMix(seed: 7)
      var outcomes: [String: Int] = [:]
      var caught: [String: Int] = [:]  // faults the guard turned into errors
      let env = dir + "/env"
      try FileManager.default.createDirectory(atPath: env, withIntermediateDirectories: false)
      for page in 0..<pages {
        for pattern in ["random", "ones", "zeros", "header", "flips", "pointers"] {
          var bytes = [UInt8](source)
          let base = page * 4096
          switch pattern {
          case "random": for i in 0..<4096 { bytes[base + i] = UInt8.random(in: 0...255, using: &rng) }
          case "ones": for i in 0..<4096 { bytes[base + i] = 0xFF }
          case "zeros": for i in 0..<4096 { bytes[base + i] = 0 }
          case "header": for i in 0..<16 { bytes[base + i] = UInt8.random(in: 0...255, using: &rng) }
          case "flips":
            for _ in 0..<24 { bytes[base + Int.random(in: 0..<4096, using: &rng)] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng)) }
          default:
            // Node offsets (mp_ptrs) and node sizes: what makes liblmdb read outside a page.
            for i in stride(from: 16, to: 80, by: 2) { bytes[base + i + 1] = UInt8.random(in: 0...255, using: &rng) }
          }
          _ = FileManager.default.createFile(atPath: env + "/data.mdb", contents: Data(bytes))
          try? FileManager.default.removeItem(atPath: env + "/lock.mdb")
          let outcome: String
          do {
            let r: ReadResult
            switch readPath {
            case .general: r = try readAll(env)
            case .scan: r = try readAllScan(env)
            case .scanWithoutValues: r = try readAllScan(env) { $0.valuesNeeded = false }
            }
            outcome = r.samples.contains { $0.problem != nil } ? "unreadable samples" : "read"
          } catch let e as DatasanError {
            #expect(!e.description.contains("\n"))
            for what in ["SIGSEGV caught", "SIGBUS caught", "liblmdb assertion failed"] where e.message.contains(what) {
              caught[what, default: 0] += 1
            }
            outcome = String(e.message.prefix(while: { $0 != ":" && $0 != "(" && $0 != "," })).trimmingCharacters(in: .whitespaces)
            if ProcessInfo.processInfo.environment["DATASAN_LMDB_VERBOSE"] != nil { print("page \(page) \(pattern): \(e.message)") }
          }
          outcomes[outcome, default: 0] += 1
        }
      }
      // Every case ended cleanly. The B-tree check stops the damage that made liblmdb fault (inside
      // its map, and outside it, where the guard must not recover) before a cursor walks the tree.
      #expect(outcomes.values.reduce(0, +) == pages * 6)
      #expect(outcomes.keys.contains("corrupt LMDB environment"), "\(outcomes)")
      print("page overwrite outcomes over \(pages) pages: \(outcomes.sorted { $0.key < $1.key }); caught: \(caught)")
    }
  }

  /// The guard itself, in a process of its own (the datasan-lmdb-guard-check helper): a SIGBUS
  /// inside a registered map and a SIGSEGV just past its end come back as DATASAN_MDB_FAULT, on
  /// two threads at once, repeatedly.
  @Test(.disabled(if: Sanitizer.thread, Comment(rawValue: Sanitizer.lmdbGuardUnderThreadSanitizer))) func faultsInARegisteredMapComeBack() throws {
    let r = try runGuardCheck("inside")
    #expect(r.signal == nil && r.status == 0, "\(r)")
  }

  /// Every other fault is a bug and kills the process, as it would without the guard: a guarded
  /// read of an address in no map, a guarded read farther past a map than liblmdb can reach, a
  /// SIGSEGV sent with kill to a thread inside guarded calls, a SIGSEGV outside any guarded call.
  @Test(arguments: ["outside", "beyond-reach", "sent", "unarmed"])
  func otherFaultsCrash(mode: String) throws {
    let r = try runGuardCheck(mode)
    // Under AddressSanitizer and ThreadSanitizer, their SIGSEGV handler (the one the guard hands
    // over to) reports and exits (TSan aborts: abort_on_error=1).
    #expect(
      r.signal == SIGSEGV || r.stderr.contains("AddressSanitizer: SEGV") || r.stderr.contains("ThreadSanitizer: SEGV"),
      "\(mode): \(r)")
  }

  /// A data file truncated while it is read: liblmdb and the copies fault past its end, inside the
  /// map (SIGBUS), on the general path and on the raw scan path (measured in the map or copied).
  @Test(.disabled(if: Sanitizer.thread, Comment(rawValue: Sanitizer.lmdbGuardUnderThreadSanitizer)), arguments: ReadPath.allCases)
  func truncatedWhileRead(path readPath: ReadPath) throws {
    try withTemporaryDirectory { dir in
      let env = try copyFixture("many.lmdb", to: dir)
      let reader = try LMDBReader(path: env, options: options { o in
        o.keepOriginals = readPath == .general
        o.valuesNeeded = readPath != .scanWithoutValues
      })
      #expect(truncate(env + "/data.mdb", 2 * 4096) == 0)
      let e = try #require(thrown(DatasanError.self) { while try reader.nextBatch() != nil {} })
      #expect(e.message.hasPrefix("corrupt LMDB environment: liblmdb read past the end of the data file (SIGBUS caught)"), "\(e)")
    }
  }

  /// Several environments open at once (two of them of one file): each map is registered on its
  /// own, a fault in any of them is recovered, and closing one leaves the others guarded.
  @Test(.disabled(if: Sanitizer.thread, Comment(rawValue: Sanitizer.lmdbGuardUnderThreadSanitizer))) func severalEnvironmentsAtOnce() throws {
    try withTemporaryDirectory { dir in
      let a = try copyFixture("many.lmdb", to: dir, as: "a")
      let b = try copyFixture("many.lmdb", to: dir, as: "b")
      let readers = try [a, a, b, b].map { try LMDBReader(path: $0, options: options()) }
      let sameFile = try readAll(a)  // a fifth environment, opened and closed in between
      #expect(sameFile.samples.count == 300)
      #expect(truncate(a + "/data.mdb", 2 * 4096) == 0)
      for reader in readers[0...1] {
        #expect(thrown(DatasanError.self) { while try reader.nextBatch() != nil {} }?.message.contains("SIGBUS caught") == true)
      }
      // b's first reader is read while a's are still open; its second after they are closed.
      var count = 0
      while let batch = try readers[2].nextBatch() { count += batch.count }
      #expect(count == 300)
      readers[0].close()
      readers[1].close()
      #expect(truncate(b + "/data.mdb", 2 * 4096) == 0)
      #expect(thrown(DatasanError.self) { while try readers[3].nextBatch() != nil {} }?.message.contains("SIGBUS caught") == true)
    }
  }

  /// Readers on several threads at once, each with its own fault to recover.
  @Test(.disabled(if: Sanitizer.thread, Comment(rawValue: Sanitizer.lmdbGuardUnderThreadSanitizer))) func guardOnSeveralThreads() throws {
    try withTemporaryDirectory { dir in
      let threads = 4
      let paths = try (0..<threads).map { try copyFixture("many.lmdb", to: dir, as: "env\($0)") }
      let messages = parallelMap(threads) { t -> String? in
        var message: String? = nil
        for round in 0..<5 {
          let data = paths[t] + "/data.mdb"
          let original = try? Data(contentsOf: URL(fileURLWithPath: data))
          guard let reader = try? LMDBReader(path: paths[t], options: options()) else { return message }
          _ = truncate(data, off_t(4096 * (2 + round)))
          message = thrown(DatasanError.self) { while try reader.nextBatch() != nil {} }?.message
          reader.close()
          try? original?.write(to: URL(fileURLWithPath: data))
          if message?.contains("SIGBUS caught") != true { return message }
        }
        return message
      }
      for t in 0..<threads { #expect(messages[t]?.contains("SIGBUS caught") == true, "thread \(t): \(messages[t] ?? "nil")") }
    }
  }

  @Test func readOnlyCopyOpensWithoutWritingAnything() throws {
    try withTemporaryDirectory { dir in
      let path = try copyFixture("raw.lmdb", to: dir)
      let data = path + "/data.mdb"
      let before = try Data(contentsOf: URL(fileURLWithPath: data))
      let modified = try FileManager.default.attributesOfItem(atPath: data)[.modificationDate] as? Date
      try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: data)
      try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: path)
      let r = try readAll(path)
      #expect(r.samples.count == 5)
      if !ignoresPermissions {
        // No lock file could be created: read without one.
        #expect(r.openedWithoutLock)
        #expect(!FileManager.default.fileExists(atPath: path + "/lock.mdb"))
      }
      #expect(try Data(contentsOf: URL(fileURLWithPath: data)) == before)
      #expect(try FileManager.default.attributesOfItem(atPath: data)[.modificationDate] as? Date == modified)
    }
  }

  /// Where chmod cannot stop the lock file (root), make it impossible: a directory named lock.mdb.
  @Test func unusableLockFileFallsBackToNoLock() throws {
    try withTemporaryDirectory { dir in
      let path = try copyFixture("raw.lmdb", to: dir)
      try FileManager.default.createDirectory(atPath: path + "/lock.mdb", withIntermediateDirectories: false)
      let r = try readAll(path)
      #expect(r.openedWithoutLock)
      #expect(r.samples.count == 5)
      #expect(r.keys == ["0x30783431", "a0", "a1", "a2", "0xfffe"])
      // The single-file form: its lock file is "<file>-lock".
      let file = try copyFixture("nosubdir.mdb", to: dir)
      try FileManager.default.createDirectory(atPath: file + "-lock", withIntermediateDirectories: false)
      let f = try readAll(file)
      #expect(f.openedWithoutLock)
      #expect(f.keys == ["k0", "k1"])
    }
  }

  /// Reading writes nothing into the input: an environment without a lock file is read without
  /// one (none is created); one whose lock file exists (a writer has or had it open) registers in it.
  @Test func lockFileIsUsedWhenPresentAndNeverCreated() throws {
    try withTemporaryDirectory { dir in
      let path = try copyFixture("raw.lmdb", to: dir)
      let fresh = try readAll(path)
      #expect(fresh.openedWithoutLock)
      #expect(!FileManager.default.fileExists(atPath: path + "/lock.mdb"))
      let file = try copyFixture("nosubdir.mdb", to: dir)
      #expect(try readAll(file).openedWithoutLock)
      #expect(!FileManager.default.fileExists(atPath: file + "-lock"))

      let python = try Python.run("import lmdb, sys; lmdb.open(sys.argv[1], readonly=True).close()", [path])
      #expect(python.status == 0, "\(python.stderr)")
      #expect(FileManager.default.fileExists(atPath: path + "/lock.mdb"))
      let locked = try readAll(path)
      #expect(!locked.openedWithoutLock)
      #expect(locked.samples.count == fresh.samples.count)
    }
  }

  /// Another process holds the environment open with a write transaction in progress: the reader
  /// sees the last committed snapshot; after the commit, the new record.
  @Test func readsWhileAnotherProcessWrites() throws {
    try withTemporaryDirectory { dir in
      let path = try copyFixture("raw.lmdb", to: dir)
      let script = """
        import lmdb, sys
        env = lmdb.open(\(String(reflecting: path)), map_size=1 << 20)
        txn = env.begin(write=True)
        txn.put(b"zz", bytes([0x08, 1, 0x10, 1, 0x18, 1, 0x22, 1, 9, 0x28, 5]))
        print("writing", flush=True)
        sys.stdin.readline()
        txn.commit()
        print("committed", flush=True)
        sys.stdin.readline()
        env.close()
        """
      let (process, input, output) = try Python.start(script)
      defer {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
      }
      #expect(readLine(output) == "writing")
      let during = try readAll(path)
      #expect(!during.openedWithoutLock)
      #expect(during.samples.count == 5)
      input.fileHandleForWriting.write(Data("go\n".utf8))
      #expect(readLine(output) == "committed")
      let after = try readAll(path)  // the writer still has the environment open
      #expect(after.samples.count == 6)
      #expect(after.keys == ["0x30783431", "a0", "a1", "a2", "zz", "0xfffe"])
      #expect(after["zz"].values == [9])
      #expect(after["zz"].label == 5)
      input.fileHandleForWriting.write(Data("done\n".utf8))
    }
  }
}

