import CMallocCounter
import MeridianAuthority
import MeridianWire
import Testing

/// The responder with cookies on: what goes back, and what the outcome says.
@Suite struct ResponderCookieTests {
    static let zone = """
    $ORIGIN cookie.test.
    $TTL 300
    @   IN SOA ns hostmaster 1 3600 600 86400 60
    @   IN NS  ns
    ns  IN A   192.0.2.53
    www IN A   192.0.2.80
    """
    static let now: UInt32 = 1_700_000_000
    static let fixture = try! ZoneFixture([("cookie.test.", zone), ("big.test.", ResponderTests.bigZone)],
                                          cookieSecrets: CookieSecrets(current: ServerCookieTests.secret))
    static let withoutCookies = try! ZoneFixture([("cookie.test.", zone)])
    static let clientCookie = hexOctets("2464c4abcf10c957")

    static func query(_ name: String = "www.cookie.test.", _ type: RRType = .a, options: [[UInt8]], version: UInt8 = 0,
                      payload: UInt16 = 1232) -> [UInt8] {
        let edns = EDNS(udpPayloadSize: payload, version: version, options: options.map { EDNS.Option(code: .cookie, data: $0) })
        return Message.query(id: 7, name: try! DNSName(parsing: name), type: type, edns: edns).encode()
    }

    func ask(_ query: [UInt8], over transport: Transport = .udp, at now: UInt32 = now,
             fixture: ZoneFixture = fixture) throws -> (message: Message, cookie: CookieOption?, outcome: Outcome) {
        let (response, outcome) = fixture.exchange(raw: query, over: transport, at: now)
        let message = try Message.decode(response)
        return (message, try message.edns?.cookie(), outcome)
    }

    @Test(arguments: [Transport.udp, .tcp])
    func aClientCookieGetsAServerCookie(transport: Transport) throws {
        let first = try ask(Self.query(options: [Self.clientCookie]), over: transport)
        #expect(first.message.rcode == .noError)
        #expect(first.message.answers.count == 1)
        #expect(first.cookie?.optionData.prefix(8) == Self.clientCookie[...])
        #expect(first.cookie?.serverCookieLength == 16)
        #expect(first.outcome.cookie == .clientOnly)
        #expect(!first.outcome.hasValidServerCookie)

        // Presented again ten seconds later it verifies and comes back unchanged.
        let full = try #require(first.cookie).optionData
        let second = try ask(Self.query(options: [full]), over: transport, at: Self.now + 10)
        #expect(second.message.rcode == .noError)
        #expect(second.cookie?.optionData == full)
        #expect(second.outcome.cookie == .valid)
        #expect(second.outcome.hasValidServerCookie)
    }

    /// RFC 7873 section 5.2.4: a server cookie that does not verify is treated as if only
    /// the client cookie had come; the answer is normal, with a fresh cookie.
    @Test func aForgedServerCookieGetsAFreshOneAndAnAnswer() throws {
        let forged = Self.clientCookie + hexOctets("010000006553f1000123456789abcdef")
        let reply = try ask(Self.query(options: [forged]), at: 0x6553_F100 + 5)
        #expect(reply.message.rcode == .noError)
        #expect(reply.message.answers.count == 1)
        #expect(reply.outcome.cookie == .invalid)
        #expect(!reply.outcome.hasValidServerCookie)
        let fresh = try #require(reply.cookie)
        #expect(fresh.optionData != forged)
        #expect(try ask(Self.query(options: [fresh.optionData]), at: 0x6553_F100 + 6).outcome.cookie == .valid)
    }

    /// RFC 7873 section 5.2.2: 8 octets (client cookie) or 16 to 40 (and a server cookie).
    @Test(arguments: [0, 1, 7, 9, 12, 15, 41, 64])
    func malformedLengthsAreFormErr(length: Int) throws {
        let reply = try ask(Self.query(options: [[UInt8](repeating: 0x5A, count: length)]))
        #expect(reply.message.rcode == .formErr)
        // A query whose EDNS cannot be read gets a bare FORMERR, as from NSD and Knot.
        #expect(reply.message.edns == nil)
        #expect(reply.cookie == nil, "a malformed cookie is not echoed")
        #expect(reply.outcome.cookie == .malformed)
        #expect(!reply.outcome.hasValidServerCookie)
    }

    @Test(arguments: [8, 16, 24, 40])
    func wellFormedLengthsAreAnswered(length: Int) throws {
        let reply = try ask(Self.query(options: [[UInt8](repeating: 0x5A, count: length)]))
        #expect(reply.message.rcode == .noError)
        #expect(reply.cookie?.serverCookieLength == 16)
        #expect(reply.outcome.cookie == (length == 8 ? .clientOnly : .invalid))
    }

    @Test func withCookiesOffTheOptionIsIgnored() throws {
        for length in [8, 9, 24] {
            let reply = try ask(Self.query(options: [[UInt8](repeating: 1, count: length)]), fixture: Self.withoutCookies)
            #expect(reply.message.rcode == .noError)
            #expect(reply.cookie == nil)
            #expect(reply.outcome.cookie == .absent)
        }
    }

    @Test func errorResponsesCarryTheCookieExceptBadVers() throws {
        let refused = try ask(Self.query("www.example.com.", options: [Self.clientCookie]))
        #expect(refused.message.rcode == .refused)
        #expect(refused.cookie?.serverCookieLength == 16)
        #expect(refused.outcome.cookie == .clientOnly)

        // The options of an EDNS version we do not speak mean nothing (NSD does the same).
        let badVers = try ask(Self.query(options: [Self.clientCookie], version: 1))
        #expect(badVers.message.rcode == .badVers)
        #expect(badVers.cookie == nil)
        #expect(badVers.outcome.cookie == .absent)
        #expect(try ask(Self.query(options: [[1, 2, 3]], version: 1)).message.rcode == .badVers)
    }

    @Test func theFirstOfRepeatedCookieOptionsCounts() throws {
        let reply = try ask(Self.query(options: [Self.clientCookie, hexOctets("0000000000000001"), [9]]))
        #expect(reply.message.rcode == .noError)
        #expect(reply.cookie?.optionData.prefix(8) == Self.clientCookie[...])
    }

    /// The cookie's 28 octets are reserved like the rest of OPT: a truncated answer still fits.
    @Test func truncatedAnswersLeaveRoomForTheCookie() throws {
        let (response, outcome) = Self.fixture.exchange(raw: Self.query("txt.big.test.", .txt, options: [Self.clientCookie], payload: 512),
                                                        at: Self.now)
        #expect(response.count <= 512)
        #expect(outcome.truncated)
        #expect(try Message.decode(response).edns?.cookie()?.serverCookieLength == 16)
    }

    /// As `ResponderTests.answeringAllocatesNothing`, for queries that carry cookies.
    @Test(.enabled(if: !_isDebugAssertConfiguration(), "allocation counts hold for optimized builds"))
    func answeringWithCookiesAllocatesNothing() throws {
        #expect(malloc_counter_active() == 1, "the malloc counter is not linked into the test binary")
        let valid = try #require(try ask(Self.query(options: [Self.clientCookie])).cookie).optionData
        let queries = [
            Self.query(options: [Self.clientCookie]),
            Self.query(options: [valid]),
            Self.query(options: [Self.clientCookie + hexOctets("010000006553f1000123456789abcdef")]),
            // Not a malformed option: FORMERR comes from a thrown WireError, and the Swift
            // runtime boxes a thrown error, one allocation per malformed query on any path.
            Self.query("www.example.com.", options: [valid]),
        ]
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: Responder.maxResponseSize, alignment: 16)
        defer { output.deallocate() }
        let client = ClientAddress(ipv4: 192, 0, 2, 99)
        let scratch = ResponderScratch()
        scratch.unixTime = Self.now + 1
        var valids = 0
        for query in queries {
            _ = query.withUnsafeBytes { Responder.respond(to: $0, from: client, over: .udp, using: Self.fixture.snapshot, scratch: scratch, into: output) }
        }
        malloc_counter_start()
        for _ in 0..<100 {
            for query in queries {
                valids += query.withUnsafeBytes {
                    Responder.respond(to: $0, from: client, over: .udp, using: Self.fixture.snapshot, scratch: scratch, into: output)
                }.hasValidServerCookie ? 1 : 0
            }
        }
        let allocations = malloc_counter_stop()
        #expect(valids == 200)
        #expect(allocations == 0, "\(allocations) allocations for \(queries.count * 100) answers")
    }
}
