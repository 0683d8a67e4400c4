/// What the pipeline asks of a writer: where, what content, and the shape of the data.
public struct WriterRequest: Sendable {
  /// Which of the two outputs of `clean` this writer produces.
  public enum Role: String, Sendable { case clean, quarantine }

  public var role: Role
  /// The input's description (names, layout to preserve when the format is the same).
  public var source: DatasetInfo
  /// Normalized float32 features, or the samples as read.
  public var content: WriteContent
  /// Shape of every sample the writer will get (uniform outputs need it up front).
  public var sampleShape: [Int]
  /// Element type of the batches the writer will get.
  public var elementType: ElementType
  /// Element type the labels are stored as.
  public var labelType: ElementType
  /// Whether samples are C x H x W (`.first`) or H x W x C (`.last`).
  public var channelAxis: ChannelAxis = .first
  /// The path the output will have once renamed into place (its extension may say more than the
  /// temporary path's: `out.csv.gz` is compressed).
  public var finalPath: String? = nil
  /// For a writer that writes other files beside its output (NPY's `out.labels.npy`): reserves the
  /// temporary path of another final path in the same all-or-nothing set of outputs, renamed into
  /// place with the others or removed with them. Nil: the writer writes only its own path.
  public var reserveCompanion: (@Sendable (String) -> String)? = nil

  public init(
    role: Role, source: DatasetInfo, content: WriteContent, sampleShape: [Int], elementType: ElementType,
    labelType: ElementType
  ) {
    self.role = role
    self.source = source
    self.content = content
    self.sampleShape = sampleShape
    self.elementType = elementType
    self.labelType = labelType
  }
}

/// Opens readers and creates writers for each format; the pipeline knows nothing else of formats.
public protocol FormatBackend: Sendable {
  /// Finds the format of `path` (`--format auto`).
  func detectFormat(path: String) throws -> DataFormat
  /// Opens `path` read-only as `format`.
  func openReader(format: DataFormat, path: String, options: ReadOptions) throws -> SampleReader
  /// Creates a writer of `format` at `path` (a temporary path the pipeline renames).
  func makeWriter(format: DataFormat, path: String, request: WriterRequest) throws -> SampleWriter
  /// Whether outputs of `format` are directories (LMDB environments, PNG folders).
  func writesDirectory(_ format: DataFormat) -> Bool
}
