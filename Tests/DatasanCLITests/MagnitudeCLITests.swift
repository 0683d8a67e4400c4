import Foundation
import Testing

/// Columns of values near 1e300 and near 1e-300 (and subnormal): scan reports finite statistics and
/// the scale findings, clean writes finite normalized values, and the statistics file reads back.
@Suite struct MagnitudeCLITests {
  let rows = 60

  func writeCSV(_ dir: String) throws -> String {
    var text = "huge,tiny,subnormal,unit\n"
    for i in 0..<rows {
      let sign = i % 2 == 0 ? 1.0 : -1.0
      text += "\(sign * 1e300 * (1 + Double(i) / 7)),\(1e-300 * (1 + Double(i % 13))),\(Double(i % 9 + 1) * 4.9406564584124654e-324),\(i)\n"
    }
    let path = dir + "/magnitudes.csv"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  /// The numbers of a CSV written by clean, column by column.
  func columns(_ path: String) throws -> [[Double]] {
    let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").dropFirst()
    let cells = lines.map { $0.split(separator: ",").map { Double(String($0)) } }
    #expect(cells.allSatisfy { $0.count == 4 && $0.allSatisfy { $0 != nil } }, "every cell a number")
    return (0..<4).map { c in cells.map { $0[c] ?? .nan } }
  }

  @Test func scanReportsFiniteStdAndTheScaleFindings() throws {
    let dir = try makeTempDir()
    let input = try writeCSV(dir)
    let r = try CLI.run(["scan", input, "--report", dir + "/r.json"])
    #expect(r.status == 0, "\(r.stderr)")
    let report = try Report.load(dir + "/r.json")
    #expect(report.stats.groups.map(\.name) == ["huge", "tiny", "subnormal", "unit"])
    for g in report.stats.groups {
      #expect(g.count == rows, "\(g.name)")
      #expect(g.std.map { $0.isFinite && $0 > 0 } == true, "\(g.name): std \(String(describing: g.std))")
      #expect(g.mean.map(\.isFinite) == true, "\(g.name): mean")
    }
    let huge = report.stats.groups[0]
    #expect(huge.std! > 1e300 && huge.std! < 1e301)
    #expect(report.stats.groups[1].std! > 1e-300 && report.stats.groups[1].std! < 1e-299)
    let findings = report.issues.filter { $0.index == nil }
    #expect(findings.filter { $0.kind == "unnormalized_scale" }.compactMap(\.field) == ["huge", "unit"])
    #expect(findings.contains { $0.kind == "scale_imbalance" && $0.detail.hasPrefix("std of huge") })
    #expect(!findings.contains { $0.kind == "constant_feature" })
  }

  @Test(arguments: ["zscore", "minmax"])
  func cleanWritesFiniteNormalizedValues(method: String) throws {
    let dir = try makeTempDir()
    let input = try writeCSV(dir)
    let r = try CLI.run(["clean", input, "-o", dir + "/out.csv", "--normalize", method, "--stats-out", dir + "/s.json"])
    #expect(r.status == 0, "\(r.stderr)")
    let out = try columns(dir + "/out.csv")
    for (c, ys) in out.enumerated() {
      #expect(ys.count == rows && ys.allSatisfy { $0.isFinite }, "column \(c)")
      if method == "zscore" {
        let mean = ys.reduce(0, +) / Double(ys.count)
        let std = (ys.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(ys.count)).squareRoot()
        #expect(abs(mean) < 1e-4 && abs(std - 1) < 1e-4, "column \(c): mean \(mean) std \(std)")
      } else {
        #expect(abs(ys.min()! + 1) < 1e-6 && abs(ys.max()! - 1) < 1e-6, "column \(c): [\(ys.min()!), \(ys.max()!)]")
      }
    }
    // The saved parameters, applied again, give the same output.
    let again = try CLI.run(["clean", input, "-o", dir + "/again.csv", "--normalize", method, "--stats-in", dir + "/s.json"])
    #expect(again.status == 0, "\(again.stderr)")
    #expect(try String(contentsOfFile: dir + "/again.csv", encoding: .utf8) == String(contentsOfFile: dir + "/out.csv", encoding: .utf8))
  }

  /// An HDF5 output records the power of two of the subnormal column's map beside its scale, and its
  /// values reach the ends of the range.
  @Test func hdf5OutputRecordsTheScaleExponent() throws {
    let dir = try makeTempDir()
    let input = try writeCSV(dir)
    let r = try CLI.run(["clean", input, "-o", dir + "/out.h5", "--normalize", "minmax"])
    #expect(r.status == 0, "\(r.stderr)")
    let data = try #require(HDF5ReadBack.read(dir + "/out.h5", "data"))
    #expect(data.dims == [rows, 4] && data.values.allSatisfy { $0.isFinite })
    for c in 0..<4 {
      let column = stride(from: c, to: data.values.count, by: 4).map { data.values[$0] }
      #expect(abs(column.min()! + 1) < 1e-6 && abs(column.max()! - 1) < 1e-6, "column \(c)")
    }
    #expect(HDF5ReadBack.hasAttribute(dir + "/out.h5", "data", "datasan_scale_exponent"))
  }
}
