/// PNG files built byte by byte, for tests that need what no encoder writes (a header that declares
/// more than its image data can hold, say). CRCs are right unless a test changes the bytes.
public enum PNGBytes {
  public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

  /// `v` as 4 big-endian bytes.
  public static func be32(_ v: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> $0) } }

  /// A chunk: length, type, data, CRC-32 (of PNG and zlib, computed bit by bit).
  public static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
    let body = Array(type.utf8) + data
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in body {
      crc ^= UInt32(byte)
      for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return be32(data.count) + body + be32(Int(~crc))
  }

  /// The IHDR chunk.
  public static func header(width: Int, height: Int, depth: Int, colorType: Int, interlaced: Bool) -> [UInt8] {
    chunk("IHDR", be32(width) + be32(height) + [UInt8(depth), UInt8(colorType), 0, 0, interlaced ? 1 : 0])
  }

  /// A zlib stream of `count` (< 65,536) zero bytes in one stored block.
  public static func storedZeros(_ count: Int) -> [UInt8] {
    [0x78, 0x01, 1, UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)]
      + [UInt8](repeating: 0, count: count) + be32(((count % 65521) << 16) | 1)
  }

  /// A PNG whose IDAT holds `zeros` zero bytes only (and a PLTE for a palette image): too little data
  /// for any image larger than that.
  public static func shortData(
    width: Int, height: Int, depth: Int = 16, colorType: Int = 6, interlaced: Bool = false, zeros: Int = 1000
  ) -> [UInt8] {
    let palette = colorType == 3 ? chunk("PLTE", [0, 0, 0, 255, 255, 255]) : []
    return signature + header(width: width, height: height, depth: depth, colorType: colorType, interlaced: interlaced)
      + palette + chunk("IDAT", storedZeros(zeros)) + chunk("IEND", [])
  }
}
