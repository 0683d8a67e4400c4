// The fuzz targets: one function per parser of untrusted bytes, each taking the fuzzer's input.
//
// The same functions run under libFuzzer (Fuzz/Entry/Entry.swift, built by `make fuzz`) and in the
// regression test (Fuzz/Tests), which replays every seed corpus and every saved crash through them.
// A target returns normally for any input: a crash, a trap, a sanitizer report, a differential
// mismatch (`fuzzCheck`) or memory past libFuzzer's limits is a finding.
//
// The readers (HDF5, LMDB, CSV) get the input as a file and run the whole `scan` the command line
// runs (reader, checker, statistics, report), so a finding is what a user would hit.

import CDatasanPNG
import CLMDB
import Datasan
import DatasanCSV
import DatasanCompression
import DatasanConfig
import DatasanLMDB
import DatasanNPY
@testable import DatasanPNG
import Foundation

/// One fuzz target.
public struct FuzzTarget: Sendable {
  public var name: String
  /// What the seed corpus and the target's files are: the extension its temporary file gets.
  public var run: @Sendable (UnsafeRawBufferPointer) -> Void
  /// Whether libhdf5 itself (not datasan) may fault on some inputs: `make fuzz` runs such a target
  /// with -fork and -ignore_crashes, and the regression test replays its library crashes through
  /// the command line (where the supervisor turns them into exit 2).
  public var libraryMayFault = false
}

/// Every target, by name (the names of the Fuzz/corpus, Fuzz/dict and Fuzz/crashes folders).
public let fuzzTargets: [FuzzTarget] = [
  FuzzTarget(name: "png", run: fuzzPNG),
  FuzzTarget(name: "png-diff", run: fuzzPNGFastVersusLibpng),
  FuzzTarget(name: "jpeg", run: fuzzJPEG),
  FuzzTarget(name: "datum", run: fuzzDatum),
  FuzzTarget(name: "datum-c", run: fuzzDatumC),
  FuzzTarget(name: "datum-diff", run: fuzzDatumDifferential),
  FuzzTarget(name: "lmdb", run: fuzzLMDB),
  FuzzTarget(name: "hdf5", run: fuzzHDF5, libraryMayFault: true),
  FuzzTarget(name: "csv", run: fuzzCSV),
  FuzzTarget(name: "npy", run: fuzzNPY),
  FuzzTarget(name: "compressed", run: fuzzCompressedCSV),
  FuzzTarget(name: "float", run: fuzzFloat),
  FuzzTarget(name: "list", run: fuzzListFile),
  FuzzTarget(name: "config", run: fuzzConfig),
]

public func fuzzTarget(named name: String) -> FuzzTarget? { fuzzTargets.first { $0.name == name } }

/// A differential or invariant check failed: stops the run loudly (libFuzzer saves the input).
public func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
  if !condition() {
    FileHandle.standardError.write(Data("fuzz check failed: \(message())\n".utf8))
    abort()
  }
}

/// Images above this many pixels are refused from their header (as `--max-pixels` does), so the
/// fuzzer explores decoding instead of allocating.
let fuzzMaxPixels = 1 << 22

// MARK: PNG

/// The production decoder (fast path, libpng for what it declines) through the codec seam, as
/// ``fuzzCodecLayouts(_:_:)`` drives it, and its convenience form's byte count.
@Sendable public func fuzzPNG(_ data: UnsafeRawBufferPointer) {
  fuzzCodecLayouts(PNGCodec(), data)
  if case .success(let image) = PNGDecoder.decode(data, maxPixels: fuzzMaxPixels, channelAxis: .last) {
    fuzzCheck(image.bytes.count == image.channels * image.height * image.width * (image.bitDepth / 8), "PNG byte count")
  }
}

/// libpng alone, and the fast path against it: when the fast path decodes an image, libpng must
/// decode the same values.
@Sendable public func fuzzPNGFastVersusLibpng(_ data: UnsafeRawBufferPointer) {
  guard case .success(let header) = PNGDecoder.readHeader(data, maxPixels: fuzzMaxPixels) else { return }
  let size = header.byteCount
  let fast = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, size), alignment: 16)
  let slow = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, size), alignment: 16)
  defer {
    fast.deallocate()
    slow.deallocate()
  }
  var message = [CChar](repeating: 0, count: 512)
  var slowHeader = datasan_png_header()
  let slowStatus = datasan_png_decode_libpng(
    data.baseAddress, data.count, UInt64(fuzzMaxPixels), 1, slow.baseAddress, size, &slowHeader, &message, message.count)
  var fastHeader = datasan_png_header()
  let fastDecoded = datasan_png_fast_path_decodes(data.baseAddress, data.count, 1, fast.baseAddress, size, &fastHeader)
  guard fastDecoded != 0 else { return }
  fuzzCheck(Int(slowStatus) == DATASAN_PNG_OK, "the fast path decodes a PNG libpng rejects: \(String(cString: message))")
  fuzzCheck(
    fastHeader.width == slowHeader.width && fastHeader.height == slowHeader.height
      && fastHeader.channels == slowHeader.channels && fastHeader.bit_depth == slowHeader.bit_depth,
    "the fast path and libpng disagree on the header")
  fuzzCheck(memcmp(fast.baseAddress!, slow.baseAddress!, size) == 0, "the fast path and libpng decode different values")
}

// MARK: JPEG

/// The JPEG codec (TurboJPEG through CDatasanJPEG), as ``fuzzCodecLayouts(_:_:)`` drives it.
@Sendable public func fuzzJPEG(_ data: UnsafeRawBufferPointer) { fuzzCodecLayouts(JPEGCodec(), data) }

// MARK: Any image codec

/// A codec through the seam: the header alone, then a decode into each channel layout. The three
/// must agree: the decode's header is the header read alone, and the channel-first values (plane
/// split, conversions) are the channel-last ones transposed, element by element (8 or 16 bits);
/// the two layouts fail alike.
func fuzzCodecLayouts<Codec: ImageCodec>(_ codec: Codec, _ data: UnsafeRawBufferPointer) {
  let name = codec.name
  guard case .success(let header) = codec.readHeader(data, maxPixels: fuzzMaxPixels) else { return }
  let size = header.byteCount
  let first = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, size), alignment: 16)
  let last = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, size), alignment: 16)
  defer {
    first.deallocate()
    last.deallocate()
  }
  let a = codec.decode(data, maxPixels: fuzzMaxPixels, channelAxis: .first, into: first)
  let b = codec.decode(data, maxPixels: fuzzMaxPixels, channelAxis: .last, into: last)
  switch (a, b) {
  case (.success(let ha), .success(let hb)):
    fuzzCheck(ha == header && hb == header, "\(name): the decode's header differs from the header read alone")
    let plane = header.width * header.height
    let c = header.channels
    let e = max(1, header.bitDepth / 8)
    for p in 0..<plane {
      for k in 0..<c where memcmp(first.baseAddress! + (k * plane + p) * e, last.baseAddress! + (p * c + k) * e, e) != 0 {
        fuzzCheck(false, "\(name): channel-first value \(k),\(p) is not the channel-last one")
      }
    }
  case (.failure(let ea), .failure(let eb)):
    fuzzCheck(ea == eb, "\(name): the two layouts fail differently: \(ea.message) / \(eb.message)")
  default:
    fuzzCheck(false, "\(name): one layout decodes, the other does not")
  }
}

// MARK: Datum

/// The Swift Datum decoder, and the float copy it drives.
@Sendable public func fuzzDatum(_ data: UnsafeRawBufferPointer) {
  guard let datum = try? Datum.decode(data) else { return }
  fuzzCheck(datum.data.lowerBound >= 0 && datum.data.upperBound <= data.count, "data range outside the message")
  fuzzCheck(datum.floatCount * 4 <= data.count, "more floats than bytes")
  if datum.floatCount > 0 {
    let floats = UnsafeMutablePointer<Float>.allocate(capacity: datum.floatCount)
    defer { floats.deallocate() }
    datum.floats(in: data, into: floats)
  }
  _ = datum.elementCount
}

/// The input of the C raw-Datum targets: the expected channels, height and width (one byte each),
/// then the message.
private func splitDims(_ data: UnsafeRawBufferPointer) -> (UInt64, UInt64, UInt64, UnsafeRawBufferPointer)? {
  guard data.count >= 3 else { return nil }
  return (UInt64(data[0]), UInt64(data[1]), UInt64(data[2]), UnsafeRawBufferPointer(rebasing: data[3...]))
}

/// Calls the C raw-Datum parser: (label, data offset) when it accepts the message.
private func parseRawC(_ message: UnsafeRawBufferPointer, _ c: UInt64, _ h: UInt64, _ w: UInt64) -> (Int32, Int)? {
  // An empty buffer still needs an address the parser may hold (it reads nothing from it).
  var empty: UInt8 = 0
  var label: Int32 = 0
  var offset = 0
  let base = message.baseAddress?.assumingMemoryBound(to: UInt8.self)
  let accepted = withUnsafeMutablePointer(to: &empty) { e in
    datasan_datum_parse_raw(base ?? UnsafePointer(e), message.count, c, h, w, &label, &offset)
  }
  return accepted != 0 ? (label, offset) : nil
}

/// The C raw-Datum parser of the LMDB scan's fast path (Sources/CLMDB/shim.h).
@Sendable public func fuzzDatumC(_ data: UnsafeRawBufferPointer) {
  guard let (c, h, w, message) = splitDims(data) else { return }
  if let (_, offset) = parseRawC(message, c, h, w) {
    fuzzCheck(offset <= message.count && UInt64(message.count - offset) >= c * h * w, "data past the message")
  }
}

/// Both Datum parsers on the same message, held to the Datum rule (Sources/DatasanLMDB/Datum.swift):
/// the C one accepts exactly what the Swift one decodes as canonical raw for the dimensions asked
/// (the ones of the input, and the ones the Swift decoder read), with the same label and data offset.
@Sendable public func fuzzDatumDifferential(_ data: UnsafeRawBufferPointer) {
  guard let (c, h, w, message) = splitDims(data) else { return }
  let swift = try? Datum.decode(message)
  func agree(_ c: UInt64, _ h: UInt64, _ w: UInt64) {
    let canonical = swift?.isCanonicalRaw(channels: c, height: h, width: w) ?? false
    guard let (label, offset) = parseRawC(message, c, h, w) else {
      fuzzCheck(!canonical, "Swift takes a canonical raw Datum (\(c)x\(h)x\(w)) that C declines")
      return
    }
    guard let swift, canonical else {
      fuzzCheck(false, "C accepts a raw Datum (\(c)x\(h)x\(w)) that Swift does not take as canonical raw")
      return
    }
    fuzzCheck(swift.label == label, "labels differ: C \(label), Swift \(swift.label)")
    fuzzCheck(swift.data.lowerBound == offset, "data offsets differ: C \(offset), Swift \(swift.data)")
  }
  agree(c, h, w)
  if let swift, swift.channels >= 0, swift.height >= 0, swift.width >= 0 {
    agree(UInt64(swift.channels), UInt64(swift.height), UInt64(swift.width))
  }
}

// MARK: Files through the scan

/// A folder of this process's own for the readers' temporary inputs (libFuzzer's -jobs run several
/// processes, each with its own), removed when the process exits.
private let scratchFolder: String = {
  var template = Array((NSTemporaryDirectory() + "/datasan-fuzz-XXXXXX").utf8CString)
  guard let made = mkdtemp(&template) else { fatalError("mkdtemp failed") }
  atexit { removeScratchFolder() }
  return String(cString: made)
}()

private func removeScratchFolder() { try? FileManager.default.removeItem(atPath: scratchFolder) }

/// Writes `data` to `path` (replacing it).
private func write(_ data: UnsafeRawBufferPointer, to path: String) {
  let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
  guard fd >= 0 else { fatalError("cannot write \(path)") }
  var at = 0
  while at < data.count {
    let n = Foundation.write(fd, data.baseAddress! + at, data.count - at)
    guard n > 0 else { fatalError("cannot write \(path)") }
    at += n
  }
  close(fd)
}

/// Runs `scan` over `path` as the command line does; errors (exit 2) are fine. The option set
/// follows the input's length so that the corpus reaches the histogram and thumbnail paths too.
private func scan(_ path: String, format: DataFormat, variant: Int) {
  var config = ScanConfiguration(input: path, format: format)
  config.checks.histograms = variant & 1 != 0
  config.keepFlaggedSamples = variant & 2 != 0 ? 4 : 0
  if variant & 4 != 0 {
    config.checks.channelAxis = .last
    config.read.channelAxis = .last
  }
  _ = try? Pipeline(backend: Formats()).scan(config)
}

/// An LMDB environment made of the input as its data.mdb.
@Sendable public func fuzzLMDB(_ data: UnsafeRawBufferPointer) {
  let folder = scratchFolder + "/env.lmdb"
  mkdir(folder, 0o700)
  unlink(folder + "/lock.mdb")
  write(data, to: folder + "/data.mdb")
  scan(folder, format: .lmdb, variant: data.count)
}

/// An HDF5 file made of the input.
@Sendable public func fuzzHDF5(_ data: UnsafeRawBufferPointer) {
  let path = scratchFolder + "/input.h5"
  write(data, to: path)
  scan(path, format: .hdf5, variant: data.count)
}

/// A CSV file made of the input (dialect, header and columns detected as the command line does),
/// and the tokenizer on the input as one record.
@Sendable public func fuzzCSV(_ data: UnsafeRawBufferPointer) {
  let fields = CSVFieldSpans()
  for delimiter in [UInt8(ascii: ","), UInt8(ascii: "\t")] {
    CSVTokenizer(delimiter: delimiter).tokenize(data, into: fields)
    if let base = data.baseAddress?.assumingMemoryBound(to: UInt8.self) {
      for k in 0..<min(fields.count, 64) { _ = CSVTokenizer.string(of: k, in: base, fields: fields) }
    }
  }
  let path = scratchFolder + "/input.csv"
  write(data, to: path)
  scan(path, format: .csv, variant: data.count)
}

/// The `.npy` header parser on the input, then the input as a `.npy` file (or, when it starts like
/// a zip, an `.npz`) through the whole scan: a header must never size memory beyond the file.
@Sendable public func fuzzNPY(_ data: UnsafeRawBufferPointer) {
  if let header = try? NPYHeader.parse(data) {
    fuzzCheck(header.dataOffset <= data.count, "header offset past the bytes given")
    fuzzCheck(header.dtype.itemSize >= 1 && header.dtype.itemSize <= 8, "item size")
  }
  let path = scratchFolder + "/input.npy"
  write(data, to: path)
  scan(path, format: .npy, variant: data.count)
}

/// A compressed CSV file made of the input (the seeds are gzip, bzip2, xz and zstd streams; the
/// first byte picks which magic the input gets when it has none): the decompression shim
/// (`CCompression/shim.h`: member boundaries, truncation, trailing data) and the scan over its stream.
@Sendable public func fuzzCompressedCSV(_ data: UnsafeRawBufferPointer) {
  var bytes = Array(data)
  if Compression.of(magic: Array(bytes.prefix(6))) == nil, let first = bytes.first {
    let magics: [[UInt8]] = [[0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3], Array("BZh9".utf8), [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0], [0x28, 0xB5, 0x2F, 0xFD]]
    bytes = magics[Int(first) % 4] + bytes.dropFirst()
  }
  let path = scratchFolder + "/input.csv.gz"
  bytes.withUnsafeBytes { write($0, to: path) }
  if let compression = Compression.of(file: path) {
    _ = try? DecompressingInput.leadingBytes(path: path, compression: compression, count: 4096)
  }
  scan(path, format: .csv, variant: data.count)
}

// MARK: Numbers, lists, config

/// The CSV float parser, against the C library's correctly rounded strtod wherever strtod reads
/// the whole field as a decimal number.
@Sendable public func fuzzFloat(_ data: UnsafeRawBufferPointer) {
  let value = CSVNumberParser.parse(data)
  guard data.count > 0, data.count < 4096, !data.contains(0) else { return }
  let text = [UInt8](data) + [0]
  let isDecimal = data.allSatisfy { b in
    (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: ".") || b == UInt8(ascii: "e")
      || b == UInt8(ascii: "E") || b == UInt8(ascii: "+") || b == UInt8(ascii: "-")
  }
  guard isDecimal else { return }
  text.withUnsafeBufferPointer { p in
    let start = UnsafeRawPointer(p.baseAddress!).assumingMemoryBound(to: CChar.self)
    var end: UnsafeMutablePointer<CChar>? = nil
    let expected = strtod(start, &end)
    guard let end, end - UnsafeMutablePointer(mutating: start) == data.count else { return }
    guard case .number(let parsed) = value else {
      fuzzCheck(false, "strtod reads \(String(cString: start)) as \(expected), the CSV parser gives \(value)")
      return
    }
    fuzzCheck(
      parsed.bitPattern == expected.bitPattern,
      "strtod reads \(String(cString: start)) as \(expected), the CSV parser as \(parsed)")
  }
}

/// A `--list` file.
@Sendable public func fuzzListFile(_ data: UnsafeRawBufferPointer) {
  let lines = ListFile.parse([UInt8](data))
  var previous = 0
  for line in lines {
    fuzzCheck(line.line > previous, "list line numbers out of order")
    previous = line.line
  }
}

/// datasan.yml (as `ConfigFile.load` reads it: UTF-8 text, then YAML, then the keys).
@Sendable public func fuzzConfig(_ data: UnsafeRawBufferPointer) {
  guard let text = String(data: Data(data), encoding: .utf8) else { return }
  _ = try? ConfigFile.parse(text, path: "datasan.yml")
}
