// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "datasan",
  products: [
    .executable(name: "datasan", targets: ["datasan"]),
    .library(name: "Datasan", targets: ["Datasan"]),
    // For the tests only: counts the allocations of a process it is preloaded into.
    .library(name: "DatasanAllocationCounter", type: .dynamic, targets: ["DatasanAllocationCounter"]),
  ],
  dependencies: [
    .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
  ],
  targets: [
    // C libraries: the only code that sees C.
    .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
    .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
    .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),

    // The format-agnostic core: samples, checks, statistics, normalization, pipeline, reports.
    // The vectorized hot loops (statistics, finiteness, normalization) in C.
    .target(name: "CDatasanKernels", cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off"])]),
    .target(name: "DatasanCore", dependencies: ["CDatasanKernels"]),
    // One target per format, behind the Reader / Writer seams of DatasanCore.
    .target(name: "CDatasanHDF5Inflate", cSettings: [.unsafeFlags(["-O3"])], linkerSettings: [.linkedLibrary("z"), .linkedLibrary("deflate")]),  // raw HDF5 chunks on every core
    .target(name: "DatasanHDF5", dependencies: ["DatasanCore", "CHDF5", "CDatasanHDF5Inflate"]),
    .target(name: "DatasanCSV", dependencies: ["DatasanCore"]),
    .target(  // real C: owns libpng's setjmp; decodes common PNGs itself with libdeflate
      name: "CDatasanPNG", dependencies: ["CPNG"], cSettings: [.unsafeFlags(["-O3"])],
      linkerSettings: [.linkedLibrary("deflate"), .linkedLibrary("z")]),
    .target(name: "DatasanPNG", dependencies: ["DatasanCore", "CDatasanPNG"]),
    // Real C: owns the sigsetjmp of the LMDB fault guard and every liblmdb call that reads a map.
    .target(name: "CDatasanLMDBGuard", dependencies: ["CLMDB", "CDatasanKernels"], cSettings: [.unsafeFlags(["-O3"])]),
    .target(name: "DatasanLMDB", dependencies: ["DatasanCore", "CLMDB", "CDatasanLMDBGuard", "DatasanPNG"]),
    // The umbrella library: format detection and the registry of readers and writers.
    .target(name: "Datasan", dependencies: ["DatasanCore", "DatasanHDF5", "DatasanCSV", "DatasanLMDB", "DatasanPNG"]),
    // datasan.yml: the YAML policy file and its keys (one per command-line option).
    .target(name: "DatasanConfig", dependencies: ["DatasanCore", .product(name: "Yams", package: "Yams")]),
    // The command line: options and exit codes only, with its own small parser (Arguments.swift):
    // swift-argument-parser's reflection cost ~4.5 ms of every run.
    .executableTarget(name: "datasan", dependencies: ["Datasan", "DatasanConfig"]),
    // The fuzz targets (Fuzz/README.md): libFuzzer runs them (`make fuzz`), the test replays their corpora.
    .target(
      name: "DatasanFuzzTargets", dependencies: ["Datasan", "DatasanConfig", "CDatasanPNG", "CLMDB"],
      path: "Fuzz/Sources/DatasanFuzzTargets"),

    .target(name: "DatasanAllocationCounter", path: "Tests/AllocationCounter"),
    .target(name: "DatasanTestSupport", path: "Tests/TestSupport"),  // what several test targets share
    .testTarget(name: "DatasanCoreTests", dependencies: ["DatasanTestSupport", "DatasanCore"]),
    .testTarget(name: "DatasanHDF5Tests", dependencies: ["DatasanTestSupport", "DatasanHDF5", "CHDF5"]),
    .testTarget(name: "DatasanCSVTests", dependencies: ["DatasanTestSupport", "DatasanCSV"]),
    .testTarget(name: "DatasanPNGTests", dependencies: ["DatasanTestSupport", "DatasanPNG"]),
    .testTarget(name: "DatasanLMDBTests", dependencies: ["DatasanTestSupport", "DatasanLMDB", "CLMDB"]),
    // For the LMDB guard's tests: a process of its own that shows how a fault ends (Tests/LMDBGuardCheck/main.c).
    .executableTarget(name: "datasan-lmdb-guard-check", dependencies: ["CDatasanLMDBGuard"], path: "Tests/LMDBGuardCheck"),
    .testTarget(name: "DatasanCLITests", dependencies: ["DatasanTestSupport", "datasan", "CHDF5", "CLMDB", .product(name: "Yams", package: "Yams")]),
    .testTarget(name: "DatasanConfigTests", dependencies: ["DatasanConfig", "DatasanCore"]),
    .testTarget(name: "DatasanFuzzTests", dependencies: ["DatasanFuzzTargets"], path: "Fuzz/Tests/DatasanFuzzTests"),
    .testTarget(name: "DatasanReportTests", dependencies: ["DatasanTestSupport", "Datasan", "DatasanPNG"]),
  ],
  swiftLanguageModes: [.v5]
)
