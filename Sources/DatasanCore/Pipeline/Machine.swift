#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What the process may use of the machine, read once without Foundation (whose ProcessInfo reads
/// the environment and the cgroup files on first use: ~0.5 ms of a start that takes 5).
public enum Machine {
  /// The cores this process may run on: its CPU affinity (taskset, a container's cpuset), else
  /// the online cores.
  public static let cores: Int = {
    #if os(Linux)
      typealias SchedGetAffinity = @convention(c) (Int32, Int, UnsafeMutableRawPointer) -> Int32
      if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sched_getaffinity") {
        var mask = [UInt64](repeating: 0, count: 16)  // 1024 CPUs, glibc's cpu_set_t
        let ok = mask.withUnsafeMutableBytes { raw in
          unsafeBitCast(symbol, to: SchedGetAffinity.self)(0, raw.count, raw.baseAddress!) == 0
        }
        let count = mask.reduce(0) { $0 + $1.nonzeroBitCount }
        if ok && count > 0 { return count }
      }
    #endif
    return Swift.max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
  }()

  /// The environment variable `name`, without building Foundation's dictionary of all of them.
  public static func environment(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
  }
}
