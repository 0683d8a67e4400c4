import DatasanCore
import DatasanPNG
import Dispatch

// The general batch path of ``LMDBReader``: planned records assembled into one batch.
extension LMDBReader {
  /// Writes the values of every planned record into one storage buffer; decodes images in parallel.
  func assemble(firstIndex: Int, keys: [String], values: [UInt8], ends: [Int], plans: [DatumPlan]) -> SampleBatch {
    var plans = plans
    let frozen = plans
    let count = keys.count
    let type = LMDBReader.batchType(info.elementType, plans: plans, values: values, ends: ends)
    let size = type.size
    var offsets = [Int](repeating: 0, count: count + 1)
    for i in 0..<count { offsets[i + 1] = offsets[i] + plans[i].elements }
    let storage = ByteStorage(byteCount: offsets[count] * size)
    let axisLast = options.channelAxis == .last
    let planner = self.planner
    var failed = [String?](repeating: nil, count: count)

    values.withUnsafeBytes { all in
      func valueBytes(_ i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: all[(i == 0 ? 0 : ends[i - 1])..<ends[i]])
      }
      // Raw and float records: copies (and the transposition to H x W x C).
      for i in 0..<count {
        let p = plans[i]
        let destination = storage.bytes.baseAddress! + offsets[i] * size
        let message = valueBytes(i)
        switch p.content {
        case .raw where p.elements != p.datum.data.count:
          // `--resize`: the C x H x W image resized (planar), then stored like any raw record.
          let d = p.datum
          let (c, size) = (Int(d.channels), planner.resize!)
          let header = ImageHeader(width: Int(d.width), height: Int(d.height), channels: c, bitDepth: 8)
          let resized = UnsafeMutableRawBufferPointer.allocate(byteCount: max(p.elements, 1), alignment: 16)
          defer { resized.deallocate() }
          ImageResize.resize(
            UnsafeRawBufferPointer(rebasing: message[d.data]), header, channelAxis: .first, to: size, into: resized)
          LMDBReader.store(
            UnsafeBufferPointer(start: resized.baseAddress!.assumingMemoryBound(to: UInt8.self), count: p.elements),
            c: c, h: size.height, w: size.width, transpose: axisLast, as: type, into: destination)
        case .raw:
          let data = UnsafeRawBufferPointer(rebasing: message[p.datum.data])
          let d = p.datum
          LMDBReader.store(
            data.assumingMemoryBound(to: UInt8.self), c: Int(d.channels), h: Int(d.height), w: Int(d.width),
            transpose: axisLast, as: type, into: destination)
        case .floats where type == .uint8:
          // A float_data record of uint8 values in a uint8 batch (see batchType).
          let d = p.datum
          let floats = UnsafeMutablePointer<Float>.allocate(capacity: max(p.elements, 1))
          defer { floats.deallocate() }
          d.floats(in: message, into: floats)
          let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: max(p.elements, 1))
          defer { bytes.deallocate() }
          for e in 0..<p.elements { bytes[e] = UInt8(floats[e]) }
          LMDBReader.store(
            UnsafeBufferPointer(start: bytes, count: p.elements), c: Int(d.channels), h: Int(d.height),
            w: Int(d.width), transpose: axisLast, as: type, into: destination)
        case .floats where type == .float32 && (!axisLast || p.datum.channels == 1):
          p.datum.floats(in: message, into: destination.assumingMemoryBound(to: Float.self))
        case .floats:
          let d = p.datum
          let floats = UnsafeMutablePointer<Float>.allocate(capacity: max(p.elements, 1))
          defer { floats.deallocate() }
          d.floats(in: message, into: floats)
          LMDBReader.store(
            UnsafeBufferPointer(start: floats, count: p.elements), c: Int(d.channels), h: Int(d.height),
            w: Int(d.width), transpose: axisLast, as: type, into: destination)
        case .image, .unreadable:
          break
        }
      }
      // Encoded images: decoded straight into the storage, several at once.
      let images = (0..<count).filter { if case .image = plans[$0].content { return true } else { return false } }
      guard !images.isEmpty else { return }
      let starts = offsets
      let problems = parallelMap(images.count) { n -> String? in
        let i = images[n]
        let p = frozen[i]
        guard case .image(let header) = p.content else { return nil }
        let direct = header.elementType == type
        let byteCount = header.byteCount
        let destination = storage.bytes.baseAddress! + starts[i] * size
        let target =
          direct
          ? UnsafeMutableRawBufferPointer(start: destination, count: byteCount)
          : UnsafeMutableRawBufferPointer.allocate(byteCount: max(byteCount, 1), alignment: 16)
        defer { if !direct { target.deallocate() } }
        return values.withUnsafeBytes { all -> String? in
          let value = UnsafeRawBufferPointer(rebasing: all[(i == 0 ? 0 : ends[i - 1])..<ends[i]])
          switch planner.decodeImage(p, in: value, into: target) {
          case .failure(let e):
            return planner.imageProblem(e, UnsafeRawBufferPointer(rebasing: value[p.datum.data]))
          case .success:
            if !direct {
              let out = destination.assumingMemoryBound(to: Float.self)
              if header.elementType == .uint8 {
                let src = target.assumingMemoryBound(to: UInt8.self)
                for e in 0..<p.elements { out[e] = Float(src[e]) }
              } else {
                let src = target.baseAddress!.assumingMemoryBound(to: UInt16.self)
                for e in 0..<p.elements { out[e] = Float(src[e]) }
              }
            }
            return nil
          }
        }
      }
      for n in 0..<images.count { if let why = problems[n] { failed[images[n]] = why } }
    }

    // Images that failed to decode become unreadable with no values: close their gaps.
    var storageOut = storage
    if failed.contains(where: { $0 != nil }) {
      var newOffsets = [Int](repeating: 0, count: count + 1)
      for i in 0..<count {
        if let why = failed[i] {
          plans[i].problem = ReaderProblem(.unreadable, why)
          plans[i].shape = [0]
          plans[i].elements = 0
        }
        newOffsets[i + 1] = newOffsets[i] + plans[i].elements
      }
      let compact = ByteStorage(byteCount: newOffsets[count] * size)
      for i in 0..<count where plans[i].elements > 0 {
        (compact.bytes.baseAddress! + newOffsets[i] * size).copyMemory(
          from: storage.bytes.baseAddress! + offsets[i] * size, byteCount: plans[i].elements * size)
      }
      offsets = newOffsets
      storageOut = compact
    }

    var problems: [Int: ReaderProblem] = [:]
    var notes: [Int: StorageNote] = [:]
    var labels = [Double](repeating: 0, count: count)
    var shapes = [[Int]]()
    shapes.reserveCapacity(count)
    for i in 0..<count {
      let p = plans[i]
      if let problem = p.problem { problems[i] = problem }
      // A CMYK / YCCK image decoded to RGB (the `cmyk_image` finding names it).
      if p.problem == nil, case .image(let header) = p.content, let model = header.convertedFrom {
        notes[i] = StorageNote(convertedFrom: model)
      }
      labels[i] = p.label
      shapes.append(p.shape)
    }
    var batch = SampleBatch(
      firstIndex: firstIndex, count: count, elementType: type, shape: info.sampleShape ?? [0], shapes: shapes,
      offsets: offsets, storage: storageOut, labels: labels, keys: .strings(keys), problems: problems,
      originals: options.keepOriginals ? OriginalRecords(bytes: values, ends: ends) : nil)
    batch.storageNotes = notes
    delivered += count
    return batch
  }

  /// The element type of a batch of `plans`: the dataset's, except that a uint8 dataset's batch
  /// holding a `float_data` record with a value that is not a uint8 (a fraction, out of 0...255,
  /// NaN, Inf) is float32, so that those values are checked and counted like any other (the uint8
  /// records of the batch are widened, losslessly).
  static func batchType(_ dataset: ElementType, plans: [DatumPlan], values: [UInt8], ends: [Int]) -> ElementType {
    guard dataset == .uint8 else { return dataset }
    return values.withUnsafeBytes { all -> ElementType in
      for (i, p) in plans.enumerated() {
        guard case .floats = p.content, p.problem == nil else { continue }
        let message = UnsafeRawBufferPointer(rebasing: all[(i == 0 ? 0 : ends[i - 1])..<ends[i]])
        let fits = withUnsafeTemporaryAllocation(of: Float.self, capacity: max(p.elements, 1)) { floats -> Bool in
          p.datum.floats(in: message, into: floats.baseAddress!)
          for e in 0..<p.elements {
            let x = floats[e]
            if !(x >= 0 && x <= 255 && x.rounded(.towardZero) == x) { return false }
          }
          return true
        }
        if !fits { return .float32 }
      }
      return dataset
    }
  }

  /// Stores C x H x W values as `type` (the same, or widened to float32), as C x H x W or H x W x C.
  static func store<T: FeatureElement>(
    _ source: UnsafeBufferPointer<T>, c: Int, h: Int, w: Int, transpose: Bool, as type: ElementType,
    into destination: UnsafeMutableRawPointer
  ) {
    let n = c * h * w
    if type == T.elementType && (!transpose || c == 1) {
      destination.copyMemory(from: source.baseAddress!, byteCount: n * MemoryLayout<T>.stride)
      return
    }
    if type == T.elementType {
      let out = destination.assumingMemoryBound(to: T.self)
      let plane = h * w
      for ch in 0..<c {
        for p in 0..<plane { out[p * c + ch] = source[ch * plane + p] }
      }
      return
    }
    // Widen to float32 (the only conversion a plan allows).
    let out = destination.assumingMemoryBound(to: Float.self)
    let plane = h * w
    if !transpose || c == 1 {
      for e in 0..<n { out[e] = Float(source[e].doubleValue) }
    } else {
      for ch in 0..<c {
        for p in 0..<plane { out[p * c + ch] = Float(source[ch * plane + p].doubleValue) }
      }
    }
  }
}
