import Foundation
import Testing

/// `--list` lines are trimmed before the path and the label are split (issue 13 item 9).
@Suite struct ListTrimCLITests {
  /// A list indented with blanks, with CRLF line ends and a byte order mark (as Notepad writes it):
  /// each line is trimmed before the path and the label are split, so every file is found and
  /// labelled as in the plain list.
  @Test func indentedCRLFListReadsLikeThePlainOne() throws {
    let dir = try makeTempDir()
    let root = CLI.fixture("png/train")
    let plain = "cat/cat_00.png 0\ncat/cat_01.png 0\ndog/dog_00.png 1\nzebra/zebra_00.png 2\n"
    let indented = "\u{FEFF}  cat/cat_00.png 0\r\n\tcat/cat_01.png  0 \r\n   \r\n dog/dog_00.png\t1\r\n\t zebra/zebra_00.png 2\t\r\n"
    try plain.write(toFile: dir + "/plain.txt", atomically: false, encoding: .utf8)
    try indented.write(toFile: dir + "/indented.txt", atomically: false, encoding: .utf8)
    var reports: [Report] = []
    for name in ["plain", "indented"] {
      let r = try CLI.run(["scan", root, "--list", dir + "/\(name).txt", "--report", dir + "/\(name).json"])
      #expect(r.status == 0, "\(name): \(r.stdout)\(r.stderr)")
      reports.append(try Report.load(dir + "/\(name).json"))
    }
    #expect(reports[1].samples.total == 4 && reports[1].samples.flagged == 0)
    #expect(reports[1].stats.labels?.histogram == ["0": 2, "1": 1, "2": 1])
    #expect(reports[1].stats.groups.map(\.mean) == reports[0].stats.groups.map(\.mean))
  }
}
