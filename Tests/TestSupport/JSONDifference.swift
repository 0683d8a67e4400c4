import Foundation

/// Two parsed JSON values compared as reports are (the single run against the merged shards): equal
/// keys and items, strings exactly, numbers within 1e-9 relative.
public enum JSONDifference {
  /// Nil when equal, else the path of the first difference and the two values there.
  public static func first(_ a: Any, _ b: Any, _ at: String = "") -> String? {
    if let x = a as? [String: Any], let y = b as? [String: Any] {
      if Set(x.keys) != Set(y.keys) { return "\(at): keys \(x.keys.sorted()) vs \(y.keys.sorted())" }
      for k in x.keys.sorted() { if let d = first(x[k]!, y[k]!, at + "." + k) { return d } }
      return nil
    }
    if let x = a as? [Any], let y = b as? [Any] {
      if x.count != y.count { return "\(at): \(x.count) vs \(y.count) items" }
      for i in x.indices { if let d = first(x[i], y[i], at + "[\(i)]") { return d } }
      return nil
    }
    if let x = a as? NSNumber, let y = b as? NSNumber, !(a is Bool) {
      let (u, v) = (x.doubleValue, y.doubleValue)
      return u == v || abs(u - v) <= 1e-9 * max(abs(u), abs(v)) ? nil : "\(at): \(u) vs \(v)"
    }
    if let x = a as? String, let y = b as? String { return x == y ? nil : "\(at): \(x) vs \(y)" }
    return "\(a)" == "\(b)" ? nil : "\(at): \(a) vs \(b)"
  }
}
