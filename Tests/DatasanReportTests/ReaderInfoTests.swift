import Datasan
import Testing

/// The readers tell the checks and the reports what their samples are (DatasetInfo's properties),
/// so that neither names a format.
@Suite struct ReaderInfoTests {
  func info(_ relative: String) throws -> DatasetInfo {
    let formats = Formats()
    let path = Fixture.path(relative)
    let reader = try formats.openReader(format: try formats.detectFormat(path: path), path: path, options: ReadOptions())
    return reader.info
  }

  @Test func eachReaderSaysWhatItsSamplesAre() throws {
    let csv = try info("csv/dirty.csv")
    #expect(csv.missingValuesReadAsNaN && csv.keysAreLineNumbers && !csv.samplesAreImages)
    let png = try info("png/train")
    #expect(png.samplesAreImages && png.sampleFileType == ".png, .jpg or .jpeg" && !png.missingValuesReadAsNaN)
    let lmdb = try info("lmdb/train.lmdb")
    #expect(lmdb.samplesAreImages && !lmdb.keysAreLineNumbers)
    let hdf5 = try info("hdf5/dirty.h5")
    #expect(!hdf5.samplesAreImages && !hdf5.missingValuesReadAsNaN && !hdf5.keysAreLineNumbers && hdf5.sampleFileType == nil)
  }
}
