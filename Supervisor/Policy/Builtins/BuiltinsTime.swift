import BigInt

/// Time builtins. Instants are nanoseconds since the epoch (Int64, as in OPA); an operand
/// may also be `[ns, "zone"]` (and for `time.format` `[ns, "zone", "layout"]`), where the
/// zone is "" or "UTC", "Local", or an IANA name.
extension BuiltinRegistry {
    static let timeBuiltins: [Builtin] = [
        Builtin("time.now_ns", arity: 0, nondeterministic: true) { _, context in
            .number(Number(context.nowNanoseconds))
        },
        Builtin("time.parse_rfc3339_ns", arity: 1) { args, _ in
            try parsedNanos(layout: "2006-01-02T15:04:05Z07:00", value: try args.string(0))
        },
        Builtin("time.parse_ns", arity: 2) { args, _ in
            try parsedNanos(layout: try args.string(0), value: try args.string(1))
        },
        Builtin("time.parse_duration_ns", arity: 1) { args, _ in
            .number(Number(try GoDuration.parse(try args.string(0))))
        },
        Builtin("time.date", arity: 1) { args, _ in
            let f = try zonedTime(args[0]).time.fields
            return .array([Value(f.year), Value(f.month), Value(f.day)])
        },
        Builtin("time.clock", arity: 1) { args, _ in
            let f = try zonedTime(args[0]).time.fields
            return .array([Value(f.hour), Value(f.minute), Value(f.second)])
        },
        Builtin("time.weekday", arity: 1) { args, _ in
            .string(GoLayout.longDays[try zonedTime(args[0]).time.fields.weekday])
        },
        Builtin("time.add_date", arity: 4) { args, _ in
            let t = try zonedTime(args[0]).time
            let years = try args.integer(1), months = try args.integer(2), days = try args.integer(3)
            // Beyond these the result is far outside the Int64 nanosecond range anyway.
            guard abs(years) < 1_000_000, abs(months) < 12_000_000, abs(days) < 400_000_000 else {
                throw BuiltinError.evaluation("time outside of valid range")
            }
            let f = t.fields
            let localDays = CivilFields.Calendar.days(fromCivil: f.year + years, f.month + months, f.day + days)
            let local = localDays * 86_400 + Int64(f.hour * 3600 + f.minute * 60 + f.second)
            let result = GoTime(seconds: t.zone.unixSeconds(localSeconds: local), nanos: t.nanos, zone: t.zone)
            guard let ns = result.unixNanos else { throw BuiltinError.evaluation("time outside of valid range") }
            return .number(Number(Int(ns)))
        },
        Builtin("time.diff", arity: 2) { args, _ in
            var a = try zonedTime(args[0]).time
            var b = try zonedTime(args[1]).time
            b.zone = a.zone
            if (a.seconds, a.nanos) > (b.seconds, b.nanos) { swap(&a, &b) }
            let x = a.fields, y = b.fields
            var year = y.year - x.year, month = y.month - x.month, day = y.day - x.day
            var hour = y.hour - x.hour, minute = y.minute - x.minute, second = y.second - x.second
            if second < 0 { second += 60; minute -= 1 }
            if minute < 0 { minute += 60; hour -= 1 }
            if hour < 0 { hour += 24; day -= 1 }
            if day < 0 {
                day += CivilFields.Calendar.daysIn(month: x.month, year: x.year)
                month -= 1
            }
            if month < 0 { month += 12; year -= 1 }
            return .array([year, month, day, hour, minute, second].map { Value($0) })
        },
        Builtin("time.format", arity: 1) { args, _ in
            let (t, layout) = try zonedTime(args[0])
            return .string(GoLayout.format(t, layout: layout))
        },
    ]

    static func parsedNanos(layout: String, value: String) throws -> Value {
        let t: GoTime
        do { t = try GoLayout.parse(layout: layout, value: value) } catch let e as GoLayout.ParseError {
            throw BuiltinError.evaluation(e.message)
        }
        guard let ns = t.unixNanos else { throw BuiltinError.evaluation("time outside of valid range") }
        return .number(Number(Int(ns)))
    }

    /// OPA's time operand: `ns`, `[ns]`, `[ns, zone]` or `[ns, zone, layout]`; the layout
    /// (RFC 3339 with nanoseconds by default) may be a Go layout constant's name.
    static func zonedTime(_ operand: Value) throws -> (time: GoTime, layout: String) {
        let expected = "either number (ns) or [number (ns), string (tz)]"
        var nanos: Number
        var zone = GoZone.utc
        var layout = "2006-01-02T15:04:05.999999999Z07:00"
        switch operand {
        case .number(let n): nanos = n
        case .array(let items):
            guard let first = items.first else { throw BuiltinError.operand(1, expected: expected, got: operand) }
            guard case .number(let n) = first else { throw BuiltinError.operand(1, expected: "number", got: first) }
            nanos = n
            if items.count > 1 {
                guard case .string(let name) = items[1] else { throw BuiltinError.operand(1, expected: "string", got: items[1]) }
                zone = try GoZone.named(name)
            }
            if items.count > 2 {
                guard case .string(let l) = items[2] else { throw BuiltinError.operand(1, expected: "string", got: items[2]) }
                layout = GoLayout.resolve(l)
            }
        default: throw BuiltinError.operand(1, expected: expected, got: operand)
        }
        guard let ns = nanos.int else { throw BuiltinError.evaluation("timestamp too big") }
        return (GoTime(unixNanos: Int64(ns), zone: zone), layout)
    }
}

/// Go's `time.ParseDuration`: `300ms`, `-1.5h`, `2h45m`; units ns, us (µs, μs), ms, s, m, h.
enum GoDuration {
    static let units: [(String, BigInt)] = [
        ("ns", 1), ("us", 1_000), ("µs", 1_000), ("μs", 1_000), ("ms", 1_000_000),
        ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000),
    ]

    static func parse(_ text: String) throws -> Int {
        let quoted = GoFormatter.quote(text)
        func invalid() -> BuiltinError { BuiltinError.evaluation("time: invalid duration \(quoted)") }
        var s = Substring(text)
        var negative = false
        if let c = s.first, c == "-" || c == "+" { negative = c == "-"; s = s.dropFirst() }
        if s == "0" { return 0 }
        guard !s.isEmpty else { throw invalid() }
        var total = BigInt(0)
        while !s.isEmpty {
            let whole = s.prefix { $0.isASCII && $0.isNumber }
            s = s.dropFirst(whole.count)
            var fraction: Substring = ""
            if s.first == "." {
                s = s.dropFirst()
                fraction = s.prefix { $0.isASCII && $0.isNumber }
                s = s.dropFirst(fraction.count)
            }
            guard !whole.isEmpty || !fraction.isEmpty else { throw invalid() }
            let unitText = s.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard !unitText.isEmpty else { throw BuiltinError.evaluation("time: missing unit in duration \(quoted)") }
            guard let unit = units.first(where: { $0.0 == String(unitText) })?.1 else {
                throw BuiltinError.evaluation("time: unknown unit \(GoFormatter.quote(String(unitText))) in duration \(quoted)")
            }
            s = s.dropFirst(unitText.count)
            total += (BigInt(String(whole), radix: 10) ?? 0) * unit
            if !fraction.isEmpty, let f = BigInt(String(fraction), radix: 10) {
                total += f * unit / BigInt(10).power(fraction.count)
            }
        }
        if negative { total = -total }
        guard let v = Int(exactly: total), Int64(exactly: v) != nil else { throw invalid() }
        return v
    }
}
