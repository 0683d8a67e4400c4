import DatasanNPY

/// Files of formats datasan does not read, recognised by their magic bytes so that they are named
/// in a one-line refusal (exit 2) instead of being parsed as CSV.
enum ForeignFormats {
  /// What datasan reads, for the refusal.
  static let readable = "datasan reads HDF5, LMDB, CSV, NPY and image folders"

  /// The name of the format of a file starting with `magic` (its first 4 KiB at most) that
  /// datasan does not read, or nil. `isNPZ` tells whether a zip archive holds `.npy` arrays.
  static func name(magic: [UInt8], isNPZ: () -> Bool) -> String? {
    // Signatures made of letters need binary bytes after them: a CSV may start with "PAR1,".
    let binary = magic.contains { $0 < 0x09 || ($0 > 0x0D && $0 < 0x20) }
    func starts(_ s: String) -> Bool { binary && magic.starts(with: Array(s.utf8)) }
    if starts("PAR1") { return "a Parquet file" }
    if starts("ARROW1") { return "an Arrow IPC / Feather v2 file" }
    if starts("FEA1") { return "a Feather v1 file" }
    if starts("ORC") { return "an ORC file" }
    if magic.starts(with: [0x4F, 0x62, 0x6A, 0x01]) { return "an Avro file" }
    if starts("SQLite format 3\u{0}") { return "an SQLite database" }
    if starts("%PDF") { return "a PDF document" }
    if magic.starts(with: [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) { return "an OLE2 (old Excel .xls) file" }
    if magic.starts(with: [0xFF, 0xD8, 0xFF]) { return "a single JPEG file (point datasan at the folder that holds the images)" }
    if magic.starts(with: [0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C]) { return "a 7-Zip archive" }
    if starts("Rar!") { return "a RAR archive" }
    if magic.count > 262, Array(magic[257..<262]) == Array("ustar".utf8) { return "a tar archive" }
    if magic.count >= 2, magic[0] == 0x80, (2...5).contains(magic[1]) { return "a Python pickle" }
    if magic.starts(with: [0x50, 0x4B, 0x03, 0x04]) || magic.starts(with: [0x50, 0x4B, 0x05, 0x06]) {
      return isNPZ() ? nil : "a zip archive without NumPy arrays (not an .npz)"
    }
    if looksLikeTFRecord(magic) { return "a TFRecord file" }
    return nil
  }

  /// A TFRecord starts with a record's length (8 bytes, little-endian) and its masked CRC-32C.
  static func looksLikeTFRecord(_ magic: [UInt8]) -> Bool {
    guard magic.count >= 12 else { return false }
    let stored = UInt32(magic[8]) | UInt32(magic[9]) << 8 | UInt32(magic[10]) << 16 | UInt32(magic[11]) << 24
    let crc = crc32c(magic[0..<8])
    let masked = ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    return masked == stored
  }

  static func crc32c(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
      crc ^= UInt32(b)
      for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
    }
    return ~crc
  }
}
