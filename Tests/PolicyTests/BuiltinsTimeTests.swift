import Testing
@testable import Policy

@Suite("Builtins: time")
struct BuiltinsTimeTests {
    @Test("time.now_ns answers the context's instant")
    func now() throws {
        #expect(try callBuiltin("time.now_ns", now: 1_234) == 1_234)
        #expect(BuiltinRegistry.standard["time.now_ns"]?.isNondeterministic == true)
    }

    @Test("parse_rfc3339_ns and parse_ns cover the whole Int64 range")
    func parsing() throws {
        #expect(try callBuiltin("time.parse_rfc3339_ns", "2017-06-02T19:00:00-07:00") == 1_496_455_200_000_000_000)
        #expect(try callBuiltin("time.parse_rfc3339_ns", "1677-09-21T00:12:43.145224192-00:00") == .number(Number(Int.min)))
        #expect(try callBuiltin("time.parse_rfc3339_ns", "2262-04-11T23:47:16.854775807-00:00") == .number(Number(Int.max)))
        #expect(builtinError("time.parse_rfc3339_ns", "2262-04-11T23:47:16.854775808-00:00")?.message == "time outside of valid range")
        #expect(try callBuiltin("time.parse_ns", "01/02 03:04:05PM '06 -0700", "06/02 07:00:00PM '17 -0700") == 1_496_455_200_000_000_000)
        #expect(try callBuiltin("time.parse_ns", "RFC822Z", "02 Jun 17 19:00 -0700") == 1_496_455_200_000_000_000)
        #expect(try callBuiltin("time.parse_ns", "2006-01-02", "2020-02-29") == 1_582_934_400_000_000_000)
        #expect(builtinError("time.parse_ns", "2006-01-02", "2021-02-29")?.message.contains("day out of range") == true)
        #expect(builtinError("time.parse_rfc3339_ns", "yesterday")?.message
                == "parsing time \"yesterday\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"yesterday\" as \"2006\"")
    }

    @Test("parse_duration_ns reads Go durations")
    func durations() throws {
        #expect(try callBuiltin("time.parse_duration_ns", "100ms") == 100_000_000)
        #expect(try callBuiltin("time.parse_duration_ns", "1h30m") == 5_400_000_000_000)
        #expect(try callBuiltin("time.parse_duration_ns", "-1.5h") == -5_400_000_000_000)
        #expect(try callBuiltin("time.parse_duration_ns", "1µs") == 1_000)
        #expect(builtinError("time.parse_duration_ns", "10")?.message == "time: missing unit in duration \"10\"")
        #expect(builtinError("time.parse_duration_ns", "1x")?.message == "time: unknown unit \"x\" in duration \"1x\"")
    }

    @Test("date, clock and weekday in UTC and in named zones")
    func fields() throws {
        let ns = 1_517_814_000 * 1_000_000_000
        #expect(try callBuiltin("time.date", .number(Number(ns))) == [2018, 2, 5])
        #expect(try callBuiltin("time.date", [.number(Number(ns)), "America/Los_Angeles"]) == [2018, 2, 4])
        #expect(try callBuiltin("time.clock", [1_517_832_000_000_000_000, "America/New_York"]) == [7, 0, 0])
        #expect(try callBuiltin("time.weekday", 1_517_832_000_000_000_000) == "Monday")
        #expect(try callBuiltin("time.weekday", -1) == "Wednesday")
        #expect(builtinError("time.date", .number(Number(parsing: "15829776000000000000000")!))?.message == "timestamp too big")
        #expect(builtinError("time.date", [0, "Mars/Olympus"])?.message == "unknown time zone Mars/Olympus")
    }

    @Test("add_date normalizes like Go's AddDate")
    func addDate() throws {
        #expect(try callBuiltin("time.add_date", 1_585_852_421_593_912_000, 3, 9, 12) == 1_705_257_221_593_912_000)
        #expect(try callBuiltin("time.add_date", 1_585_852_421_593_912_000, -1, -1, -1) == 1_551_465_221_593_912_000)
        // 2021-01-31 plus one month is 2021-03-03.
        #expect(try callBuiltin("time.add_date", 1_612_051_200_000_000_000, 0, 1, 0) == 1_614_729_600_000_000_000)
        #expect(builtinError("time.add_date", 0, 2262, 1, 1)?.message == "time outside of valid range")
    }

    @Test("diff counts calendar units between two instants")
    func diff() throws {
        let feb2 = try #require(try callBuiltin("time.parse_ns", "2006-01-02", "2020-02-02"))
        let mar1 = try #require(try callBuiltin("time.parse_ns", "2006-01-02", "2020-03-01"))
        #expect(try callBuiltin("time.diff", feb2, mar1) == [0, 0, 28, 0, 0, 0])
        let a = try #require(try callBuiltin("time.parse_ns", "2006-01-02", "2004-02-29"))
        let b = try #require(try callBuiltin("time.parse_ns", "2006-01-02", "2005-03-01"))
        #expect(try callBuiltin("time.diff", b, a) == [1, 0, 1, 0, 0, 0])
        #expect(try callBuiltin("time.diff", [61_000_000_000, "UTC"], [0, "Asia/Shanghai"]) == [0, 0, 0, 0, 1, 1])
    }

    @Test("format with Go layouts, zones and layout names")
    func format() throws {
        let ns: Value = 1_670_006_453_141_828_752
        #expect(try callBuiltin("time.format", ns) == "2022-12-02T18:40:53.141828752Z")
        #expect(try callBuiltin("time.format", [ns, "Asia/Kolkata"]) == "2022-12-03T00:10:53.141828752+05:30")
        #expect(try callBuiltin("time.format", [ns, "Asia/Kolkata", "Mon Jan 02 15:04:05 -0700 2006"]) == "Sat Dec 03 00:10:53 +0530 2022")
        #expect(try callBuiltin("time.format", [ns, "UTC", "RFC1123Z"]) == "Fri, 02 Dec 2022 18:40:53 +0000")
        #expect(try callBuiltin("time.format", [ns, "UTC", "3:04PM .000 Jan _2 002"]) == "6:40PM .141 Dec  2 336")
        // Zone abbreviations come from the zone data, as in Go.
        #expect(try callBuiltin("time.format", [0, "America/New_York", "UnixDate"]) == "Wed Dec 31 19:00:00 EST 1969")
        #expect(try callBuiltin("time.format", [1_690_006_453_000_000_000, "America/New_York", "MST"]) == "EDT")
        #expect(try callBuiltin("time.format", [0, "UTC", "MST"]) == "UTC")
    }
}
