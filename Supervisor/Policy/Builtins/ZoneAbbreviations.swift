import Foundation

/// Time zone abbreviations (`EST`, `CEST`, `+11`) as Go prints them for `MST` in a layout,
/// read from the system's TZif files: Foundation on Linux only offers `GMT-5` forms.
enum ZoneAbbreviations {
    struct Entry {
        var offset: Int
        var isDaylight: Bool
        var name: String
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [String: [Entry]] = [:]

    /// The abbreviation used by zone `identifier` for this offset and daylight state.
    static func name(identifier: String, offset: Int, isDaylight: Bool) -> String? {
        // Entries are in the order of their latest use, so the last match is the current name
        // (EDT rather than the EPT of 1945 with the same offset).
        let entries = self.entries(for: identifier)
        let match = entries.last { $0.offset == offset && $0.isDaylight == isDaylight } ?? entries.last { $0.offset == offset }
        return match?.name
    }

    static func entries(for identifier: String) -> [Entry] {
        lock.lock()
        defer { lock.unlock() }
        if let hit = cache[identifier] { return hit }
        let valid = !identifier.isEmpty && !identifier.contains("..") && !identifier.hasPrefix("/")
            && identifier.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || "/_+-".unicodeScalars.contains($0) }
        var entries: [Entry] = []
        if valid, let data = FileManager.default.contents(atPath: "/usr/share/zoneinfo/" + identifier) {
            entries = parse(Array(data))
        }
        cache[identifier] = entries
        return entries
    }

    /// The local time types of a TZif file (the 64-bit block when there is one).
    static func parse(_ b: [UInt8]) -> [Entry] {
        func be32(_ i: Int) -> Int? {
            guard i + 4 <= b.count else { return nil }
            return Int(Int32(bitPattern: UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])))
        }
        func header(at h: Int) -> (isutcnt: Int, isstdcnt: Int, leapcnt: Int, timecnt: Int, typecnt: Int, charcnt: Int)? {
            guard h + 44 <= b.count, b[h] == 0x54, b[h + 1] == 0x5A, b[h + 2] == 0x69, b[h + 3] == 0x66,
                  let a = be32(h + 20), let s = be32(h + 24), let l = be32(h + 28), let t = be32(h + 32),
                  let ty = be32(h + 36), let c = be32(h + 40), a >= 0, s >= 0, l >= 0, t >= 0, ty >= 0, c >= 0 else { return nil }
            return (a, s, l, t, ty, c)
        }
        guard var h = header(at: 0) else { return [] }
        var start = 44
        var timeSize = 4
        if b[4] >= 0x32 {
            // Skip the 32-bit block to reach the 64-bit one.
            let v1 = h.timecnt * 5 + h.typecnt * 6 + h.charcnt + h.leapcnt * 8 + h.isstdcnt + h.isutcnt
            guard let h2 = header(at: 44 + v1) else { return [] }
            h = h2
            start = 44 + v1 + 44
            timeSize = 8
        }
        let types = start + h.timecnt * timeSize + h.timecnt
        let chars = types + h.typecnt * 6
        guard chars + h.charcnt <= b.count else { return [] }
        var out: [Entry] = []
        for k in 0..<h.typecnt {
            let p = types + k * 6
            guard let offset = be32(p) else { return out }
            let index = min(Int(b[p + 5]), h.charcnt)
            let nameBytes = b[(chars + index)..<(chars + h.charcnt)].prefix { $0 != 0 }
            out.append(Entry(offset: offset, isDaylight: b[p + 4] != 0, name: String(decoding: nameBytes, as: UTF8.self)))
        }
        // Rank each type by its last transition, so that later-used types come last.
        var lastUse = [Int](repeating: -1, count: out.count)
        let indices = start + h.timecnt * timeSize
        for t in 0..<h.timecnt where indices + t < b.count {
            let type = Int(b[indices + t])
            if type < lastUse.count { lastUse[type] = t }
        }
        return out.indices.sorted { lastUse[$0] < lastUse[$1] }.map { out[$0] }
    }
}
