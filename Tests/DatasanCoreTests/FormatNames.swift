import DatasanCore

// The core names no format (the format targets define their names); its tests name the ones
// their datasets stand for.
extension DataFormat {
  static let hdf5 = DataFormat(rawValue: "hdf5")
  static let lmdb = DataFormat(rawValue: "lmdb")
  static let csv = DataFormat(rawValue: "csv")
}
