#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The text of a file error from FoundationEssentials (`Data.write(to:)`, `FileManager`) as full
/// Foundation's `localizedDescription` wrote it ("The operation could not be completed. The file
/// doesn’t exist."): FoundationEssentials has no `localizedDescription`. The two reasons Foundation
/// names for the errors datasan meets (no such file, no permission) read as before; for the rarer
/// others the reason is C's strerror text of the underlying errno.
public func fileErrorText(_ error: any Error) -> String {
  let prefix = "The operation could not be completed."
  if let posix = error as? POSIXError { return prefix + " " + reason(errno: posix.code.rawValue) }
  guard let cocoa = error as? CocoaError else { return "\(error)" }
  switch cocoa.code {
  case .fileNoSuchFile, .fileReadNoSuchFile: return prefix + " The file doesn’t exist."
  case .fileReadNoPermission, .fileWriteNoPermission: return prefix + " You don’t have permission."
  default:
    if let underlying = cocoa.userInfo["NSUnderlyingError"] as? POSIXError {
      return prefix + " " + reason(errno: underlying.code.rawValue)
    }
    return prefix
  }
}

private func reason(errno: Int32) -> String {
  switch errno {
  case ENOENT: return "The file doesn’t exist."
  case EACCES, EPERM: return "You don’t have permission."
  default: return "(" + String(cString: strerror(errno)) + ")"
  }
}
