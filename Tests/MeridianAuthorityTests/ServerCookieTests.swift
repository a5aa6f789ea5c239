import MeridianAuthority
import MeridianWire
import Testing

/// Server cookies against RFC 9018 Appendix A, and the limits of section 4.3.
@Suite struct ServerCookieTests {
    static let secret = SipHashKey(bytes: hexOctets("e5e973e5a6b2a43f48e7dc849e37bfcf"))
    static let resolver = ClientAddress(ipv4: 198, 51, 100, 100)

    /// The reply to `presented` from `client` at `now`, and what the presented cookie was.
    func answer(_ presented: String, from client: ClientAddress = resolver, at now: UInt32,
                secrets: CookieSecrets = CookieSecrets(current: secret)) throws -> (reply: String, result: CookieResult) {
        var option = try CookieOption(bytes: hexOctets(presented))
        let result = ServerCookie.answer(&option, from: client, at: now, secrets: secrets)
        return (hexText(option.optionData), result)
    }

    @Test func appendixA1LearningANewServerCookie() throws {
        let (reply, result) = try answer("2464c4abcf10c957", at: 1_559_731_985)
        #expect(reply == "2464c4abcf10c957010000005cf79f111f8130c3eee29480")
        #expect(result == .clientOnly)
    }

    @Test func appendixA2RenewedAfterFortyMinutes() throws {
        let (reply, result) = try answer("2464c4abcf10c957010000005cf79f111f8130c3eee29480", at: 1_559_734_385)
        #expect(reply == "2464c4abcf10c957010000005cf7a871d4a564a1442aca77")
        #expect(result == .valid)
    }

    /// The presented cookie has reserved octets set, and they are part of its hash. The
    /// example's reply comes 1 h 52 min after the cookie was made, past the hour this server
    /// accepts, so there it is no longer valid; the reply is the RFC's either way.
    @Test func appendixA3ReservedOctetsAreHashedAsSent() throws {
        let client = ClientAddress(ipv4: 203, 0, 113, 203)
        let presented = "fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5"
        let late = try answer(presented, from: client, at: 1_559_734_700)
        #expect(late.reply == "fc93fc62807ddb86010000005cf7a9acf73a7810aca2381e")
        #expect(late.result == .invalid)
        let early = try answer(presented, from: client, at: 1_559_727_985 + 600)
        #expect(early.result == .valid)
        #expect(early.reply == presented, "a valid cookie under half an hour old goes back as it came")
    }

    @Test func appendixA4IPv6WithRolledOverSecret() throws {
        let client = ClientAddress(family: .ipv6, octets: octetWords(hexOctets("20010db80220000159ded0f4876982b8")))
        let secrets = CookieSecrets(current: SipHashKey(bytes: hexOctets("445536bcd2513298075a5d379663c962")),
                                    previous: SipHashKey(bytes: hexOctets("dd3bdf9344b678b185a6f5cb60fca715")))
        let presented = "22681ab97d52c298010000005cf7c57926556bd0934c72f8"
        let (reply, result) = try answer(presented, from: client, at: 1_559_741_961, secrets: secrets)
        #expect(reply == "22681ab97d52c298010000005cf7c609a6bb79d16625507a")
        #expect(result == .valid)
        // Once the previous secret is dropped the same cookie is no longer accepted.
        let dropped = try answer(presented, from: client, at: 1_559_741_961, secrets: CookieSecrets(current: secrets.current))
        #expect(dropped.result == .invalid)
        #expect(dropped.reply == reply)
    }

    /// A cookie made at `made` for the test resolver with the test secret.
    func cookie(madeAt made: UInt32, key: SipHashKey = secret) throws -> String {
        try answer("0102030405060708", at: made, secrets: CookieSecrets(current: key)).reply
    }

    @Test(arguments: [
        (0, CookieResult.valid, true), (1799, .valid, true), (1800, .valid, false), (3600, .valid, false), (3601, .invalid, false),
        (86_400, .invalid, false), (-1, .valid, false), (-300, .valid, false), (-301, .invalid, false),
    ])
    func ageLimits(age: Int, expected: CookieResult, reused: Bool) throws {
        let made: UInt32 = 1_700_000_000
        let presented = try cookie(madeAt: made)
        let now = UInt32(Int(made) + age)
        let (reply, result) = try answer(presented, at: now)
        #expect(result == expected)
        #expect((reply == presented) == reused)
        // Whatever was presented, what goes back is current: made now, or fresh enough to keep.
        #expect(try answer(reply, at: now).result == .valid)
    }

    @Test func timestampsWrapAroundAsSerialNumbers() throws {
        let presented = try cookie(madeAt: UInt32.max - 10)
        #expect(try answer(presented, at: 20).result == .valid)
        #expect(try answer(presented, at: 3600).result == .invalid)
    }

    @Test func wrongSecretOrAddressDoesNotVerify() throws {
        let other = SipHashKey(k0: 1, k1: 2)
        let presented = try cookie(madeAt: 1_700_000_000, key: other)
        #expect(try answer(presented, at: 1_700_000_010).result == .invalid)
        #expect(try answer(try cookie(madeAt: 1_700_000_000), from: ClientAddress(ipv4: 198, 51, 100, 101), at: 1_700_000_010).result == .invalid)
    }

    /// During a rotation a cookie of the previous secret is accepted and replaced by one of
    /// the current secret, which verifies without the previous one.
    @Test func rotationRenewsWithTheCurrentSecret() throws {
        let old = SipHashKey(k0: 11, k1: 12), new = SipHashKey(k0: 21, k1: 22)
        let presented = try cookie(madeAt: 1_700_000_000, key: old)
        let rotating = CookieSecrets(current: new, previous: old)
        let (reply, result) = try answer(presented, at: 1_700_000_010, secrets: rotating)
        #expect(result == .valid)
        #expect(reply != presented)
        #expect(try answer(reply, at: 1_700_000_020, secrets: CookieSecrets(current: new)) == (reply, .valid))
    }

    /// Server cookies of other layouts cannot be checked: treated as absent, replaced.
    @Test(arguments: [
        "0102030405060708" + "1122334455667788",  // 8 octets
        "0102030405060708" + "020000005cf79f111f8130c3eee29480",  // version 2
        "0102030405060708" + String(repeating: "ab", count: 32),  // 32 octets
    ])
    func otherServerCookieLayoutsAreInvalid(presented: String) throws {
        let (reply, result) = try answer(presented, at: 1_559_731_985)
        #expect(result == .invalid)
        #expect(reply.count == 48)
        #expect(reply.hasPrefix("0102030405060708010000005cf79f11"))
    }
}

func octetWords(_ octets: [UInt8]) -> (UInt64, UInt64) {
    var words: (UInt64, UInt64) = (0, 0)
    withUnsafeMutableBytes(of: &words) { $0.copyBytes(from: octets) }
    return words
}
