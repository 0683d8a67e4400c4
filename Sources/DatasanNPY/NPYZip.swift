import DatasanCore

/// The members of a zip archive (`.npz`, as NumPy's `savez` / `savez_compressed` write it through
/// Python's zipfile): the central directory, zip64 included, parsed from bytes; nothing else of
/// zip (no encryption, no method but stored and deflate, no multi-disk archives).
///
/// Written here rather than linked: Debian's libzip pulls in OpenSSL (for zip encryption), one more
/// set of shared libraries loaded by every datasan command, while an `.npz` needs only this
/// directory; inflating is zlib's (already linked). Every offset and size is checked against the
/// file's size before it is used, and nothing is allocated from a size the archive states beyond
/// the directory itself (at most ``maxDirectoryBytes``).
public struct NPYZipDirectory: Sendable, Equatable {
  public struct Member: Sendable, Equatable {
    public var name: String
    /// 0 stored, 8 deflate (others are refused when read).
    public var method: Int
    public var flags: Int
    public var compressedSize: Int
    public var uncompressedSize: Int
    public var localHeaderOffset: Int
  }

  public var members: [Member]

  /// The most central-directory bytes read (an `.npz` holds a few arrays; 1 MiB is ~20,000 members).
  public static let maxDirectoryBytes = 1 << 20
  static let endSignature: UInt32 = 0x0605_4B50
  static let zip64LocatorSignature: UInt32 = 0x0706_4B50
  static let zip64EndSignature: UInt32 = 0x0606_4B50
  static let centralSignature: UInt32 = 0x0201_4B50
  static let localSignature: UInt32 = 0x0403_4B50

  /// Whether bytes start like a zip archive (a local header, or the end record of an empty one).
  public static func looksLikeZip(_ magic: some Collection<UInt8>) -> Bool {
    let m = Array(magic.prefix(4))
    return m == [0x50, 0x4B, 0x03, 0x04] || m == [0x50, 0x4B, 0x05, 0x06]
  }

  /// Parses the directory of an archive of `fileSize` bytes; `read(offset, count)` returns the
  /// bytes there (fewer at the end of the file).
  public static func parse(fileSize: Int, read: (Int, Int) -> [UInt8]) throws(NPYHeaderError) -> NPYZipDirectory {
    // The end record: 22 bytes + a comment of at most 65,535, at the end of the file.
    let tailStart = Swift.max(0, fileSize - (22 + 65_535))
    let tail = read(tailStart, fileSize - tailStart)
    guard tail.count >= 22 else { throw .truncated("no zip end record (the archive is cut short)") }
    var end = -1
    var i = tail.count - 22
    while i >= 0 {
      if le32(tail, i) == endSignature {
        end = i
        break
      }
      i -= 1
    }
    guard end >= 0 else { throw .truncated("no zip end record (the archive is cut short)") }
    var entries = Int(le16(tail, end + 10))
    var directorySize = Int(le32(tail, end + 12))
    var directoryOffset = Int(le32(tail, end + 16))
    if le16(tail, end + 4) != 0 || le16(tail, end + 6) != 0 { throw .unsupported("a multi-disk zip archive") }
    // zip64: a locator just before the end record names the zip64 end record.
    let endOffset = tailStart + end
    if endOffset >= 20 {
      let locator = read(endOffset - 20, 20)
      if locator.count == 20, le32(locator, 0) == zip64LocatorSignature {
        let recordOffset = try offset(le64(locator, 8), fileSize: fileSize, what: "zip64 end record")
        let record = read(recordOffset, 56)
        guard record.count == 56, le32(record, 0) == zip64EndSignature else { throw .invalid("the zip64 end record is missing") }
        entries = try offset(le64(record, 32), fileSize: fileSize, what: "member count")
        directorySize = try offset(le64(record, 40), fileSize: fileSize, what: "directory size")
        directoryOffset = try offset(le64(record, 48), fileSize: fileSize, what: "directory")
      }
    }
    guard directoryOffset <= fileSize, directorySize <= fileSize - directoryOffset else {
      throw .truncated("the zip directory lies past the end of the file (\(fileSize) bytes)")
    }
    guard directorySize <= maxDirectoryBytes else { throw .unsupported("a zip directory of \(directorySize) bytes (more than 1 MiB)") }
    guard entries <= directorySize / 46 else { throw .invalid("the zip end record claims \(entries) members in \(directorySize) bytes") }
    let directory = read(directoryOffset, directorySize)
    guard directory.count == directorySize else { throw .truncated("the zip directory is cut short") }
    var members: [Member] = []
    var at = 0
    for _ in 0..<entries {
      guard at + 46 <= directory.count, le32(directory, at) == centralSignature else {
        throw .invalid("zip directory entry \(members.count + 1) is corrupt")
      }
      let flags = Int(le16(directory, at + 8))
      let method = Int(le16(directory, at + 10))
      var compressed = UInt64(le32(directory, at + 20))
      var uncompressed = UInt64(le32(directory, at + 24))
      let nameLength = Int(le16(directory, at + 28))
      let extraLength = Int(le16(directory, at + 30))
      let commentLength = Int(le16(directory, at + 32))
      var local = UInt64(le32(directory, at + 42))
      let nameStart = at + 46
      let extraStart = nameStart + nameLength
      let next = extraStart + extraLength + commentLength
      guard next <= directory.count else { throw .invalid("zip directory entry \(members.count + 1) runs past the directory") }
      let name = String(decoding: directory[nameStart..<extraStart], as: UTF8.self)
      // zip64 extra field: the 64-bit sizes and offset, for each 32-bit field that is 0xFFFFFFFF.
      var e = extraStart
      while e + 4 <= extraStart + extraLength {
        let id = le16(directory, e)
        let size = Int(le16(directory, e + 2))
        let body = e + 4
        guard body + size <= extraStart + extraLength else { break }
        if id == 0x0001 {
          var f = body
          func take() -> UInt64? {
            guard f + 8 <= body + size else { return nil }
            defer { f += 8 }
            return le64(directory, f)
          }
          if uncompressed == 0xFFFF_FFFF, let v = take() { uncompressed = v }
          if compressed == 0xFFFF_FFFF, let v = take() { compressed = v }
          if local == 0xFFFF_FFFF, let v = take() { local = v }
        }
        e = body + size
      }
      members.append(
        Member(
          name: name, method: method, flags: flags,
          compressedSize: try offset(compressed, fileSize: fileSize, what: "'\(name.oneLine(limit: 40))' size"),
          uncompressedSize: Int(clamping: uncompressed),
          localHeaderOffset: try offset(local, fileSize: fileSize, what: "'\(name.oneLine(limit: 40))' offset")))
      at = next
    }
    return NPYZipDirectory(members: members)
  }

  /// Where the data of `member` starts (after its local header), checked to lie in the file with
  /// its compressed size.
  public static func dataStart(of member: Member, fileSize: Int, read: (Int, Int) -> [UInt8]) throws(NPYHeaderError) -> Int {
    let header = read(member.localHeaderOffset, 30)
    guard header.count == 30, le32(header, 0) == localSignature else {
      throw .invalid("the local header of '\(member.name.oneLine(limit: 40))' is missing")
    }
    let start = member.localHeaderOffset + 30 + Int(le16(header, 26)) + Int(le16(header, 28))
    guard start <= fileSize, member.compressedSize <= fileSize - start else {
      throw .truncated("member '\(member.name.oneLine(limit: 40))' runs past the end of the file (\(fileSize) bytes)")
    }
    return start
  }

  static func offset(_ v: UInt64, fileSize: Int, what: String) throws(NPYHeaderError) -> Int {
    guard v <= UInt64(fileSize) else { throw .truncated("the zip \(what) (\(v)) lies past the end of the file (\(fileSize) bytes)") }
    return Int(v)
  }

  static func le16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }
  static func le32(_ b: [UInt8], _ i: Int) -> UInt32 {
    UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
  }
  static func le64(_ b: [UInt8], _ i: Int) -> UInt64 { UInt64(le32(b, i)) | UInt64(le32(b, i + 4)) << 32 }
}
