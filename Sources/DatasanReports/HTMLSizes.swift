import DatasanCore

extension HTMLReport.Options {
  /// Bars of the size chart: the most common sizes (the rest are counted in a note).
  public static let maxSizeBars = 20
}

extension HTMLPage {
  // MARK: Sizes

  /// The size distribution of the decoded samples (``ScanReport/sizes``): the smallest, the largest
  /// and a bar chart of the most common sizes; one line when every sample has one size.
  mutating func sizes() {
    let sizes = report.sizes
    guard sizes.distinct > 0, let smallest = sizes.smallest, let largest = sizes.largest else { return }
    func name(_ shape: [Int]) -> String { HTMLPage.e(SizeDistribution.text(shape)) }
    html += "<section id=\"sizes\">\n<h2>Sizes</h2>\n"
    guard sizes.distinct > 1 else {
      html += "<p class=\"muted\">Every decoded sample (\(HTMLPage.count(sizes.samples))) has the size \(name(smallest.shape)).</p>\n</section>\n"
      return
    }
    html += "<p class=\"muted\">\(HTMLPage.plural(sizes.distinct, "size")) over \(HTMLPage.plural(sizes.samples, "decoded sample")) "
    html += "(flagged or not): smallest <code id=\"size-smallest\">\(name(smallest.shape))</code> (\(HTMLPage.count(smallest.count))), "
    html += "largest <code id=\"size-largest\">\(name(largest.shape))</code> (\(HTMLPage.count(largest.count))).</p>\n"
    if (report.counts[.shapeMismatch] ?? 0) > 0 {
      html += "<p class=\"note\">Some samples are <code>shape_mismatch</code>: without <code>--shape</code> every sample must have "
      html += "the first one's size; <code>--shape any</code> (or <code>--shape 3,any,any</code>) accepts every size with the same number of channels.</p>\n"
    }
    let bars = sizes.mostCommon(HTMLReport.Options.maxSizeBars)
    let peak = bars.first?.count ?? 1
    let left = 120.0, right = 60.0, row = 18.0, top = 4.0
    let width = 640.0
    let height = top * 2 + row * Double(bars.count)
    let plotW = width - left - right
    var svg = svgOpen(id: "size-chart", class: "sizes", width: width, height: height, label: "most common sizes",
                      axis: (left, top, left, height - top))
    for (i, s) in bars.enumerated() {
      let y = top + Double(i) * row
      let w = Swift.max(1.5, plotW * Double(s.count) / Double(Swift.max(peak, 1)))
      let label = name(s.shape)
      svg += "<text x=\"\(f(left - 6))\" y=\"\(f(y + row - 5))\" text-anchor=\"end\">\(label)</text>"
      svg += "<rect class=\"bar\" data-size=\"\(label)\" data-count=\"\(s.count)\" x=\"\(f(left))\" y=\"\(f(y + 2))\" width=\"\(f(w))\" height=\"\(f(row - 4))\"><title>\(label): \(HTMLPage.count(s.count))</title></rect>"
      svg += "<text x=\"\(f(left + w + 4))\" y=\"\(f(y + row - 5))\">\(HTMLPage.count(s.count))</text>"
    }
    chart(closing: svg)
    if bars.count < sizes.distinct {
      html += "<p class=\"note\">The \(HTMLPage.count(bars.count)) most common of \(HTMLPage.count(sizes.distinct)) sizes are drawn.</p>\n"
    }
    html += "</section>\n"
  }
}
