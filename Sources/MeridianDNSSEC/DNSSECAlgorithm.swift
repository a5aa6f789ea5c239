/// The signing algorithms Meridian supports (RFC 8624: both MUST for validators).
public enum DNSSECAlgorithm: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// ECDSA P-256 with SHA-256 (RFC 6605); the default.
    case ecdsaP256SHA256 = 13
    /// Ed25519 (RFC 8080).
    case ed25519 = 15

    /// The mnemonic BIND writes in key files (`ECDSAP256SHA256`).
    public var description: String {
        switch self {
        case .ecdsaP256SHA256: "ECDSAP256SHA256"
        case .ed25519: "ED25519"
        }
    }
}

/// Whatever makes RRSIG signatures: a zone's key.
public protocol DNSSECSigner: Sendable {
    var algorithm: DNSSECAlgorithm { get }
    /// The key tag (RFC 4034 appendix B) of the key's DNSKEY.
    var keyTag: UInt16 { get }
    /// The signature field of an RRSIG over `data` (RFC 4034 section 3.1.8.1): r‖s for
    /// ECDSA P-256 (RFC 6605), the 64-byte signature for Ed25519 (RFC 8080).
    func sign(_ data: [UInt8]) -> [UInt8]
}
