import Crypto
import MeridianWire

/// A zone's signing key: one key pair that both signs the zone and is what the parent's DS
/// points at (a combined signing key, CSK), or a KSK or ZSK when an operator splits them.
/// Everything a signer and a registrar need is computed once here: the DNSKEY RDATA, its key
/// tag, and the DS RDATA for the parent.
public struct ZoneKey: DNSSECSigner, Sendable {
    /// The zone the key belongs to: the owner name of its DNSKEY record.
    public let zone: DNSName
    public let algorithm: DNSSECAlgorithm
    /// DNSKEY flags: 257 (zone key + secure entry point) for a KSK or CSK, 256 for a ZSK.
    public let flags: UInt16
    /// The DNSKEY public key field: x‖y (64 octets) for P-256 (RFC 6605 section 4),
    /// the 32-octet public key for Ed25519 (RFC 8080 section 3).
    public let publicKey: [UInt8]
    /// Flags, protocol 3, algorithm, public key (RFC 4034 section 2.1).
    public let dnskeyRData: [UInt8]
    /// RFC 4034 appendix B over `dnskeyRData`.
    public let keyTag: UInt16
    /// The `.private` and `.key` files the key was read from or written to; nil for a key
    /// made in memory.
    public internal(set) var privateKeyFile: String?
    public internal(set) var publicKeyFile: String?

    /// swift-crypto's key types are Sendable, so the key travels with the signer across
    /// threads without a lock.
    private let privateKey: PrivateKey

    private enum PrivateKey: Sendable {
        case p256(P256.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
    }

    /// DNSKEY flags of a key-signing or combined signing key: zone key (bit 7) and secure
    /// entry point (bit 15).
    public static let keySigningFlags: UInt16 = 257
    /// DNSKEY flags of a zone-signing key: zone key only.
    public static let zoneSigningFlags: UInt16 = 256

    /// The key with `privateKey` as BIND stores it: the private scalar for P-256, a big-endian
    /// number of up to 32 octets (BIND writes it without leading zero octets, so about one
    /// key in 256 has 31), and the 32-octet seed for Ed25519.
    public init(zone: DNSName, algorithm: DNSSECAlgorithm, flags: UInt16 = ZoneKey.keySigningFlags,
                privateKey written: [UInt8]) throws(ZoneKeyError) {
        var bytes = written
        if algorithm == .ecdsaP256SHA256, !bytes.isEmpty, bytes.count < 32 {
            bytes = [UInt8](repeating: 0, count: 32 - bytes.count) + bytes
        }
        guard bytes.count == 32 else { throw .privateKeyLength(written.count, expected: 32) }
        let key: PrivateKey
        do {
            switch algorithm {
            case .ecdsaP256SHA256: key = .p256(try P256.Signing.PrivateKey(rawRepresentation: bytes))
            case .ed25519: key = .ed25519(try Curve25519.Signing.PrivateKey(rawRepresentation: bytes))
            }
        } catch {
            // A scalar of zero or not below the group order: BoringSSL rejects it.
            throw .invalidPrivateKey(algorithm)
        }
        self.init(zone: zone, algorithm: algorithm, flags: flags, privateKey: key)
    }

    /// A new key from the system's random number generator.
    public static func generate(zone: DNSName, algorithm: DNSSECAlgorithm, flags: UInt16 = ZoneKey.keySigningFlags) -> ZoneKey {
        switch algorithm {
        case .ecdsaP256SHA256: ZoneKey(zone: zone, algorithm: algorithm, flags: flags, privateKey: .p256(P256.Signing.PrivateKey()))
        case .ed25519: ZoneKey(zone: zone, algorithm: algorithm, flags: flags, privateKey: .ed25519(Curve25519.Signing.PrivateKey()))
        }
    }

    private init(zone: DNSName, algorithm: DNSSECAlgorithm, flags: UInt16, privateKey: PrivateKey) {
        self.zone = zone
        self.algorithm = algorithm
        self.flags = flags
        self.privateKey = privateKey
        switch privateKey {
        case .p256(let key): publicKey = Array(key.publicKey.rawRepresentation)
        case .ed25519(let key): publicKey = Array(key.publicKey.rawRepresentation)
        }
        dnskeyRData = [UInt8(flags >> 8), UInt8(flags & 0xFF), 3, algorithm.rawValue] + publicKey
        keyTag = Self.keyTag(ofDNSKEY: dnskeyRData)
    }

    /// The private key field of BIND's `.private` file.
    var privateKeyBytes: [UInt8] {
        switch privateKey {
        case .p256(let key): Array(key.rawRepresentation)
        case .ed25519(let key): Array(key.rawRepresentation)
        }
    }

    /// RFC 4034 appendix B: the RDATA summed as 16-bit big-endian words, the carry folded
    /// back in once. (Algorithm 1's different rule does not apply to the algorithms here.)
    public static func keyTag(ofDNSKEY rdata: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        for (index, byte) in rdata.enumerated() {
            sum += index & 1 == 0 ? UInt32(byte) << 8 : UInt32(byte)
        }
        sum += (sum >> 16) & 0xFFFF
        return UInt16(sum & 0xFFFF)
    }

    /// The DS RDATA for the parent zone (RFC 4034 section 5.1): key tag, algorithm, digest
    /// type and the digest of the lowercased owner name in wire form followed by the DNSKEY
    /// RDATA. Digest type 2 is SHA-256 (RFC 4509), 4 is SHA-384 (RFC 6605); RFC 8624 forbids
    /// making SHA-1 DS records, so other types are a programming error.
    public func ds(digestType: UInt8 = 2) -> [UInt8] {
        let input = zone.lowercased.wire + dnskeyRData
        let digest: [UInt8]
        switch digestType {
        case 2: digest = Array(SHA256.hash(data: input))
        case 4: digest = Array(SHA384.hash(data: input))
        default: preconditionFailure("DS digest type \(digestType) is not supported (2 and 4 are)")
        }
        return [UInt8(keyTag >> 8), UInt8(keyTag & 0xFF), algorithm.rawValue, digestType] + digest
    }

    /// The RRSIG signature field over `data`: r‖s, 64 octets, for P-256 (RFC 6605 section 4),
    /// the 64-octet signature for Ed25519 (RFC 8080 section 4).
    public func sign(_ data: [UInt8]) -> [UInt8] {
        do {
            switch privateKey {
            case .p256(let key): return Array(try key.signature(for: data).rawRepresentation)
            case .ed25519(let key): return Array(try key.signature(for: data))
            }
        } catch {
            // BoringSSL fails to sign only when it cannot allocate or draw random numbers;
            // a server in that state cannot answer either.
            preconditionFailure("\(algorithm) signing failed: \(error)")
        }
    }

    /// `example.com. 3600 IN DNSKEY 257 3 13 BASE64`, or without the TTL when it is nil
    /// (as BIND's `.key` files have it).
    public func dnskeyRecordText(ttl: UInt32? = 3600) -> String {
        let ttlText = ttl.map { " \($0)" } ?? ""
        return "\(zone.lowercased)\(ttlText) IN DNSKEY \(flags) 3 \(algorithm.rawValue) \(Base64.encode(publicKey))"
    }

    /// `example.com. 3600 IN DS 12345 13 2 HEX`, with the digest in upper-case hex as
    /// `dnssec-dsfromkey` prints it.
    public func dsRecordText(digestType: UInt8 = 2, ttl: UInt32 = 3600) -> String {
        let digest = ds(digestType: digestType).dropFirst(4)
        return "\(zone.lowercased) \(ttl) IN DS \(keyTag) \(algorithm.rawValue) \(digestType) \(upperHex(digest))"
    }
}

/// Why key material cannot make a key.
public enum ZoneKeyError: Error, Hashable, Sendable, CustomStringConvertible {
    case privateKeyLength(Int, expected: Int)
    case invalidPrivateKey(DNSSECAlgorithm)

    public var description: String {
        switch self {
        case .privateKeyLength(let count, let expected): "private key is \(count) octets, expected \(expected)"
        case .invalidPrivateKey(let algorithm): "private key is not a valid \(algorithm) key"
        }
    }
}

func upperHex(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789ABCDEF".utf8)
    var text: [UInt8] = []
    for byte in bytes {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: text, as: UTF8.self)
}
