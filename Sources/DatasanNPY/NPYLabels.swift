import DatasanCore

/// The labels of an NPY input, read in one place: an array of shape (N) or (N, 1) (a `.npy` file
/// given with `--labels`, or an `.npz` member), each label as a Double.
final class NPYLabels {
  let array: NPYArray
  private var scratch: [UInt8] = []

  /// Checks the label array's shape against `samples` rows of features.
  init(array: NPYArray, samples: Int, featureName: String) throws(NPYHeaderError) {
    let shape = array.header.shape
    guard shape.count == 1 || (shape.count == 2 && shape[1] == 1) else {
      throw .unsupported("labels \(array.name) have shape \(array.header.shapeText); expected (N,) or (N, 1)")
    }
    guard shape[0] == samples else {
      throw .invalid("labels \(array.name) hold \(shape[0]) labels but \(featureName) has \(samples) samples")
    }
    self.array = array
  }

  /// The element type the labels are stored as (float16 as float32, bool as uint8).
  var storedType: ElementType { array.dtype.elementType }
  var rank: Int { array.header.shape.count }

  /// Labels of rows `start ..< start + count`.
  func read(start: Int, count: Int) throws -> [Double] {
    let type = storedType
    let values = ByteStorage(byteCount: count * type.size, zeroed: false)
    try array.readRows(start: start, count: count, into: values.bytes.baseAddress!, scratch: &scratch)
    return type.withType { t in NPYLabels.doubles(values, t, count) }
  }

  private static func doubles<T: FeatureElement>(_ storage: ByteStorage, _ type: T.Type, _ count: Int) -> [Double] {
    let typed = storage.typed(T.self, count: count)
    return (0..<count).map { typed[$0].doubleValue }
  }
}
