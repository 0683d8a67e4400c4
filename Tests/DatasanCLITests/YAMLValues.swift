import Foundation

@testable import DatasanConfig

/// A YAML text as Swift values, read through datasan's own composer over libyaml (what
/// `Yams.load` gave these tests): mappings as `[String: Any]`, lists as `[Any]`, scalars by their
/// resolved tag (Int, Double, Bool, NSNull, else String). Nil for an empty text.
func loadYAML(_ text: String) throws -> Any? {
  try YAML.compose(text).map(yamlValue)
}

private func yamlValue(_ node: YAMLNode) -> Any {
  switch node {
  case .mapping(let pairs, _):
    var dictionary: [String: Any] = [:]
    for (key, value) in pairs {
      guard case .scalar(let k) = key else { continue }
      dictionary[k.string] = yamlValue(value)
    }
    return dictionary
  case .sequence(let items, _):
    return items.map(yamlValue)
  case .scalar(let s):
    switch s.tag {
    case .null: return NSNull()
    case .bool: return s.boolValue ?? s.string
    case .int: return s.intValue ?? s.string
    case .float: return Double.parse(yaml: s.string) ?? s.string
    default: return s.string
    }
  }
}
