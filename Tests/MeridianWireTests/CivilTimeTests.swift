import MeridianWire
import Testing

@Suite struct CivilTimeTests {
    @Test func datesAroundTheEpochAndLeapDays() {
        #expect(CivilTime.date(daysSinceEpoch: 0) == (1970, 1, 1))
        #expect(CivilTime.date(daysSinceEpoch: -1) == (1969, 12, 31))
        #expect(CivilTime.date(daysSinceEpoch: 11016) == (2000, 2, 29))
        for days in [-800_000, -1, 0, 59, 11016, 20790, 2_000_000] {
            let (year, month, day) = CivilTime.date(daysSinceEpoch: days)
            #expect(CivilTime.daysSinceEpoch(year: year, month: month, day: day) == days)
        }
        let time = CivilTime.split(1_796_288_461)
        #expect((time.year, time.month, time.day, time.hour, time.minute, time.second) == (2026, 12, 3, 9, 1, 1))
        let before = CivilTime.split(-1)
        #expect((before.year, before.hour, before.minute, before.second) == (1969, 23, 59, 59))
    }
}
