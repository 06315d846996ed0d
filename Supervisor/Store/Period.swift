import Foundation

/// Calendar periods: a day or a month in a plan's time zone, as the instants
/// where it starts and ends. Counters are keyed by the start.
public struct PeriodWindow: Sendable, Equatable {
    public var start: Date
    public var end: Date

    public init(_ period: Metric.Period, containing date: Date, timeZone: String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: timeZone) ?? .gmt
        let component: Calendar.Component = period == .day ? .day : .month
        let interval = calendar.dateInterval(of: component, for: date)
        start = interval?.start ?? date
        end = interval?.end ?? date
    }

    /// The day and the month containing `date`: what one call is counted in.
    public static func all(containing date: Date, timeZone: String) -> [Metric.Period: PeriodWindow] {
        [.day: PeriodWindow(.day, containing: date, timeZone: timeZone),
         .month: PeriodWindow(.month, containing: date, timeZone: timeZone)]
    }
}
