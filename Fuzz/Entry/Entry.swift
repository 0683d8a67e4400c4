// libFuzzer's entry points for every target in one binary (built by Fuzz/fuzz.sh with
// -sanitize=fuzzer,address): the environment variable DATASAN_FUZZ_TARGET picks the target.

import DatasanFuzzTargets
import Foundation

nonisolated(unsafe) private var target: FuzzTarget? = nil

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
  let name = ProcessInfo.processInfo.environment["DATASAN_FUZZ_TARGET"] ?? ""
  guard let found = fuzzTarget(named: name) else {
    let names = fuzzTargets.map(\.name).joined(separator: " ")
    FileHandle.standardError.write(Data("set DATASAN_FUZZ_TARGET to one of: \(names)\n".utf8))
    exit(2)
  }
  target = found
  return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  target!.run(UnsafeRawBufferPointer(start: data, count: size))
  return 0
}
