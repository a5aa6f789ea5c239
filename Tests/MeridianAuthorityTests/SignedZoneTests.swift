import CMallocCounter
import Foundation
import MeridianDNSSEC
import MeridianAuthority
import MeridianLoad
import MeridianRouting
import MeridianWire
import NIOConcurrencyHelpers
import Testing

/// Where RRSIG and NSEC records go in answers of a signed zone, and what a DO=0 client
/// still gets. The signer here marks what it signed instead of signing (real signatures
/// are checked by validating resolvers end to end); it counts its calls.
@Suite struct SignedZoneTests {
    final class MarkingSigner: RRsetSigner {
        let signerName: [UInt8]
        let expiration: UInt32 = 2_000_000_000
        let keyDescriptions = ["1/13"]
        private let calls = NIOLockedValueBox(0)

        init(origin: String) throws { signerName = try DNSName(parsing: origin).wire }

        var signed: Int { calls.withLockedValue { $0 } }

        /// RRSIG RDATA: type covered, algorithm 13, labels, TTL, times, tag 1, signer, then
        /// the owner as "signature", so a test can see what was signed for which name.
        func rrsigs(owner: [UInt8], type: RRType, originalTTL: UInt32, rdatas: [[UInt8]]) -> [[UInt8]] {
            calls.withLockedValue { $0 += 1 }
            var rdata: [UInt8] = [UInt8(type.rawValue >> 8), UInt8(type.rawValue & 0xFF), 13, 2]
            for value in [originalTTL, expiration, 1_000_000_000] {
                rdata += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
            }
            return [rdata + [0, 1] + signerName + owner]
        }
    }

    static let zone = """
    $ORIGIN sig.test.
    $TTL 300
    @      IN SOA ns hostmaster 1 3600 600 86400 60
    @      IN NS  ns
    ns     IN A   192.0.2.53
    www    IN A   192.0.2.1
    mail   IN MX  10 www
    *.wild IN TXT "made"
    a.b.c  IN A   192.0.2.2
    child  IN NS  ns.child
    ns.child IN A 192.0.2.54
    signed IN NS  ns.child
    signed IN DS  12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
    """

    func fixture(signer: MarkingSigner) throws -> ZoneFixture {
        let plain = try ZoneFixture([("sig.test.", Self.zone)])
        let signed = plain.snapshot.zones[0].signed(by: signer) { _ in [.a] }
        return ZoneFixture(snapshot: AuthoritySnapshot(zones: [signed]))
    }

    func dnssec() -> EDNS { EDNS(dnssecOK: true) }

    func types(_ records: [ResourceRecord]) -> [RRType] { records.map(\.type) }

    @Test func staticAnswersCarryTheirSignatures() throws {
        let signer = try MarkingSigner(origin: "sig.test.")
        let fixture = try fixture(signer: signer)
        let madeAtLoad = signer.signed
        #expect(madeAtLoad > 0)
        let signed = try fixture.ask("www.sig.test.", .a, edns: dnssec())
        #expect(types(signed.answers) == [.a, .rrsig])
        #expect(signed.edns?.dnssecOK == true)
        let plain = try fixture.ask("www.sig.test.", .a)
        #expect(types(plain.answers) == [.a], "no RRSIG without DO")
        #expect(signer.signed == madeAtLoad, "static answers are signed at load, not per query")
    }

    @Test func nonexistentNamesGetCompactDenial() throws {
        let signer = try MarkingSigner(origin: "sig.test.")
        let fixture = try fixture(signer: signer)
        let signed = try fixture.ask("nope.sig.test.", .a, edns: dnssec())
        #expect(signed.rcode == .noError, "compact denial answers NOERROR to DO clients")
        #expect(types(signed.authority) == [.soa, .rrsig, .nsec, .rrsig])
        let nsec = try #require(signed.authority.first { $0.type == .nsec })
        #expect(nsec.name == (try DNSName(parsing: "nope.sig.test.")))
        #expect(nsec.rdata == Zone.minimalNSEC(owner: try DNSName(parsing: "nope.sig.test.").wire, types: [Zone.nxname]))
        let plain = try fixture.ask("nope.sig.test.", .a)
        #expect(plain.rcode == .nxDomain, "DO=0 clients still get NXDOMAIN")
        #expect(types(plain.authority) == [.soa])
    }

    @Test func aDenialIsSignedOncePerThread() throws {
        let signer = try MarkingSigner(origin: "sig.test.")
        let fixture = try fixture(signer: signer)
        let scratch = ResponderScratch()
        let before = signer.signed
        for _ in 0..<3 { _ = try fixture.ask("nope.sig.test.", .a, edns: dnssec(), scratch: scratch) }
        #expect(signer.signed == before + 1)
    }

    @Test func noDataCarriesTheNamesNSEC() throws {
        let fixture = try fixture(signer: try MarkingSigner(origin: "sig.test."))
        let answer = try fixture.ask("www.sig.test.", .txt, edns: dnssec())
        #expect(answer.rcode == .noError && answer.answers.isEmpty)
        let nsec = try #require(answer.authority.first { $0.type == .nsec })
        #expect(nsec.rdata == Zone.minimalNSEC(owner: try DNSName(parsing: "www.sig.test.").wire, types: [.a]))
        // An empty non-terminal has only RRSIG and NSEC.
        let empty = try fixture.ask("b.c.sig.test.", .a, edns: dnssec())
        let emptyNSEC = try #require(empty.authority.first { $0.type == .nsec })
        #expect(emptyNSEC.rdata == Zone.minimalNSEC(owner: try DNSName(parsing: "b.c.sig.test.").wire, types: []))
    }

    @Test func referralsProveTheirDS() throws {
        let fixture = try fixture(signer: try MarkingSigner(origin: "sig.test."))
        let withDS = try fixture.ask("www.signed.sig.test.", .a, edns: dnssec())
        #expect(types(withDS.authority) == [.ns, .ds, .rrsig])
        let withoutDS = try fixture.ask("www.child.sig.test.", .a, edns: dnssec())
        #expect(types(withoutDS.authority) == [.ns, .nsec, .rrsig])
        let nsec = try #require(withoutDS.authority.first { $0.type == .nsec })
        #expect(nsec.rdata == Zone.minimalNSEC(owner: try DNSName(parsing: "child.sig.test.").wire, types: [.ns]))
    }

    /// Once the thread's cache holds a name a wildcard made and a denied name, signed answers
    /// allocate nothing.
    @Test func signedAnswersAllocateNothingOnceWarm() throws {
        let fixture = try fixture(signer: try MarkingSigner(origin: "sig.test."))
        let queries = try ["www.sig.test.", "x.wild.sig.test.", "www.signed.sig.test."].map { name in
            Message.query(id: 7, name: try DNSName(parsing: name), type: name.hasPrefix("x.") ? .txt : .a, edns: dnssec()).encode()
        } + [Message.query(id: 7, name: try DNSName(parsing: "www.sig.test."), type: .txt, edns: dnssec()).encode(),
             Message.query(id: 7, name: try DNSName(parsing: "nope.sig.test."), type: .a, edns: dnssec()).encode()]
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: Responder.maxResponseSize, alignment: 16)
        defer { output.deallocate() }
        let client = ClientAddress(ipv4: 192, 0, 2, 1)
        let scratch = ResponderScratch()
        for _ in 0..<2 {
            for query in queries {
                _ = query.withUnsafeBytes { Responder.respond(to: $0, from: client, over: .udp, using: fixture.snapshot, scratch: scratch, into: output) }
            }
        }
        var signed = 0
        malloc_counter_start()
        for _ in 0..<100 {
            for query in queries {
                signed += query.withUnsafeBytes {
                    Responder.respond(to: $0, from: client, over: .udp, using: fixture.snapshot, scratch: scratch, into: output)
                }.signed ? 1 : 0
            }
        }
        let allocations = malloc_counter_stop()
        #expect(signed == 500)
        #expect(allocations == 0, "\(allocations) allocations for \(signed) signed answers")
    }

    @Test func signaturesPastTheirEndAreNeverSent() throws {
        let signer = try MarkingSigner(origin: "sig.test.")
        let fixture = try fixture(signer: signer)
        func ask(_ name: String, edns: EDNS, at now: UInt32) throws -> Message {
            let query = Message.query(id: 7, name: try DNSName(parsing: name), type: .a, edns: edns).encode()
            return try Message.decode(fixture.exchange(raw: query, at: now).response)
        }
        let valid = try ask("www.sig.test.", edns: dnssec(), at: signer.expiration - 1)
        #expect(valid.rcode == .noError)
        #expect(types(valid.answers) == [.a, .rrsig])
        for name in ["www.sig.test.", "nope.sig.test.", "x.wild.sig.test."] {
            let expired = try ask(name, edns: dnssec(), at: signer.expiration)
            #expect(expired.rcode == .servFail, "\(name)")
            #expect(expired.answers.isEmpty && expired.authority.isEmpty)
            // Clients that do not ask for DNSSEC records still get the data.
            let plain = try ask(name, edns: EDNS(), at: signer.expiration)
            #expect(plain.rcode != .servFail, "\(name)")
        }
    }

    @Test func aWorkingSetOfHalfTheCacheIsSignedOnce() throws {
        // A resolver cycling through names that do not exist, as a monitoring or a scan does:
        // once each has been signed, no cycle signs again (each miss would be a signature).
        let signer = try MarkingSigner(origin: "sig.test.")
        let fixture = try fixture(signer: signer)
        let scratch = ResponderScratch()
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: Responder.maxResponseSize, alignment: 16)
        defer { output.deallocate() }
        let queries = try (0..<2048).map { index in
            Message.query(id: 7, name: try DNSName(parsing: "nx\(index).sig.test."), type: .a, edns: dnssec()).encode()
        }
        let client = ClientAddress(ipv4: 192, 0, 2, 1)
        func cycle() {
            for query in queries {
                _ = query.withUnsafeBytes { Responder.respond(to: $0, from: client, over: .udp, using: fixture.snapshot, scratch: scratch, into: output) }
            }
        }
        let before = signer.signed
        cycle()
        #expect(signer.signed - before == queries.count)
        for _ in 0..<3 { cycle() }
        #expect(signer.signed - before == queries.count, "\(signer.signed - before - queries.count) signed again")
    }

    @Test func wildcardAnswersAreSignedForTheNameAskedOnce() throws {
        let signer = try MarkingSigner(origin: "sig.test.")
        let fixture = try fixture(signer: signer)
        let before = signer.signed
        let scratch = ResponderScratch()
        let name = try DNSName(parsing: "x.wild.sig.test.")
        for _ in 0..<3 {
            let answer = try fixture.ask("x.wild.sig.test.", .txt, edns: dnssec(), scratch: scratch)
            #expect(types(answer.answers) == [.txt, .rrsig])
            let rrsig = try #require(answer.answers.last)
            #expect(Array(rrsig.rdata.suffix(name.wire.count)) == name.wire, "signed for the name asked")
        }
        #expect(signer.signed == before + 1, "the thread's cache made later answers a copy")
    }
}

/// Signing through the loader with real keys: windows, re-signing, truncation.
@Suite struct ZoneSigningTests {
    func signedServer(validity: String = "14d", refresh: String = "7d") throws -> (LoadedServer, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("signing-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/zones", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/keys", withIntermediateDirectories: true)
        _ = try KeyFiles.generate(zone: try DNSName(parsing: "sig.test."), algorithm: .ed25519, directory: directory + "/keys")
        let long = String(repeating: "x", count: 200)
        try (SignedZoneTests.zone + "\nbig IN TXT \"\(long)\" \"\(long)\"\n")
            .write(toFile: directory + "/zones/sig.test.zone", atomically: true, encoding: .utf8)
        let yaml = """
            zones: {directory: \(directory)/zones}
            dnssec: {keys_directory: \(directory)/keys, signature_validity: \(validity), signature_refresh: \(refresh)}
            """
        try yaml.write(toFile: directory + "/meridian.yaml", atomically: true, encoding: .utf8)
        return (try ServerLoader.load(configPath: directory + "/meridian.yaml"), directory)
    }

    @Test func resigningMovesTheWindow() throws {
        let (loaded, directory) = try signedServer()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let signatures = try #require(loaded.zones.first?.signatures)
        let now = UInt64(Date().timeIntervalSince1970)
        #expect(UInt64(signatures.expiration) > now + 13 * 86400 && UInt64(signatures.expiration) <= now + 14 * 86400)
        let due = try #require(ServerLoader.resignDue(loaded))
        #expect(due > now + 6 * 86400 && due <= now + 7 * 86400, "signed again once signature_refresh has passed")
        let later = ServerLoader.resigned(loaded, now: now + 8 * 86400)
        let moved = try #require(later.zones.first?.signatures)
        #expect(UInt64(moved.expiration) > now + 21 * 86400, "a new window from the time of re-signing")
        #expect(later.zones.first?.serial == loaded.zones.first?.serial)
        #expect(try #require(ServerLoader.resignDue(later)) > due)
    }

    @Test func signaturesThatDoNotFitTruncate() throws {
        let (loaded, directory) = try signedServer()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fixture = ZoneFixture(snapshot: loaded.snapshot)
        let small = try fixture.ask("big.sig.test.", .txt, edns: EDNS(udpPayloadSize: 512, dnssecOK: true))
        #expect(small.header.flags.contains(.tc), "the TXT fits in 512 octets, its RRSIG does not")
        #expect(!small.answers.contains { $0.type == .rrsig }, "no signature without its RRset, no half record")
        let large = try fixture.ask("big.sig.test.", .txt, edns: EDNS(udpPayloadSize: 1232, dnssecOK: true))
        #expect(!large.header.flags.contains(.tc))
        #expect(large.answers.map(\.type) == [.txt, .rrsig])
    }

    @Test func refreshMustBeShorterThanValidity() {
        #expect(throws: LoadFailure.self) { try signedServer(validity: "3h", refresh: "3h") }
    }
}
