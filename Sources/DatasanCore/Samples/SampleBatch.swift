/// How the samples of a batch are named for a user (SPEC.md "key").
public enum SampleKeys: Sendable {
  /// The key is the sample's stream index (HDF5 row number).
  case index
  /// One number per sample (CSV: the 1-based physical line where the record starts).
  case numbers([Int])
  /// One string per sample (LMDB key, PNG relative path).
  case strings([String])
}

/// A problem a reader found while decoding one sample (an `unreadable` or `shape_mismatch`).
public struct ReaderProblem: Sendable, Equatable {
  public var kind: FindingKind
  public var detail: String
  /// What the finding is about; nil: the features (none for `unreadable`).
  public var field: String?
  public init(_ kind: FindingKind, _ detail: String, field: String? = nil) {
    self.kind = kind
    self.detail = detail
    self.field = field
  }
}

/// What a reader noticed about how one sample is stored that is no problem with its values (the
/// sample stays clean): for the dataset checks that report such things about the files
/// (`extension_mismatch`, `cmyk_image`). Formats are named as users know them ("PNG", "JPEG").
public struct StorageNote: Sendable, Equatable {
  /// The format of the sample's bytes when its file name's extension is another format's (with
  /// ``nameFormat``): a PNG named `.JPEG`.
  public var contentFormat: String?
  /// The format the file name's extension names.
  public var nameFormat: String?
  /// The colour model the image is stored in when decoding converted it ("CMYK", "YCCK").
  public var convertedFrom: String?

  public init(contentFormat: String? = nil, nameFormat: String? = nil, convertedFrom: String? = nil) {
    self.contentFormat = contentFormat
    self.nameFormat = nameFormat
    self.convertedFrom = convertedFrom
  }

  /// Whether the note says anything.
  public var isEmpty: Bool { contentFormat == nil && convertedFrom == nil }
}

/// The original encoded bytes of each sample (a CSV record, an LMDB value, a PNG file's
/// relative path), so that the quarantine and `--normalize none` outputs can write
/// samples back exactly as they were.
public struct OriginalRecords: Sendable {
  /// All records back to back.
  public var bytes: [UInt8]
  /// `ends[i]` is the end of record `i` in `bytes`; record `i` starts at `ends[i-1]` (or 0).
  public var ends: [Int]

  public init(bytes: [UInt8] = [], ends: [Int] = []) {
    self.bytes = bytes
    self.ends = ends
  }

  /// Appends one record.
  public mutating func append<C: Collection>(_ record: C) where C.Element == UInt8 {
    bytes.append(contentsOf: record)
    ends.append(bytes.count)
  }

  /// The byte range of record `i`.
  @inlinable public func range(_ i: Int) -> Range<Int> { (i == 0 ? 0 : ends[i - 1])..<ends[i] }

  /// The bytes of record `i`.
  @inlinable public func record(_ i: Int) -> ArraySlice<UInt8> { bytes[range(i)] }
}

/// What a batch holds of its samples' values: the one type in which a reader and the checker agree
/// on whether values may be left out.
public enum BatchValues: Sendable {
  /// Every value of every sample is in ``SampleBatch/storage``; `measured` holds the per-channel
  /// moments when the reader measured them while copying (the checker then takes them).
  case stored(measured: MeasuredBlocks?)
  /// The reader measured each sample's per-channel moments in place and left the values out
  /// (``SampleBatch/storage`` is empty). Readers deliver this only when the run's checks said they
  /// need no values (``ReadOptions/valuesNeeded``, from ``SampleChecker/needsValues(_:keepingSamples:)``),
  /// and only for 8-bit channel-first samples, whose feature groups are exactly the measured planes.
  case momentsOnly(MeasuredBlocks)
  /// No sample has values, and every sample of the batch has this problem (rows of never-written
  /// HDF5 chunks). The checker flags the whole batch at once and the quarantine writer receives it
  /// as it is, so nothing is allocated per sample.
  case unreadable(ReaderProblem)
}

/// B samples at once: the features of all B in one contiguous buffer of their element
/// type, the shape of each sample, the labels, the keys, and the problems the reader met.
///
/// Checks and statistics loop over contiguous memory; nothing allocates per sample.
/// A sample the reader could not decode has a ``ReaderProblem`` of kind `unreadable`;
/// its values are zero (uniform layouts) or empty (ragged layouts).
public struct SampleBatch: Sendable {
  /// Stream index of the first sample of the batch.
  public var firstIndex: Int
  /// Number of samples.
  public var count: Int
  /// Type of the feature values in `storage`.
  public var elementType: ElementType
  /// The shape of every sample (without the sample axis), unless `shapes` says otherwise.
  public var shape: [Int]
  /// Per-sample shapes for ragged batches (PNG, LMDB); nil when every sample has `shape`.
  public var shapes: [[Int]]?
  /// Element offset of each sample in `storage` plus one final end offset (count + 1
  /// entries) for ragged batches; nil when sample `i` starts at `i * shape.product`.
  public var offsets: [Int]?
  /// The feature values of all samples (empty unless ``values`` is `.stored`). New values
  /// (normalized ones, say) make the batch `.stored` and drop what was measured of the old ones.
  public var storage: ByteStorage {
    didSet { values = .stored(measured: nil) }
  }
  /// What the batch holds of its samples' values: all of them, or only what the reader measured,
  /// or none because no sample could be read (see ``BatchValues``).
  public var values: BatchValues = .stored(measured: nil)
  /// One label per sample (NaN for a missing label), or nil when the dataset has none.
  public var labels: [Double]?
  /// One-hot or soft labels (``LabelEncoding/vectors``): ``labelWidth`` numbers per sample back to
  /// back; nil for one number per sample. ``labels`` then hold each sample's arg-max class.
  public var labelVectors: [Double]? = nil
  /// Numbers per sample in ``labelVectors`` (K classes).
  public var labelWidth = 1
  /// How samples are named.
  public var keys: SampleKeys
  /// Problems found by the reader, by sample position in the batch.
  public var problems: [Int: ReaderProblem]
  /// The original bytes of each sample, when the format has them.
  public var originals: OriginalRecords?
  /// What the reader noticed about how samples are stored, by position (most batches: none).
  public var storageNotes: [Int: StorageNote] = [:]
  /// The stream index of each sample when they are not `firstIndex + position` (a ``subset(_:)``
  /// that skips samples); nil otherwise. Read through ``streamIndex(of:)``.
  public var streamIndices: [Int]? = nil

  /// The stream index (position in the input) of sample `i`.
  @inlinable public func streamIndex(of i: Int) -> Int { streamIndices?[i] ?? firstIndex + i }

  /// Moments the reader measured as it read the values (see ``MeasuredBlocks``), whether or not it
  /// kept the values; not carried into a ``subset(_:)``.
  public var measuredBlocks: MeasuredBlocks? {
    switch values {
    case .stored(let measured): return measured
    case .momentsOnly(let measured): return measured
    case .unreadable: return nil
    }
  }

  /// True when the batch holds every value of every sample in ``storage``.
  public var hasValues: Bool {
    if case .stored = values { return true }
    return false
  }

  public init(
    firstIndex: Int, count: Int, elementType: ElementType, shape: [Int], shapes: [[Int]]? = nil,
    offsets: [Int]? = nil, storage: ByteStorage, labels: [Double]?, keys: SampleKeys = .index,
    problems: [Int: ReaderProblem] = [:], originals: OriginalRecords? = nil
  ) {
    self.firstIndex = firstIndex
    self.count = count
    self.elementType = elementType
    self.shape = shape
    self.shapes = shapes
    self.offsets = offsets
    self.storage = storage
    self.labels = labels
    self.keys = keys
    self.problems = problems
    self.originals = originals
  }

  /// A uniform batch of `count` samples of `shape`, ready for a reader to fill: zeroed, unless
  /// `zeroed` is false (the reader then writes every byte, zeros included).
  public static func uniform(
    firstIndex: Int, count: Int, elementType: ElementType, shape: [Int], labels: [Double]?, zeroed: Bool = true
  ) -> SampleBatch {
    let elements = count * shape.reduce(1, *)
    return SampleBatch(
      firstIndex: firstIndex, count: count, elementType: elementType, shape: shape,
      storage: ByteStorage(byteCount: elements * elementType.size, zeroed: zeroed), labels: labels)
  }

  /// `count` consecutive samples that all have `problem` and no values (rows of never-written HDF5
  /// chunks): nothing is allocated per sample, however large `count` is.
  public static func unreadableRun(
    firstIndex: Int, count: Int, problem: ReaderProblem, elementType: ElementType, shape: [Int], labels: [Double]? = nil
  ) -> SampleBatch {
    var batch = SampleBatch(
      firstIndex: firstIndex, count: count, elementType: elementType, shape: shape, storage: ByteStorage(byteCount: 0),
      labels: labels)
    batch.values = .unreadable(problem)
    return batch
  }

  /// Sets one-hot / soft labels of `width` numbers per sample and ``labels`` to each sample's
  /// arg-max class (the first largest entry; NaN when the row holds a NaN).
  public mutating func setLabelVectors(_ vectors: [Double], width: Int) {
    precondition(width > 0 && vectors.count == count * width, "label vectors of \(vectors.count) numbers for \(count) x \(width)")
    labelVectors = vectors
    labelWidth = width
    var classes = [Double](repeating: .nan, count: count)
    for i in 0..<count {
      var best = 0
      var isNaN = false
      for j in 0..<width {
        let v = vectors[i * width + j]
        if v.isNaN { isNaN = true; break }
        if v > vectors[i * width + best] { best = j }
      }
      classes[i] = isNaN ? .nan : Double(best)
    }
    labels = classes
  }

  /// The shape of sample `i`.
  @inlinable public func shape(of i: Int) -> [Int] { shapes?[i] ?? shape }

  /// The element range of sample `i` in `storage`.
  @inlinable public func elementRange(of i: Int) -> Range<Int> {
    if let offsets { return offsets[i]..<offsets[i + 1] }
    let n = shape.reduce(1, *)
    return (i * n)..<((i + 1) * n)
  }

  /// Total number of elements in the batch.
  public var elementCount: Int { offsets?.last ?? count * shape.reduce(1, *) }

  /// The key of sample `i`, as SPEC.md shows it to users.
  public func key(of i: Int) -> String {
    switch keys {
    case .index: return String(firstIndex + i)
    case .numbers(let numbers): return String(numbers[i])
    case .strings(let strings): return strings[i]
    }
  }

  /// A new batch holding the samples at `positions` (ascending), values copied.
  /// `firstIndex` stays that of the source batch; use ``key(of:)`` for names.
  public func subset(_ positions: [Int]) -> SampleBatch {
    // Only `clean` and the HTML thumbnails take subsets, and both run with values needed
    // (``SampleChecker/needsValues``), so no reader leaves them out there.
    precondition(hasValues, "a subset copies values; this batch was read without them")
    let size = elementType.size
    let total = positions.reduce(0) { $0 + elementRange(of: $1).count }
    let out = ByteStorage(byteCount: total * size, zeroed: false)  // every byte is copied below
    var newOffsets: [Int] = [0]
    newOffsets.reserveCapacity(positions.count + 1)
    var at = 0
    for p in positions {
      let r = elementRange(of: p)
      if r.count > 0 {
        (out.bytes.baseAddress! + at * size).copyMemory(
          from: storage.bytes.baseAddress! + r.lowerBound * size, byteCount: r.count * size)
      }
      at += r.count
      newOffsets.append(at)
    }
    let contiguous = positions.count > 0 && positions.last! - positions.first! == positions.count - 1
    let newKeys: SampleKeys
    switch keys {
    case .index: newKeys = contiguous ? .index : .strings(positions.map { String(firstIndex + $0) })
    case .numbers(let n): newKeys = .numbers(positions.map { n[$0] })
    case .strings(let s): newKeys = .strings(positions.map { s[$0] })
    }
    var newProblems: [Int: ReaderProblem] = [:]
    for (j, p) in positions.enumerated() { if let problem = problems[p] { newProblems[j] = problem } }
    var newNotes: [Int: StorageNote] = [:]
    if !storageNotes.isEmpty {
      for (j, p) in positions.enumerated() { if let note = storageNotes[p] { newNotes[j] = note } }
    }
    var newOriginals: OriginalRecords? = nil
    if let originals {
      // One reservation, then each record's bytes copied as a block.
      var o = OriginalRecords()
      o.bytes.reserveCapacity(positions.reduce(0) { $0 + originals.range($1).count })
      o.ends.reserveCapacity(positions.count)
      originals.bytes.withUnsafeBufferPointer { all in
        for p in positions {
          o.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: all[originals.range(p)]))
          o.ends.append(o.bytes.count)
        }
      }
      newOriginals = o
    }
    var subset = SampleBatch(
      firstIndex: firstIndex + (contiguous ? positions.first! : 0), count: positions.count,
      elementType: elementType, shape: shape,
      shapes: shapes.map { s in positions.map { s[$0] } },
      offsets: (shapes == nil && offsets == nil) ? nil : newOffsets, storage: out,
      labels: labels.map { l in positions.map { l[$0] } }, keys: newKeys, problems: newProblems,
      originals: newOriginals)
    subset.storageNotes = newNotes
    if let vectors = labelVectors {
      let k = labelWidth
      var picked: [Double] = []
      picked.reserveCapacity(positions.count * k)
      for p in positions { picked.append(contentsOf: vectors[(p * k)..<((p + 1) * k)]) }
      subset.labelVectors = picked
      subset.labelWidth = k
    }
    if !contiguous || streamIndices != nil { subset.streamIndices = positions.map { streamIndex(of: $0) } }
    return subset
  }

  /// Calls `body` with the values of the whole batch as a typed buffer.
  @inlinable
  public func withValues<T: FeatureElement, R>(as type: T.Type, _ body: (UnsafeBufferPointer<T>) throws -> R) rethrows -> R {
    precondition(T.elementType == elementType, "batch holds \(elementType), not \(T.elementType)")
    return try body(UnsafeBufferPointer(storage.typed(T.self, count: elementCount)))
  }
}

/// The shapes of a reader's images without an array per image: consecutive images of one shape
/// share one array (ragged batches keep a shape per sample).
public struct ImageShapes: Sendable {
  private var last: [Int] = []

  public init() {}

  /// `[C, H, W]` for channels on the `.first` axis, `[H, W, C]` for `.last`; the previous image's
  /// array when it is the same.
  public mutating func shape(channels: Int, height: Int, width: Int, axis: ChannelAxis) -> [Int] {
    let (a, b, c) = axis == .first ? (channels, height, width) : (height, width, channels)
    if last.count != 3 || last[0] != a || last[1] != b || last[2] != c { last = [a, b, c] }
    return last
  }
}
