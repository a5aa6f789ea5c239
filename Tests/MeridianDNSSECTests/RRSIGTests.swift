import Crypto
import Foundation
import MeridianDNSSEC
import MeridianWire
import Testing

@Suite struct RRSIGTests {
    let owner = try! DNSName(parsing: "WWW.Example.COM.").wire
    let signer = try! DNSName(parsing: "example.com.").wire
    let window = SignatureWindow.starting(at: 1_796_288_461, validity: 14 * 86400)

    @Test func windowIsRoundedToTheHour() {
        #expect(window.inception == 1_796_288_400 - 3600)
        #expect(window.expiration == 1_796_288_400 + 14 * 86400)
        #expect(SignatureWindow.starting(at: 1_796_291_999, validity: 14 * 86400) == window, "the same hour, the same window")
    }

    /// The signature covers the RRSIG fields and the RRset in canonical form: owner in lower
    /// case, records sorted by RDATA, names inside MX RDATA in lower case.
    @Test func signsTheCanonicalForm() throws {
        let key = ZoneKey.generate(zone: try DNSName(parsing: "example.com."), algorithm: .ecdsaP256SHA256)
        let target = try DNSName(parsing: "Mail.Example.COM.").wire
        let rdatas = [[0, 20] + target, [0, 10] + target]
        let rrsig = RRSIGBuilder.rrsig(owner: owner, type: .mx, originalTTL: 300, rdatas: rdatas, signer: signer, window: window, key: key)
        let fields = Array(rrsig.prefix(18 + signer.count))
        #expect(Array(fields.prefix(4)) == [0, 15, 13, 3], "type MX, algorithm 13, three labels")
        let lowerTarget = target.map(asciiLowercase)
        var canonical = fields
        for preference in [10, 20] as [UInt8] {
            canonical += owner.map(asciiLowercase) + [0, 15, 0, 1, 0, 0, 1, 44, 0, UInt8(2 + lowerTarget.count), 0, preference] + lowerTarget
        }
        let publicKey = try P256.Signing.PublicKey(rawRepresentation: key.publicKey)
        let signature = try P256.Signing.ECDSASignature(rawRepresentation: rrsig.suffix(64))
        #expect(publicKey.isValidSignature(signature, for: SHA256.hash(data: canonical)))
    }

    /// Ed25519 is deterministic: two nodes with the key, signing in the same hour, write the
    /// same RRSIG byte for byte. ECDSA signatures differ and both verify.
    @Test func ed25519SignaturesAreTheSameOnEveryNode() throws {
        let key = ZoneKey.generate(zone: try DNSName(parsing: "example.com."), algorithm: .ed25519)
        let rdatas: [[UInt8]] = [[192, 0, 2, 1]]
        let first = RRSIGBuilder.rrsig(owner: owner, type: .a, originalTTL: 300, rdatas: rdatas, signer: signer, window: window, key: key)
        let later = SignatureWindow.starting(at: 1_796_288_461 + 1800, validity: 14 * 86400)
        let second = RRSIGBuilder.rrsig(owner: owner, type: .a, originalTTL: 300, rdatas: rdatas, signer: signer, window: later, key: key)
        #expect(first == second)
        let ecdsa = ZoneKey.generate(zone: try DNSName(parsing: "example.com."), algorithm: .ecdsaP256SHA256)
        let a = RRSIGBuilder.rrsig(owner: owner, type: .a, originalTTL: 300, rdatas: rdatas, signer: signer, window: window, key: ecdsa)
        let b = RRSIGBuilder.rrsig(owner: owner, type: .a, originalTTL: 300, rdatas: rdatas, signer: signer, window: window, key: ecdsa)
        #expect(a.prefix(18 + signer.count) == b.prefix(18 + signer.count))
    }

    @Test func wildcardLabelsDoNotCountTheStar() throws {
        #expect(RRSIGBuilder.labels(of: try DNSName(parsing: "*.wild.example.com.").wire) == 3)
        #expect(RRSIGBuilder.labels(of: try DNSName(parsing: "example.com.").wire) == 2)
        #expect(RRSIGBuilder.labels(of: DNSName.root.wire) == 0)
    }
}
