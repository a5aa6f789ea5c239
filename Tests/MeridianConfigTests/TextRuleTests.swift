import Testing
import MeridianConfig

@Suite struct DurationTextTests {
    @Test(arguments: [
        ("250ms", Duration.milliseconds(250)),
        ("10s", .seconds(10)),
        ("5m", .seconds(300)),
        ("2h", .seconds(7200)),
        ("1m30s", .seconds(90)),
        ("1h30m", .seconds(5400)),
        ("1h0m5s", .seconds(3605)),
        ("1s500ms", .milliseconds(1500)),
        ("0s", .zero),
        ("14d", .seconds(14 * 86400)),
        ("1d12h", .seconds(129_600)),
    ])
    func parses(text: String, duration: Duration) throws {
        #expect(try DurationText.parse(text) == duration)
    }

    @Test(arguments: [
        ("10", "\"10\" needs a unit: write 10s or 10ms (units: ms, s, m, h, d)"),
        ("", "expected a duration such as 250ms, 10s, 1m30s or 1h"),
        ("s", "\"s\": expected a duration such as 250ms, 10s, 1m30s or 1h"),
        ("-1s", "\"-1s\": expected a duration such as 250ms, 10s, 1m30s or 1h"),
        ("10 s", "\"10 s\": expected a duration such as 250ms, 10s, 1m30s or 1h"),
        ("1.5s", "\"1.5s\": fractions are not supported; use a smaller unit, such as 1500ms for 1.5s"),
        ("10x", "\"10x\": unknown unit \"x\" (units: ms, s, m, h, d)"),
        ("1sec", "\"1sec\": unknown unit \"sec\" (units: ms, s, m, h, d)"),
        ("30s1m", "\"30s1m\": write units from largest to smallest, each once, as in 1h30m or 1m30s"),
        ("1s1s", "\"1s1s\": write units from largest to smallest, each once, as in 1h30m or 1m30s"),
        ("99999999999999999999h", "\"99999999999999999999h\" is too long a duration"),
        ("9999999999999999h", "\"9999999999999999h\" is too long a duration"),
    ])
    func rejected(text: String, message: String) {
        #expect(throws: ValueError.self) { try DurationText.parse(text) }
        do {
            _ = try DurationText.parse(text)
        } catch {
            #expect(error.message == message)
        }
    }

    @Test(arguments: [
        ("250ms", "250ms"), ("10s", "10s"), ("90s", "1m30s"), ("1h0m5s", "1h5s"), ("1500ms", "1s500ms"), ("120m", "2h"), ("48h", "2d"),
    ])
    func formatsShortestText(text: String, formatted: String) throws {
        #expect(DurationText.format(try DurationText.parse(text)) == formatted)
    }
}

@Suite struct SuggestionTests {
    @Test(arguments: [
        ("lisen", "listen"),
        ("lsiten", "listen"),          // two neighbours swapped: one edit
        ("Listen", "listen"),
        ("udp_paylod", "udp_payload"),
        ("tcp_idle_timout", "tcp_idle_timeout"),
    ])
    func suggests(word: String, suggestion: String) {
        #expect(Suggestion.closest(to: word, in: ["listen", "udp_payload", "tcp_idle_timeout", "tcp_max_connections"]) == suggestion)
    }

    @Test func staysQuietWhenNothingIsClose() {
        #expect(Suggestion.closest(to: "port", in: ["listen", "udp_payload"]) == nil)
        #expect(Suggestion.closest(to: "ab", in: ["a"]) == nil)
        #expect(Suggestion.editDistance("kitten", "sitting") == 3)
        #expect(Suggestion.editDistance("", "abc") == 3)
        #expect(Suggestion.editDistance("ca", "ac") == 1)
    }
}

@Suite struct RegionCodeTests {
    @Test(arguments: ["EU", "AS", "NA", "DE", "US", "GB", "JP", "US-CA", "GB-ENG", "FR-75", "default", "XK"])
    func accepts(key: String) throws {
        try RegionCode.check(key)
    }

    @Test(arguments: [
        ("eu", "region codes are upper case: write \"EU\""),
        ("us-ca", "region codes are upper case: write \"US-CA\""),
        ("Default", "write \"default\" in lower case"),
        ("UK", "\"UK\" is not an ISO 3166-1 code; the United Kingdom is \"GB\""),
        ("XX", "\"XX\" is not an ISO 3166-1 country code"),
        ("XX-CA", "\"XX-CA\": \"XX\" is not an ISO 3166-1 country code"),
        ("US-CALI", "\"US-CALI\": a subdivision is 1 to 3 upper-case letters or digits, as in US-CA"),
        ("US-", "\"US-\": a subdivision is 1 to 3 upper-case letters or digits, as in US-CA"),
        ("EUROPE", "\"EUROPE\" is not a region: use a continent (AF AN AS EU NA OC SA), a country (DE), a subdivision (US-CA) or \"default\""),
    ])
    func rejects(key: String, message: String) {
        do {
            try RegionCode.check(key)
            Issue.record("\(key) accepted")
        } catch {
            #expect(error.message == message)
        }
    }
}
