import MeridianControl
import Testing

@Suite struct ReadableTextTests {
    static let durationCases: [(Double, String, String)] = [
        (12.9, "12s", "12s"),
        (245, "4m 5s", "4m 05s"),
        (3725.5, "1h 2m 5s", "1h 02m 05s"),
        (183_845, "2d 3h 4m", "2d 3h 04m"),
    ]

    @Test(arguments: durationCases)
    func durations(seconds: Double, unpadded: String, padded: String) {
        #expect(ReadableText.duration(seconds, padded: false, placeholder: "–") == unpadded)
        #expect(ReadableText.duration(seconds, padded: true, placeholder: "-") == padded)
    }

    @Test func durationPlaceholder() {
        for seconds in [-1, Double.infinity, .nan] {
            #expect(ReadableText.duration(seconds, padded: true, placeholder: "-") == "-")
        }
    }

    @Test func grouped() {
        #expect(ReadableText.grouped(0) == "0")
        #expect(ReadableText.grouped(999) == "999")
        #expect(ReadableText.grouped(1_234_567) == "1,234,567")
        #expect(ReadableText.grouped(-5_890) == "-5,890")
        #expect(ReadableText.grouped(UInt64.max) == "18,446,744,073,709,551,615")
    }

    @Test func decimals() {
        #expect(ReadableText.decimal(51.5, places: 2) == "51.50")
        #expect(ReadableText.decimal(-0.125, places: 2) == "-0.13")
        #expect(ReadableText.decimal(-0.004, places: 2) == "0.00")
        #expect(ReadableText.decimal(0.05, places: 1) == "0.1")
        #expect(ReadableText.decimal(249.5, places: 0) == "250")
    }

    @Test func largestFirstThenByName() {
        let order = ReadableText.largestFirst(["NXDOMAIN": 3, "NOERROR": 10, "FORMERR": 3, "REFUSED": 0])
        #expect(order.map(\.name) == ["NOERROR", "FORMERR", "NXDOMAIN", "REFUSED"])
        #expect(order.map(\.count) == [10, 3, 3, 0])
    }
}
