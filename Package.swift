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
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
  ],
  targets: [
    // C libraries: the only code that sees C.
    .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
    .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
    .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
    .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
    .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
    // zlib, libbz2, liblzma, libzstd: compressed CSV in and out (one streaming interface in its shim.h).
    .systemLibrary(name: "CCompression", providers: [.apt(["zlib1g-dev", "libbz2-dev", "liblzma-dev", "libzstd-dev"])]),

    // The format-agnostic core: samples, checks, statistics, normalization, pipeline, the report's content.
    // The vectorized hot loops (statistics, finiteness, normalization) in C.
    .target(name: "CDatasanKernels", cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off"])]),
    .target(name: "DatasanCore", dependencies: ["CDatasanKernels"]),
    // The reports of a scan (JSON, JUnit, text summary, HTML with thumbnails through libpng).
    .target(name: "DatasanReports", dependencies: ["DatasanCore", "CDatasanPNG"]),
    // One target per format, behind the Reader / Writer seams of DatasanCore.
    .target(name: "CDatasanHDF5Inflate", cSettings: [.unsafeFlags(["-O3"])], linkerSettings: [.linkedLibrary("z"), .linkedLibrary("deflate")]),  // raw HDF5 chunks on every core
    .target(name: "DatasanHDF5", dependencies: ["DatasanCore", "CHDF5", "CDatasanHDF5Inflate", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    // Compressed streams (gzip, bzip2, xz, zstd) read and written through the system libraries.
    .target(name: "DatasanCompression", dependencies: ["DatasanCore", "CCompression"]),
    .target(name: "DatasanCSV", dependencies: ["DatasanCore", "DatasanCompression", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    .target(  // real C: owns libpng's setjmp; decodes common PNGs itself with libdeflate
      name: "CDatasanPNG", dependencies: ["CPNG"], cSettings: [.unsafeFlags(["-O3"])],
      linkerSettings: [.linkedLibrary("deflate"), .linkedLibrary("z")]),
    .target(  // TurboJPEG: a thread's decompressor, the channel-first and CMYK -> RGB loops
      name: "CDatasanJPEG", dependencies: ["CTurboJPEG"], cSettings: [.unsafeFlags(["-O3"])]),
    // The image folder and the image codecs (PNG, JPEG) that it and encoded LMDB Datums decode with.
    .target(name: "DatasanPNG", dependencies: ["DatasanCore", "CDatasanPNG", "CDatasanJPEG", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    // Real C: owns the sigsetjmp of the LMDB fault guard and every liblmdb call that reads a map.
    .target(name: "CDatasanLMDBGuard", dependencies: ["CLMDB", "CDatasanKernels"], cSettings: [.unsafeFlags(["-O3"])]),
    .target(name: "DatasanLMDB", dependencies: ["DatasanCore", "CLMDB", "CDatasanLMDBGuard", "DatasanPNG"]),
    // NumPy .npy / .npz (zip directory parsed here, deflated members inflated by zlib in CDatasanNPYInflate).
    .target(name: "CDatasanNPYInflate", cSettings: [.unsafeFlags(["-O3"])], linkerSettings: [.linkedLibrary("z")]),
    .target(name: "DatasanNPY", dependencies: ["DatasanCore", "CDatasanNPYInflate", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    // The umbrella library: format detection and the registry of readers and writers.
    .target(
      name: "Datasan",
      dependencies: [
        "DatasanCore", "DatasanReports", "DatasanHDF5", "DatasanCSV", "DatasanLMDB", "DatasanPNG", "DatasanNPY", "DatasanCompression",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    // datasan.yml: the YAML policy file and its keys (one per command-line option), read through libyaml.
    // The options: each declared once, with its help, in a ParsableArguments group (Options.swift);
    // the datasan.yml keys and `datasan init`'s template derive from those declarations.
    .target(
      name: "DatasanConfig",
      dependencies: [
        "Datasan", "CYAML",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    // The command line: the commands and exit codes (swift-argument-parser).
    .executableTarget(
      name: "datasan",
      dependencies: ["Datasan", "DatasanReports", "DatasanConfig", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    // The fuzz targets (Fuzz/README.md): libFuzzer runs them (`make fuzz`), the test replays their corpora.
    .target(
      name: "DatasanFuzzTargets",
      dependencies: ["Datasan", "DatasanConfig", "DatasanHDF5", "DatasanCSV", "DatasanLMDB", "DatasanNPY", "DatasanCompression", "CDatasanPNG", "CDatasanJPEG", "CLMDB"],
      path: "Fuzz/Sources/DatasanFuzzTargets"),

    .target(name: "DatasanAllocationCounter", path: "Tests/AllocationCounter"),
    .target(name: "DatasanTestSupport", dependencies: ["DatasanCore"], path: "Tests/TestSupport"),  // what several test targets share
    .testTarget(name: "DatasanCoreTests", dependencies: ["DatasanTestSupport", "DatasanCore", "DatasanReports", "CDatasanKernels"]),
    .testTarget(name: "DatasanHDF5Tests", dependencies: ["DatasanTestSupport", "DatasanHDF5", "CHDF5"]),
    .testTarget(name: "DatasanCSVTests", dependencies: ["DatasanTestSupport", "DatasanCSV"]),
    .testTarget(name: "DatasanPNGTests", dependencies: ["DatasanTestSupport", "DatasanPNG"]),
    .testTarget(name: "DatasanLMDBTests", dependencies: ["DatasanTestSupport", "DatasanLMDB", "CLMDB"]),
    .testTarget(name: "DatasanNPYTests", dependencies: ["DatasanTestSupport", "DatasanNPY"]),
    // For the LMDB guard's tests: a process of its own that shows how a fault ends (Tests/LMDBGuardCheck/main.c).
    .executableTarget(name: "datasan-lmdb-guard-check", dependencies: ["CDatasanLMDBGuard"], path: "Tests/LMDBGuardCheck"),
    .testTarget(name: "DatasanCLITests", dependencies: ["DatasanTestSupport", "datasan", "DatasanConfig", "CHDF5", "CLMDB"]),
    .testTarget(name: "DatasanConfigTests", dependencies: ["DatasanConfig", "DatasanCore", "DatasanReports"]),
    .testTarget(name: "DatasanFuzzTests", dependencies: ["DatasanFuzzTargets"], path: "Fuzz/Tests/DatasanFuzzTests"),
    .testTarget(name: "DatasanReportTests", dependencies: ["DatasanTestSupport", "Datasan", "DatasanReports", "DatasanPNG", "DatasanCSV", "DatasanHDF5"]),
  ],
  swiftLanguageModes: [.v6]
)
