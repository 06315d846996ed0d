import Foundation

/// Left-aligned columns separated by two spaces, headers in capitals.
struct TableRenderer {
    var headers: [String]
    var rows: [[String]] = []

    init(_ headers: String...) {
        self.headers = headers
    }

    mutating func add(_ cells: String...) {
        rows.append(cells)
    }

    func render() -> String {
        let all = [headers] + rows
        let widths = headers.indices.map { column in
            all.map { row in column < row.count ? row[column].count : 0 }.max() ?? 0
        }
        return all.map { row in
            headers.indices.map { column in
                let cell = column < row.count ? row[column] : ""
                return column == headers.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }
            .joined(separator: "  ")
            .trimmingTrailingSpaces()
        }
        .joined(separator: "\n")
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var result = self
        while result.last == " " { result.removeLast() }
        return result
    }
}
