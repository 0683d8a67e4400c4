import CDatasanLMDBGuard
import CLMDB
import DatasanCore
import Dispatch

// The raw fast path of ``LMDBReader``: a scan of raw uint8 C x H x W records.
extension LMDBReader {
  /// A uniform batch of raw C x H x W uint8 samples, for a scan (no originals kept).
  ///
  /// Each canonical raw Datum is parsed and measured in the map (`datasan_mdb_guarded_raw_datums`,
  /// under the fault guard) and, unless the scan needs no values, its data copied once, straight
  /// into the batch. Any other record is copied out and planned as by the general path: an
  /// unreadable one keeps zeros in its slot; a record the uniform layout cannot hold (float_data,
  /// an encoded image, another shape) ends the batch and is read again by the general path. Nil
  /// when no record was taken.
  func nextRawBatch(channels c: UInt64, height h: UInt64, width w: UInt64) throws -> SampleBatch? {
    let sampleBytes = Int(c * h * w)
    let capacity = max(1, min(maxRecordsPerBatch, options.batchBytes / max(sampleBytes, 1)))
    // 1. Walk: the records' places in the map (the cursor reads leaf pages only, not the values).
    rawKeys.removeAll(keepingCapacity: true)
    rawValues.removeAll(keepingCapacity: true)
    while rawKeys.count < capacity, let (key, value) = try walk.fetch() {
      rawKeys.append(key)
      rawValues.append(value)
    }
    let n = rawKeys.count
    if n < capacity { finished = true }  // fetch() found the end (and nothing carried is left)
    guard n > 0 else { return nil }
    // 2. Decode in order: runs of canonical records in C, the others one by one here.
    // A scan that reads no values (only the moments measured here) gets none: the records are
    // measured in the map, under the guard, and not copied at all.
    let omit = !options.valuesNeeded
    let storage = ByteStorage(byteCount: omit ? 0 : n * sampleBytes, zeroed: false)
    let base: UnsafeMutablePointer<UInt8>? = omit ? nil : storage.bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
    var keys: [String] = []
    keys.reserveCapacity(n)
    var labels = [Double](repeating: 0, count: n)
    var rawLabels = [Int32](repeating: 0, count: n)
    var problems: [Int: ReaderProblem] = [:]
    // The batch in segments, decoded on all cores at once (the C decoder stops at the first record
    // of a segment it does not take; the loop below goes on from there). The first segment also
    // checks the batch's keys and makes their text, on a copy of the key walk, in case every
    // record is canonical (as in almost every batch): it gets fewer records, by what the keys cost
    // (about 8% of a record's decoding).
    let segments = n >= 512 ? min(Machine.cores, 4) : 1
    let keyShare = segments > 1 ? 0.08 : 0
    let perSegment = Double(n) * (1 + keyShare) / Double(segments)
    let bounds = (0...segments).map { k in
      k == 0 ? 0 : min(n, Int((Double(k) * perSegment - Double(n) * keyShare).rounded()))
    }
    // The checker's per-channel moments, measured record by record as each arrives in cache.
    let measured = MeasuredBlocks(samples: n, blocksPerSample: Int(c), blockLength: Int(h * w))
    let moments = measured.cTable
    let keyWalk = walk.keyWalk
    let results = rawKeys.withUnsafeBufferPointer { keys in
      rawValues.withUnsafeBufferPointer { values in
        rawLabels.withUnsafeMutableBufferPointer { labels in
          let run = RawDatumRun(
            keys: keys.baseAddress, values: values.baseAddress, labels: labels.baseAddress, destination: base,
            moments: moments, channels: c, height: h, width: w, file: walk.environment.dataDescriptor,
            map: walk.environment.mapped.flatMap { UnsafeRawPointer(bitPattern: $0.lowerBound) })
          return parallelMap(segments) { k in
            let decoded = run.decode(bounds[k]..<bounds[k + 1])
            return (decoded, k == 0 ? run.keys(0..<n, walk: keyWalk) : nil)
          }
        }
      }
    }
    if zip(results, bounds.dropFirst()).allSatisfy({ $0.0.rc >= 0 && Int($0.0.rc) == $1 }),
      let (checkedWalk, shown) = results[0].1
    {
      walk.keyWalk = checkedWalk
      for r in 0..<n { labels[r] = Double(rawLabels[r]) }
      return batch(keys: shown, labels: labels, problems: problems)
    }
    let first = results.map(\.0)
    var i = 0
    while i < n {
      let k = bounds.lastIndex { $0 <= i }!
      var at = i
      let rc: Int32
      var fault = ""
      if bounds[k] == i {
        (rc, at, fault) = first[k]
      } else {
        rc = rawValues.withUnsafeBufferPointer { values in
          rawLabels.withUnsafeMutableBufferPointer { labels in
            datasan_mdb_guarded_raw_datums(
              values.baseAddress, i, bounds[k + 1], c, h, w, base, labels.baseAddress, moments, &at)
          }
        }
      }
      let done = rc == DATASAN_MDB_FAULT ? at : Int(rc)
      try walk.consumeRun(i..<done, keys: rawKeys, values: rawValues, into: &keys)
      for r in i..<done { labels[r] = Double(rawLabels[r]) }
      if rc == DATASAN_MDB_FAULT { throw walk.corrupt(fault.isEmpty ? lmdbFaultDescription() : fault) }
      if done == bounds[k + 1] {
        i = done
        continue
      }
      // Record `done` is not canonical: copy it out and let the full decoder decide.
      let value = rawValues[done]
      if staging.count < value.mv_size { staging = [UInt8](repeating: 0, count: max(value.mv_size, 2 * staging.count)) }
      let p = try staging.withUnsafeMutableBytes { buffer -> DatumPlan in
        if datasan_mdb_guarded_copy(buffer.baseAddress, value.mv_data, value.mv_size) != 0 {
          throw walk.corrupt(lmdbFaultDescription())
        }
        let p = planner.plan(UnsafeRawBufferPointer(rebasing: buffer[0..<value.mv_size]))
        if case .raw = p.content, p.shape == info.sampleShape {
          let data = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self) + p.datum.data.lowerBound
          base.map { ($0 + done * sampleBytes).update(from: data, count: sampleBytes) }
          measured.measure(sample: done, values: data)
        }
        return p
      }
      switch p.content {
      case .raw where p.shape == info.sampleShape:
        break
      case .unreadable:
        base.map { ($0 + done * sampleBytes).initialize(repeating: 0, count: sampleBytes) }
        problems[done] = p.problem
      default:
        // The uniform layout cannot hold it: this batch ends here, the general path reads the rest.
        walk.carry(zip(rawKeys[done...], rawValues[done...]).map { (key: $0, value: $1) })
        finished = false
        generalNext = true
        return batch(keys: keys, labels: Array(labels[0..<done]), problems: problems)
      }
      try walk.consumeRun(done..<(done + 1), keys: rawKeys, values: rawValues, into: &keys)
      labels[done] = p.label
      i = done + 1
    }
    return batch(keys: keys, labels: labels, problems: problems)

    func batch(keys: [String], labels: [Double], problems: [Int: ReaderProblem]) -> SampleBatch? {
      guard !keys.isEmpty else { return nil }
      defer { delivered += keys.count }
      var batch = SampleBatch(
        firstIndex: delivered, count: keys.count, elementType: .uint8, shape: info.sampleShape ?? [0],
        storage: storage, labels: labels, keys: .strings(keys), problems: problems)
      batch.values = omit ? .momentsOnly(measured) : .stored(measured: measured)
      return batch
    }
  }
}

/// What the C decoder of canonical Datums reads and writes for one batch, shared by the segments of
/// the batch decoded on all cores.
///
/// `@unchecked Sendable`: raw pointers into the batch (and the LMDB map). The call for records
/// `start..<end` reads only their values and writes only their labels, values and moments; the
/// segments are disjoint, which the compiler cannot see.
private struct RawDatumRun: @unchecked Sendable {
  let keys: UnsafePointer<MDB_val>?
  let values: UnsafePointer<MDB_val>?
  let labels: UnsafeMutablePointer<Int32>?
  let destination: UnsafeMutablePointer<UInt8>?
  let moments: UnsafeMutableRawPointer
  let channels: UInt64
  let height: UInt64
  let width: UInt64
  /// The data file and where it is mapped: values are read from the file (nil map: from the map).
  let file: Int32
  let map: UnsafeRawPointer?

  /// Records `run` consumed on a copy of `walk`, if their keys pass its checks: the walk after them
  /// and their keys as users see them. Nil otherwise (the batch is then consumed in order, and the
  /// problem thrown where it is).
  func keys(_ run: Range<Int>, walk: KeyWalk) -> (KeyWalk, [String])? {
    var walk = walk
    guard let keys, let values, let shown = try? walk.consumeRun(run, keys: keys, values: values) else { return nil }
    return (walk, shown)
  }

  /// Decodes records `range` until the first the C decoder does not take: its code, where it stopped,
  /// and the fault's description (kept by the thread that faulted).
  func decode(_ range: Range<Int>) -> (rc: Int32, at: Int, fault: String) {
    var at = range.lowerBound
    var from = range.lowerBound
    if let map, file >= 0 {
      let rc = datasan_mdb_read_raw_datums(
        file, map, values, range.lowerBound, range.upperBound, channels, height, width, destination, labels, moments, &at)
      if rc != DATASAN_MDB_READ_FAILED { return (rc, at, "") }
      from = at  // a read failed: the map from there on, under the guard, says why
    }
    let rc = datasan_mdb_guarded_raw_datums(
      values, from, range.upperBound, channels, height, width, destination, labels, moments, &at)
    // Read once: their pages leave the page tables now, on this core (the record that stopped the
    // run is read again, by the general decoder).
    if rc >= 0 { datasan_mdb_release_values(values, from, Int(rc)) }
    return (rc, at, rc == DATASAN_MDB_FAULT ? lmdbFaultDescription() : "")
  }
}
