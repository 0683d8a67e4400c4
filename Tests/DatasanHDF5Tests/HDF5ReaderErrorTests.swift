import CHDF5
import DatasanCore
@testable import DatasanHDF5
import DatasanTestSupport
import Foundation
import Testing

/// Inputs that cannot be read: one DatasanError line naming the file, never a crash.
@Suite struct HDF5ReaderErrorTests {
  func error(_ file: String, dataset: String = "data", sourceLocation: SourceLocation = #_sourceLocation) -> DatasanError? {
    let path = Fixture.hdf5(file)
    let error = thrown(DatasanError.self, sourceLocation: sourceLocation) { _ = try readAll(path, dataset: dataset) }
    #expect(error?.path == path, sourceLocation: sourceLocation)
    #expect(error?.message.contains("\n") == false, sourceLocation: sourceLocation)
    return error
  }

  @Test func notHDF5() {
    #expect(error("not_hdf5.txt")?.message == "not an HDF5 file")
    #expect(error("no_such_file.h5")?.message == "no such file")
    #expect(error("")?.message.contains("directory") == true)
  }

  @Test func truncatedFile() {
    let message = error("truncated.h5")?.message ?? ""
    #expect(message.hasPrefix("cannot open HDF5 file: "))
    #expect(message.contains("truncated"))
  }

  @Test func headerClaimingMoreThanTheFileHolds() {
    #expect(
      error("lying_dims.h5")?.message.hasPrefix("dataset 'data' claims 1099511627776 samples but the file holds only") == true)
  }

  /// A dimension above its maximum (found by the fuzzer: 5.7e18 rows of at most 40, read for ever).
  @Test func dimensionAboveItsMaximum() {
    #expect(
      error("dims_over_max.h5")?.message
        == "dataset 'data': dataspace dim 0 size of 5711486817761493032 is greater than its maximum 40 (corrupt)")
  }

  /// Rows counted as written without listing the chunks (too many chunks, chunk rows too wide to
  /// probe) must fit in the file: 2^40 rows of fill values were read for hours.
  @Test func rowsCountedAsWrittenBeyondTheFile() {
    let message = error("wide_chunk_rows.h5")?.message ?? ""
    #expect(message.hasPrefix("dataset 'data': 1099511627776 rows of 1025 bytes, all counted as written, are more than a file of"))
  }

  /// More unfiltered chunks of the wrong stored size than can be listed one by one (libhdf5 1.10
  /// walks the index from its start for each): the dataset is refused (fewer: their rows are
  /// unreadable, HDF5CorruptionTests).
  @Test func tooManyUnfilteredChunksOfAnotherSize() {
    #expect(
      error("unfiltered_short_chunks_many.h5")?.message
        == "dataset 'data': its 1100 chunks, without filters, are stored in 17600 bytes, not the 8800 their values take (corrupt)")
  }

  @Test func missingDatasetListsTheRoot() {
    #expect(
      error("labels.h5", dataset: "images")?.message
        == "no dataset 'images' (datasets at the root: data, label, label_2d, label_be, label_f2, label_n1, label_short, label_str, label_u8)"
    )
    #expect(error("unsupported.h5", dataset: "group")?.message.hasPrefix("'group' is a group, not a dataset") == true)
  }

  @Test(arguments: [
    ("compound", "dataset 'compound': unsupported type compound (2 fields); datasan reads integer and float datasets"),
    ("strings", "dataset 'strings': unsupported type string (fixed-length, 8 bytes); datasan reads integer and float datasets"),
    ("vlen_str", "dataset 'vlen_str': unsupported type variable-length string; datasan reads integer and float datasets"),
    ("vlen_int", "dataset 'vlen_int': unsupported type variable-length sequence; datasan reads integer and float datasets"),
    ("enum", "dataset 'enum': unsupported type enum; datasan reads integer and float datasets"),
    ("scalar", "dataset 'scalar' is a scalar (0-d); datasan needs samples along axis 0"),
    ("empty", "dataset 'empty' has no dataspace (null); it holds no samples"),
  ])
  func unsupportedDatasets(dataset: String, message: String) {
    #expect(error("unsupported.h5", dataset: dataset)?.message == message)
  }

  @Test func unavailableFilter() {
    let message = error("unsupported.h5", dataset: "lzf")?.message ?? ""
    #expect(message.hasPrefix("dataset 'lzf': unsupported compression filter"))
    #expect(message.contains("32000"))
  }

  /// HDF5's error printing is per thread in Debian's thread-safe build: a reader used on a
  /// fresh thread must silence it there too.
  @Test func errorPrintingIsSilencedOnEveryThread() async throws {
    let silenced: Bool = await withCheckedContinuation { continuation in
      let thread = Thread {
        _ = try? HDF5Reader(path: Fixture.hdf5("truncated.h5"), options: ReadOptions())
        var function: H5E_auto2_t? = nil
        var data: UnsafeMutableRawPointer? = nil
        _ = H5Eget_auto2(datasan_h5e_default(), &function, &data)
        continuation.resume(returning: function == nil)
      }
      thread.start()
    }
    #expect(silenced)
  }

  @Test func errorStackIsWalkedIntoOneLine() throws {
    do {
      _ = try HDF5File.openReadOnly(Fixture.hdf5("no_such_file.h5"))
      Issue.record("opening a missing file succeeded")
    } catch let error as HDF5Error {
      #expect(error.operation == "H5Fopen")
      #expect(error.frames.count > 1)
      #expect(error.reason.contains("No such file or directory"))
      #expect(!error.reason.contains("\n"))
    }
  }

  @Test func signatureDetection() throws {
    #expect(HDF5Format.looksLikeHDF5(path: Fixture.hdf5("layouts.h5")))
    #expect(HDF5Format.looksLikeHDF5(path: Fixture.hdf5("truncated.h5")))
    #expect(!HDF5Format.looksLikeHDF5(path: Fixture.hdf5("not_hdf5.txt")))
    #expect(!HDF5Format.looksLikeHDF5(path: Fixture.hdf5("no_such_file.h5")))
    #expect(!HDF5Format.looksLikeHDF5(path: Fixture.hdf5("")))
  }
}
