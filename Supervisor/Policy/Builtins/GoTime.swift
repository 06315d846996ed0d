import BigInt
import Foundation

/// Go's `time` package, as far as OPA's time builtins need it: instants with nanoseconds,
/// zones (UTC, Local, IANA names through Foundation's `TimeZone`), proleptic Gregorian
/// calendar arithmetic, and reference-time layouts (`2006-01-02T15:04:05Z07:00`) for
/// formatting and parsing.
struct GoTime {
    /// Seconds since the Unix epoch.
    var seconds: Int64
    /// Nanoseconds within the second, 0 ..< 1e9.
    var nanos: Int64
    var zone: GoZone

    init(seconds: Int64, nanos: Int64, zone: GoZone) {
        self.seconds = seconds
        self.nanos = nanos
        self.zone = zone
    }

    /// The instant `ns` nanoseconds after the epoch.
    init(unixNanos ns: Int64, zone: GoZone) {
        var s = ns / 1_000_000_000
        var n = ns % 1_000_000_000
        if n < 0 { n += 1_000_000_000; s -= 1 }
        self.init(seconds: s, nanos: n, zone: zone)
    }

    /// Nanoseconds since the epoch, or nil outside Int64 (OPA: "time outside of valid range").
    var unixNanos: Int64? {
        let total = BigInt(seconds) * 1_000_000_000 + BigInt(nanos)
        return Int64(exactly: total)
    }

    var offset: Int { zone.offset(at: seconds) }

    /// Broken-down local fields.
    var fields: CivilFields { CivilFields(localSeconds: seconds + Int64(offset)) }
}

/// Year … second of a local time, plus weekday (0 = Sunday) and day of the year (1-based).
struct CivilFields {
    var year: Int, month: Int, day: Int
    var hour: Int, minute: Int, second: Int
    var weekday: Int, yearDay: Int

    init(localSeconds: Int64) {
        var days = localSeconds / 86_400
        var rest = localSeconds % 86_400
        if rest < 0 { rest += 86_400; days -= 1 }
        (year, month, day) = Calendar.civil(fromDays: days)
        hour = Int(rest / 3600); minute = Int(rest / 60 % 60); second = Int(rest % 60)
        weekday = Int(((days % 7) + 11) % 7)  // 1970-01-01 was a Thursday (4).
        yearDay = Int(days - Calendar.days(fromCivil: year, 1, 1)) + 1
    }

    enum Calendar {
        /// Days since 1970-01-01 of a proleptic Gregorian date; months and days may overflow.
        static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int64 {
            // Normalize the month first (Go's Date does the same).
            var y = Int64(year), m = Int64(month) - 1
            y += m >= 0 ? m / 12 : (m - 11) / 12
            m = ((m % 12) + 12) % 12 + 1
            let yy = m <= 2 ? y - 1 : y
            let era = (yy >= 0 ? yy : yy - 399) / 400
            let yoe = yy - era * 400
            let mp = (m + 9) % 12
            let doy = (153 * mp + 2) / 5
            let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
            return era * 146_097 + doe - 719_468 + Int64(day) - 1
        }

        static func civil(fromDays z0: Int64) -> (Int, Int, Int) {
            let z = z0 + 719_468
            let era = (z >= 0 ? z : z - 146_096) / 146_097
            let doe = z - era * 146_097
            let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
            let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
            let mp = (5 * doy + 2) / 153
            let d = doy - (153 * mp + 2) / 5 + 1
            let m = mp < 10 ? mp + 3 : mp - 9
            return (Int(yoe + era * 400 + (m <= 2 ? 1 : 0)), Int(m), Int(d))
        }

        static func daysIn(month: Int, year: Int) -> Int {
            Int(days(fromCivil: year, month + 1, 1) - days(fromCivil: year, month, 1))
        }
    }
}

/// A time zone: UTC, a fixed offset, or a Foundation zone (Local or an IANA name).
struct GoZone: @unchecked Sendable {
    // TimeZone is a value type that is safe to read from several threads.
    enum Kind {
        case utc
        case fixed(name: String, offset: Int)
        case named(TimeZone)
    }

    var kind: Kind

    static let utc = GoZone(kind: .utc)

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [String: GoZone] = [:]

    /// OPA's zone names: "" and "UTC" are UTC, "Local" the machine's zone, others IANA.
    static func named(_ name: String) throws -> GoZone {
        switch name {
        case "", "UTC": return .utc
        case "Local": return GoZone(kind: .named(TimeZone.current))
        default:
            lock.lock()
            defer { lock.unlock() }
            if let z = cache[name] { return z }
            guard let tz = TimeZone(identifier: name) else { throw BuiltinError.evaluation("unknown time zone \(name)") }
            let z = GoZone(kind: .named(tz))
            cache[name] = z
            return z
        }
    }

    func offset(at seconds: Int64) -> Int {
        switch kind {
        case .utc: return 0
        case .fixed(_, let o): return o
        case .named(let tz): return tz.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds)))
        }
    }

    /// The abbreviation `MST` prints (empty when none is known).
    func abbreviation(at seconds: Int64) -> String {
        switch kind {
        case .utc: return "UTC"
        case .fixed(let name, _): return name
        case .named(let tz):
            let date = Date(timeIntervalSince1970: TimeInterval(seconds))
            return ZoneAbbreviations.name(identifier: tz.identifier, offset: tz.secondsFromGMT(for: date),
                                          isDaylight: tz.isDaylightSavingTime(for: date)) ?? ""
        }
    }

    /// Seconds since the epoch of a local wall-clock time in this zone (Go's `time.Date`).
    func unixSeconds(localSeconds: Int64) -> Int64 {
        // Guess with the offset at the naive instant, then correct once (as Go does).
        let guess = localSeconds - Int64(offset(at: localSeconds))
        let corrected = localSeconds - Int64(offset(at: guess))
        return corrected
    }
}

/// Reference-time layouts: `Mon Jan 2 15:04:05 MST 2006`.
enum GoLayout {
    /// Layout constants OPA accepts by name.
    static let named: [String: String] = [
        "ANSIC": "Mon Jan _2 15:04:05 2006",
        "UnixDate": "Mon Jan _2 15:04:05 MST 2006",
        "RubyDate": "Mon Jan 02 15:04:05 -0700 2006",
        "RFC822": "02 Jan 06 15:04 MST",
        "RFC822Z": "02 Jan 06 15:04 -0700",
        "RFC850": "Monday, 02-Jan-06 15:04:05 MST",
        "RFC1123": "Mon, 02 Jan 2006 15:04:05 MST",
        "RFC1123Z": "Mon, 02 Jan 2006 15:04:05 -0700",
        "RFC3339": "2006-01-02T15:04:05Z07:00",
        "RFC3339Nano": "2006-01-02T15:04:05.999999999Z07:00",
        "Kitchen": "3:04PM",
        "Stamp": "Jan _2 15:04:05",
        "StampMilli": "Jan _2 15:04:05.000",
        "StampMicro": "Jan _2 15:04:05.000000",
        "StampNano": "Jan _2 15:04:05.000000000",
        "DateTime": "2006-01-02 15:04:05",
        "DateOnly": "2006-01-02",
        "TimeOnly": "15:04:05",
    ]

    static func resolve(_ layout: String) -> String { named[layout] ?? layout }

    static let longMonths = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
    static let longDays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

    enum Std: Equatable {
        case longMonth, month, numMonth, zeroMonth
        case longWeekDay, weekDay
        case day, underDay, zeroDay, underYearDay, zeroYearDay
        case hour, hour12, zeroHour12, minute, zeroMinute, second, zeroSecond
        case longYear, year, pm, lowerPM, tz
        case iso8601TZ, iso8601SecondsTZ, iso8601ShortTZ, iso8601ColonTZ, iso8601ColonSecondsTZ
        case numTZ, numSecondsTZ, numShortTZ, numColonTZ, numColonSecondsTZ
        case fraction0(digits: Int, separator: Character), fraction9(digits: Int, separator: Character)
    }

    enum Chunk: Equatable {
        case literal(String)
        case std(Std, text: String)
    }

    /// Splits a layout into literals and elements, as Go's `nextStdChunk`.
    static func chunks(_ layout: String) -> [Chunk] {
        let s = Array(layout)
        var out: [Chunk] = []
        var literal = ""
        var i = 0
        func has(_ text: String, at j: Int) -> Bool {
            let t = Array(text)
            return j + t.count <= s.count && Array(s[j..<(j + t.count)]) == t
        }
        func lowerAt(_ j: Int) -> Bool { j < s.count && s[j].isASCII && s[j].isLowercase }
        func digitAt(_ j: Int) -> Bool { j < s.count && s[j].isASCII && s[j].isNumber }
        while i < s.count {
            var found: (Std, Int)?
            switch s[i] {
            case "J":
                if has("January", at: i) { found = (.longMonth, 7) } else if has("Jan", at: i), !lowerAt(i + 3) { found = (.month, 3) }
            case "M":
                if has("Monday", at: i) { found = (.longWeekDay, 6) } else if has("Mon", at: i), !lowerAt(i + 3) { found = (.weekDay, 3) } else if has("MST", at: i) { found = (.tz, 3) }
            case "0":
                if i + 1 < s.count, let d = s[i + 1].wholeNumberValue, (1...6).contains(d) {
                    found = ([.zeroMonth, .zeroDay, .zeroHour12, .zeroMinute, .zeroSecond, .year][d - 1], 2)
                } else if has("002", at: i) { found = (.zeroYearDay, 3) }
            case "1":
                found = has("15", at: i) ? (.hour, 2) : (.numMonth, 1)
            case "2":
                found = has("2006", at: i) ? (.longYear, 4) : (.day, 1)
            case "_":
                if has("_2", at: i) {
                    if has("_2006", at: i) { literal.append("_"); i += 1; found = (.longYear, 4) } else { found = (.underDay, 2) }
                } else if has("__2", at: i) { found = (.underYearDay, 3) }
            case "3": found = (.hour12, 1)
            case "4": found = (.minute, 1)
            case "5": found = (.second, 1)
            case "P": if has("PM", at: i) { found = (.pm, 2) }
            case "p": if has("pm", at: i) { found = (.lowerPM, 2) }
            case "-":
                if has("-070000", at: i) { found = (.numSecondsTZ, 7) } else if has("-07:00:00", at: i) { found = (.numColonSecondsTZ, 9) } else if has("-0700", at: i) { found = (.numTZ, 5) } else if has("-07:00", at: i) { found = (.numColonTZ, 6) } else if has("-07", at: i) { found = (.numShortTZ, 3) }
            case "Z":
                if has("Z070000", at: i) { found = (.iso8601SecondsTZ, 7) } else if has("Z07:00:00", at: i) { found = (.iso8601ColonSecondsTZ, 9) } else if has("Z0700", at: i) { found = (.iso8601TZ, 5) } else if has("Z07:00", at: i) { found = (.iso8601ColonTZ, 6) } else if has("Z07", at: i) { found = (.iso8601ShortTZ, 3) }
            case ".", ",":
                if i + 1 < s.count, s[i + 1] == "0" || s[i + 1] == "9" {
                    let ch = s[i + 1]
                    var j = i + 1
                    while j < s.count, s[j] == ch { j += 1 }
                    if !digitAt(j) {
                        let n = j - i - 1
                        found = (ch == "0" ? .fraction0(digits: n, separator: s[i]) : .fraction9(digits: n, separator: s[i]), j - i)
                    }
                }
            default: break
            }
            if let (std, length) = found {
                if !literal.isEmpty { out.append(.literal(literal)); literal = "" }
                out.append(.std(std, text: String(s[i..<(i + length)])))
                i += length
            } else {
                literal.append(s[i])
                i += 1
            }
        }
        if !literal.isEmpty { out.append(.literal(literal)) }
        return out
    }

    // MARK: Formatting

    static func format(_ t: GoTime, layout: String) -> String {
        let f = t.fields
        let offset = t.offset
        var out = ""
        func pad(_ v: Int, _ width: Int, _ fill: Character = "0") -> String {
            var s = String(abs(v))
            while s.count < width { s.insert(fill, at: s.startIndex) }
            return v < 0 ? "-" + s : s
        }
        func zoneText(_ std: Std) -> String {
            let iso: Bool
            switch std {
            case .iso8601TZ, .iso8601SecondsTZ, .iso8601ShortTZ, .iso8601ColonTZ, .iso8601ColonSecondsTZ: iso = true
            default: iso = false
            }
            if iso && offset == 0 { return "Z" }
            var zone = offset / 60
            var absOffset = offset
            var text = ""
            if zone < 0 { text = "-"; zone = -zone; absOffset = -absOffset } else { text = "+" }
            text += pad(zone / 60, 2)
            switch std {
            case .iso8601ColonTZ, .numColonTZ, .iso8601ColonSecondsTZ, .numColonSecondsTZ: text += ":"
            default: break
            }
            switch std {
            case .numShortTZ, .iso8601ShortTZ: break
            default: text += pad(zone % 60, 2)
            }
            switch std {
            case .iso8601SecondsTZ, .numSecondsTZ: text += pad(absOffset % 60, 2)
            case .iso8601ColonSecondsTZ, .numColonSecondsTZ: text += ":" + pad(absOffset % 60, 2)
            default: break
            }
            return text
        }
        for chunk in chunks(layout) {
            switch chunk {
            case .literal(let s): out += s
            case .std(let std, _):
                switch std {
                case .year: out += pad(((f.year % 100) + 100) % 100, 2)
                case .longYear: out += pad(f.year, 4)
                case .month: out += String(longMonths[f.month - 1].prefix(3))
                case .longMonth: out += longMonths[f.month - 1]
                case .numMonth: out += String(f.month)
                case .zeroMonth: out += pad(f.month, 2)
                case .weekDay: out += String(longDays[f.weekday].prefix(3))
                case .longWeekDay: out += longDays[f.weekday]
                case .day: out += String(f.day)
                case .underDay: out += pad(f.day, 2, " ")
                case .zeroDay: out += pad(f.day, 2)
                case .underYearDay: out += pad(f.yearDay, 3, " ")
                case .zeroYearDay: out += pad(f.yearDay, 3)
                case .hour: out += pad(f.hour, 2)
                case .hour12: out += String(f.hour % 12 == 0 ? 12 : f.hour % 12)
                case .zeroHour12: out += pad(f.hour % 12 == 0 ? 12 : f.hour % 12, 2)
                case .minute: out += String(f.minute)
                case .zeroMinute: out += pad(f.minute, 2)
                case .second: out += String(f.second)
                case .zeroSecond: out += pad(f.second, 2)
                case .pm: out += f.hour >= 12 ? "PM" : "AM"
                case .lowerPM: out += f.hour >= 12 ? "pm" : "am"
                case .tz:
                    let name = t.zone.abbreviation(at: t.seconds)
                    if !name.isEmpty {
                        out += name
                    } else {
                        // No abbreviation: Go prints the numeric offset.
                        out += zoneText(.numTZ)
                    }
                case .fraction0(let n, let sep):
                    out.append(sep)
                    out += String(pad(Int(t.nanos), 9).prefix(n))
                case .fraction9(let n, let sep):
                    var digits = String(pad(Int(t.nanos), 9).prefix(n))
                    while digits.last == "0" { digits.removeLast() }
                    if !digits.isEmpty { out.append(sep); out += digits }
                default:
                    out += zoneText(std)
                }
            }
        }
        return out
    }

    // MARK: Parsing

    struct ParseError: Error {
        var message: String
    }

    /// Go's `time.Parse(layout, value)` (zone-less values are UTC).
    static func parse(layout rawLayout: String, value: String) throws -> GoTime {
        let layout = resolve(rawLayout)
        var rest = Substring(value)
        var year = 1, month = -1, day = -1, yearDay = -1
        var hour = 0, minute = 0, second = 0, nanos: Int64 = 0
        var pmSet = false, amSet = false
        var zoneOffset: Int?
        var zoneName: String?
        func fail(_ elem: String, _ text: Substring, _ extra: String = "") -> ParseError {
            if !extra.isEmpty {
                return ParseError(message: "parsing time \(GoFormatter.quote(value))\(extra)")
            }
            return ParseError(message: "parsing time \(GoFormatter.quote(value)) as \(GoFormatter.quote(layout)): cannot parse \(GoFormatter.quote(String(text))) as \(GoFormatter.quote(elem))")
        }
        func number(_ fixed: Bool, _ elem: String) throws -> Int {
            let chars = Array(rest.prefix(2))
            guard let c0 = chars.first, c0.isASCII, let d0 = c0.wholeNumberValue else { throw fail(elem, rest) }
            if chars.count > 1, chars[1].isASCII, let d1 = chars[1].wholeNumberValue {
                rest = rest.dropFirst(2)
                return d0 * 10 + d1
            }
            guard !fixed else { throw fail(elem, rest) }
            rest = rest.dropFirst()
            return d0
        }
        func digits(_ n: Int, _ elem: String) throws -> Int {
            let p = rest.prefix(n)
            guard p.count == n, p.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(p) else { throw fail(elem, rest) }
            rest = rest.dropFirst(n)
            return v
        }
        func lookup(_ names: [String], _ elem: String) throws -> Int {
            for (i, name) in names.enumerated() where rest.count >= name.count {
                if rest.prefix(name.count).lowercased() == name.lowercased() { rest = rest.dropFirst(name.count); return i }
            }
            throw fail(elem, rest)
        }
        let chunkList = chunks(layout)
        for (index, chunk) in chunkList.enumerated() {
            switch chunk {
            case .literal(let lit):
                guard let after = skipLiteral(lit, in: rest) else { throw fail(lit, rest) }
                rest = after
            case .std(let std, let elem):
                let before = rest
                switch std {
                case .year:
                    let y = try digits(2, elem)
                    year = y >= 69 ? y + 1900 : y + 2000
                case .longYear:
                    year = try digits(4, elem)
                case .month: month = try lookup(longMonths.map { String($0.prefix(3)) }, elem) + 1
                case .longMonth: month = try lookup(longMonths, elem) + 1
                case .numMonth, .zeroMonth:
                    month = try number(std == .zeroMonth, elem)
                    guard (1...12).contains(month) else { throw fail(elem, before, ": month out of range") }
                case .weekDay: _ = try lookup(longDays.map { String($0.prefix(3)) }, elem)
                case .longWeekDay: _ = try lookup(longDays, elem)
                case .day, .underDay, .zeroDay:
                    if std == .underDay, rest.first == " " { rest = rest.dropFirst() }
                    day = try number(std == .zeroDay, elem)
                case .underYearDay, .zeroYearDay:
                    var n = 0
                    for k in 0..<3 {
                        if std == .underYearDay, n == 0, rest.first == " ", k < 2 { rest = rest.dropFirst(); continue }
                        guard let c = rest.first, c.isASCII, let d = c.wholeNumberValue else { throw fail(elem, before) }
                        n = n * 10 + d; rest = rest.dropFirst()
                    }
                    yearDay = n
                case .hour:
                    hour = try number(false, elem)
                    guard hour < 24 else { throw fail(elem, before, ": hour out of range") }
                case .hour12, .zeroHour12:
                    hour = try number(std == .zeroHour12, elem)
                    guard hour <= 12 else { throw fail(elem, before, ": hour out of range") }
                case .minute, .zeroMinute:
                    minute = try number(std == .zeroMinute, elem)
                    guard minute < 60 else { throw fail(elem, before, ": minute out of range") }
                case .second, .zeroSecond:
                    second = try number(std == .zeroSecond, elem)
                    guard second < 60 else { throw fail(elem, before, ": second out of range") }
                    // A fraction in the value that the layout does not spell out is accepted.
                    var nextIsFraction = false
                    if index + 1 < chunkList.count, case .std(let next, _) = chunkList[index + 1] {
                        switch next { case .fraction0, .fraction9: nextIsFraction = true; default: break }
                    }
                    if !nextIsFraction, let sep = rest.first, sep == "." || sep == ",",
                       rest.dropFirst().first?.isNumber == true {
                        nanos = fractionNanos(&rest)
                    }
                case .pm, .lowerPM:
                    let p = rest.prefix(2).uppercased()
                    guard p == "PM" || p == "AM", rest.count >= 2 else { throw fail(elem, rest) }
                    if p == "PM" { pmSet = true } else { amSet = true }
                    rest = rest.dropFirst(2)
                case .tz:
                    if rest.hasPrefix("UTC") { rest = rest.dropFirst(3); zoneName = "UTC"; zoneOffset = 0; break }
                    let letters = rest.prefix { $0.isASCII && $0.isUppercase }
                    guard letters.count >= 3 else { throw fail(elem, rest) }
                    zoneName = String(letters)
                    rest = rest.dropFirst(letters.count)
                case .fraction0(let n, _):
                    guard let sep = rest.first, sep == "." || sep == ",", rest.count > n,
                          rest.dropFirst().prefix(n).allSatisfy({ $0.isASCII && $0.isNumber }) else { throw fail(elem, rest) }
                    nanos = fractionNanos(&rest, maxDigits: n)
                case .fraction9:
                    if let sep = rest.first, sep == "." || sep == ",", rest.dropFirst().first?.isNumber == true {
                        nanos = fractionNanos(&rest)
                    }
                default:
                    // Numeric and ISO 8601 zones.
                    let iso: Bool
                    switch std {
                    case .iso8601TZ, .iso8601SecondsTZ, .iso8601ShortTZ, .iso8601ColonTZ, .iso8601ColonSecondsTZ: iso = true
                    default: iso = false
                    }
                    if iso, rest.first == "Z" { rest = rest.dropFirst(); zoneOffset = 0; zoneName = "UTC"; break }
                    guard let sign = rest.first, sign == "+" || sign == "-" else { throw fail(elem, rest) }
                    rest = rest.dropFirst()
                    let hh = try digits(2, elem)
                    var mm = 0, ss = 0
                    let colon: Bool
                    switch std {
                    case .iso8601ColonTZ, .numColonTZ, .iso8601ColonSecondsTZ, .numColonSecondsTZ: colon = true
                    default: colon = false
                    }
                    let hasMinutes: Bool
                    switch std { case .numShortTZ, .iso8601ShortTZ: hasMinutes = false; default: hasMinutes = true }
                    if hasMinutes {
                        if colon { guard rest.first == ":" else { throw fail(elem, before) }; rest = rest.dropFirst() }
                        mm = try digits(2, elem)
                    }
                    switch std {
                    case .iso8601SecondsTZ, .numSecondsTZ: ss = try digits(2, elem)
                    case .iso8601ColonSecondsTZ, .numColonSecondsTZ:
                        guard rest.first == ":" else { throw fail(elem, before) }
                        rest = rest.dropFirst()
                        ss = try digits(2, elem)
                    default: break
                    }
                    guard hh <= 24, mm < 60, ss < 60 else { throw fail(elem, before, ": time zone offset out of range") }
                    let total = hh * 3600 + mm * 60 + ss
                    zoneOffset = sign == "-" ? -total : total
                }
            }
        }
        guard rest.isEmpty else { throw fail("", rest, ": extra text: \(GoFormatter.quote(String(rest)))") }
        if pmSet, hour < 12 { hour += 12 } else if amSet, hour == 12 { hour = 0 }
        if yearDay >= 0 {
            guard yearDay >= 1, yearDay <= (CivilFields.Calendar.daysIn(month: 2, year: year) == 29 ? 366 : 365) else {
                throw fail("", "", ": day-of-year out of range")
            }
            if month < 0 {
                let days = CivilFields.Calendar.days(fromCivil: year, 1, 1) + Int64(yearDay) - 1
                let c = CivilFields.Calendar.civil(fromDays: days)
                month = c.1; day = c.2
            }
        }
        if month < 0 { month = 1 }
        if day < 0 { day = 1 }
        guard day >= 1, day <= CivilFields.Calendar.daysIn(month: month, year: year) else {
            throw fail("", "", ": day out of range")
        }
        let local = CivilFields.Calendar.days(fromCivil: year, month, day) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        var zone = GoZone.utc
        if let o = zoneOffset, o != 0 || zoneName != "UTC" { zone = GoZone(kind: .fixed(name: zoneName ?? "", offset: o)) }
        return GoTime(seconds: local - Int64(zoneOffset ?? 0), nanos: nanos, zone: zone)
    }

    /// Reads `.123456789` (a separator and digits) as nanoseconds; digits past nine are dropped.
    static func fractionNanos(_ rest: inout Substring, maxDigits: Int = .max) -> Int64 {
        rest = rest.dropFirst()
        var value: Int64 = 0
        var count = 0
        while let c = rest.first, c.isASCII, let d = c.wholeNumberValue, count < maxDigits {
            if count < 9 { value = value * 10 + Int64(d) }
            count += 1
            rest = rest.dropFirst()
        }
        for _ in min(count, 9)..<9 { value *= 10 }
        return value
    }

    /// Go's `skip`: matches a literal, where a run of spaces matches any run of spaces.
    static func skipLiteral(_ literal: String, in value: Substring) -> Substring? {
        var v = value
        var l = Substring(literal)
        while let c = l.first {
            if c == " " {
                guard v.first == " " else { return nil }
                while l.first == " " { l = l.dropFirst() }
                while v.first == " " { v = v.dropFirst() }
                continue
            }
            guard v.first == c else { return nil }
            v = v.dropFirst(); l = l.dropFirst()
        }
        return v
    }
}
