/// A format's own read options (an HDF5 file's dataset names, a CSV file's delimiter), kept in
/// ``ReadOptions`` by their type: each format target defines its own and reads it back with
/// `options[MyFormatReadOptions.self]`; the core knows none of them.
public protocol FormatReadOptions: Sendable {
  /// The defaults.
  init()
}

/// Options every reader may look at: the format-independent ones here, each format's own through
/// ``subscript(_:)``.
public struct ReadOptions: Sendable {
  /// Each format's own options, by type (see ``FormatReadOptions``).
  private var formatOptions: [ObjectIdentifier: any FormatReadOptions] = [:]

  /// A format's own options; their defaults until set.
  public subscript<Options: FormatReadOptions>(_ type: Options.Type) -> Options {
    get { formatOptions[ObjectIdentifier(type)] as? Options ?? Options() }
    set { formatOptions[ObjectIdentifier(type)] = newValue }
  }

  /// Images: decoded C x H x W (`.first`) or H x W x C (`.last`, `--channel-axis last`).
  public var channelAxis: ChannelAxis = .first
  /// Approximate number of bytes of feature values per batch.
  public var batchBytes: Int = 4 << 20
  /// False when the checks read no feature values (``SampleChecker/needsValues(_:keepingSamples:)``),
  /// only the moments a reader measured, labels, keys and problems: a reader that measures 8-bit
  /// channel-first images as it reads may then deliver them as ``BatchValues/momentsOnly``.
  public var valuesNeeded = true
  /// Whether batches carry each sample's original bytes (`originals`); `scan` needs none.
  public var keepOriginals: Bool = true
  /// The part of the input to read (nil: all of it), for a run that reads one shard of a dataset.
  public var sampleRange: SampleRange? = nil
  /// `--classes`: the class names in label order, when given. An image folder labels its class
  /// folders by this list (not by their sorted names) and reports the folders outside it.
  public var classNames: [String]? = nil

  public init() {}
}

/// A part of one input, for readers that start inside it (one shard of a dataset read by several
/// processes). Whatever the range, a reader fixes the dataset's properties (element type, sample
/// shape, CSV columns and dialect) from the start of the input, as a reader of the whole does; so
/// the samples of consecutive ranges that cover the input are exactly those of one whole read, in
/// order, with the same keys, labels, values and problems.
public enum SampleRange: Sendable, Equatable {
  /// Samples `lowerBound ..< upperBound` of the stream: HDF5 rows, LMDB records in key order, files
  /// of a folder in path order (list order for a list). Clamped to the samples there are; batches
  /// keep their stream indices (the first sample's is `lowerBound`) and ``DatasetInfo/sampleCount``
  /// counts the range's samples.
  case samples(Range<Int>)
  /// The records that start in these bytes of the file (CSV: byte offsets in the file, a record
  /// starting where its first byte is). Any bounds do: the records of consecutive ranges that cover
  /// the file are each record once. Keys stay the physical line numbers of the whole file; stream
  /// indices start at 0 in each range.
  case bytes(Range<Int>)

  /// The samples of `.samples` clamped to `0..<count`; nil for `.bytes`.
  public func samples(clampedTo count: Int) -> Range<Int>? {
    guard case .samples(let r) = self else { return nil }
    let lower = Swift.min(Swift.max(0, r.lowerBound), count)
    return lower..<Swift.max(lower, Swift.min(r.upperBound, count))
  }
}

/// Produces the samples of one input as a stream of batches, in stream order.
///
/// Readers open their input read-only. A problem with one sample becomes a ``ReaderProblem``
/// in its batch; a problem with the whole input (not of this format, missing dataset,
/// unsupported type) is a thrown ``DatasanError``.
public protocol SampleReader: AnyObject {
  /// What the reader knows about the dataset.
  var info: DatasetInfo { get }
  /// The next batch, or nil at the end of the stream.
  func nextBatch() throws -> SampleBatch?
  /// Bytes of input consumed so far (for progress and MB/s).
  var bytesRead: Int { get }
  /// Dataset findings the reader itself makes about the input's layout (a PNG folder's
  /// `skipped_files` and `hidden_class_folder`), reported with the checks' own.
  var layoutFindings: [Finding] { get }
  /// What the reader gathered over the samples it read for its ``layoutFindings`` (a CSV file's text
  /// rows in numeric columns), encoded by the format: a shard's partial report carries it. Nil when
  /// those findings do not depend on the samples read.
  var readerState: ReaderState? { get }
  /// Adds the state of a shard's reader (called in shard order, on a reader that read no sample),
  /// so that ``layoutFindings`` are those of one reader over the shards' samples. Throws
  /// ``DatasanError`` when the state is not the format's.
  func merge(_ state: ReaderState) throws
}

extension SampleReader {
  public var bytesRead: Int { 0 }
  public var layoutFindings: [Finding] { [] }
  public var readerState: ReaderState? { nil }
  public func merge(_ state: ReaderState) throws {}
}

/// What a writer writes: normalized features (float32) or the original samples.
public enum WriteContent: Sendable {
  /// Features normalized with these parameters, stored as float32.
  case normalized(NormalizationParameters)
  /// The samples as they were read (`--normalize none`, and the quarantine).
  case original
}

/// Consumes batches and writes them to one output, in the order given.
///
/// A writer writes to the path it was given (a temporary path chosen by the pipeline);
/// the pipeline renames it into place after ``finish()``, or deletes it after ``abort()``.
public protocol SampleWriter: AnyObject {
  /// Writes every sample of `batch`. For `.normalized` content the batch holds float32 values.
  func append(_ batch: SampleBatch) throws
  /// Flushes and closes the output.
  func finish() throws
  /// Closes the output without finishing it; the pipeline removes the files.
  func abort()
  /// Whether the records written are read back with the first and third colour channels swapped
  /// against the batches given (Caffe decodes the image files of encoded Datums to BGR, an image
  /// folder's batches are RGB): the `--caffe-mean` image is then swapped too, so that it describes
  /// the records as they are read.
  var swapsColourChannelsOnRead: Bool { get }
}

extension SampleWriter {
  public var swapsColourChannelsOnRead: Bool { false }
}
