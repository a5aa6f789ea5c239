import MeridianHealth
import Testing

/// The threshold rules as tables: a run of results (`+` pass, `-` failure) and the states after each.
@Suite struct EdgeHealthTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var rise: Int
        var fall: Int
        var results: String
        var states: String
        var testDescription: String { "rise \(rise) fall \(fall): \(results)" }
    }

    static let cases: [Case] = [
        // The first result decides at once.
        Case(rise: 2, fall: 3, results: "+", states: "U"),
        Case(rise: 2, fall: 3, results: "-", states: "D"),
        // Up: fewer than `fall` failures in a row change nothing.
        Case(rise: 2, fall: 3, results: "+--+--+", states: "UUUUUUU"),
        Case(rise: 2, fall: 3, results: "+---", states: "UUUD"),
        // Down: `rise` passes in a row bring it back; an interrupted run starts over.
        Case(rise: 2, fall: 3, results: "-+-+-++", states: "DDDDDDU"),
        Case(rise: 1, fall: 1, results: "+-+-", states: "UDUD"),
        Case(rise: 3, fall: 2, results: "+--+++--", states: "UUDDDUUD"),
    ]

    @Test(arguments: cases) func thresholds(_ test: Case) {
        var health = EdgeHealth()
        #expect(health.state == .unknown)
        var states = ""
        for result in test.results {
            _ = health.record(passed: result == "+", rise: test.rise, fall: test.fall)
            states.append(health.state == .up ? "U" : health.state == .down ? "D" : "?")
        }
        #expect(states == test.states)
    }

    @Test func reportsOnlyChanges() {
        var health = EdgeHealth()
        #expect(health.record(passed: true, rise: 2, fall: 2) == .up)
        #expect(health.record(passed: true, rise: 2, fall: 2) == nil)
        #expect(health.record(passed: false, rise: 2, fall: 2) == nil)
        #expect(health.record(passed: false, rise: 2, fall: 2) == .down)
        #expect(health.consecutiveFailures == 2)
        health.resetCounts()
        #expect(health.state == .down && health.consecutiveFailures == 0 && health.consecutivePasses == 0)
    }
}
