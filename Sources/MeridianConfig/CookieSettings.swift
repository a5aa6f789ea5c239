/// The `cookies` section: DNS Cookies (RFC 7873) with server cookies per RFC 9018.
public struct CookieSettings: Sendable, Equatable {
    /// Answer COOKIE options. `false` ignores them, as a server without cookies does.
    public var enabled: Bool
    /// The file the secret was read from; `nil`: the server makes a random secret at start.
    public var secretFile: String?
    public var secret: CookieSecret?
    /// The file of the secret being rotated out, still accepted for cookies made with it.
    public var previousSecretFile: String?
    public var previousSecret: CookieSecret?

    public init(enabled: Bool = true, secretFile: String? = nil, secret: CookieSecret? = nil,
                previousSecretFile: String? = nil, previousSecret: CookieSecret? = nil) {
        self.enabled = enabled
        self.secretFile = secretFile
        self.secret = secret
        self.previousSecretFile = previousSecretFile
        self.previousSecret = previousSecret
    }
}

/// A 128-bit server cookie secret, as read from a secret file. Its description does not
/// show it, so printing a configuration never leaks it.
public struct CookieSecret: Sendable, Equatable, CustomStringConvertible {
    public static let length = 16
    /// The 16 octets, in the order the file writes them.
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) {
        precondition(bytes.count == Self.length, "a cookie secret is 16 octets")
        self.bytes = bytes
    }

    public var description: String { "cookie secret (not shown)" }
}

/// The text of a secret file: 32 hexadecimal digits, the form NSD's `cookie-secret`, Knot's
/// `secret` and PowerDNS's `edns-cookie-secret` take, so one secret serves a mixed fleet.
/// Blanks and line breaks may go anywhere (`openssl rand -hex 16 > FILE` ends in one).
public enum CookieSecretText {
    /// A problem in a secret file, at a line and column counted from 1.
    public struct Failure: Error, Equatable {
        public var line: Int
        public var column: Int
        public var message: String

        public init(line: Int, column: Int, message: String) {
            self.line = line
            self.column = column
            self.message = message
        }
    }

    static let digits = CookieSecret.length * 2

    public static func parse(_ text: String) throws(Failure) -> CookieSecret {
        var octets: [UInt8] = []
        var high: UInt8?
        var line = 1, column = 0
        for scalar in text.unicodeScalars {
            column += 1
            if scalar == "\n" {
                line += 1
                column = 0
                continue
            }
            if scalar == " " || scalar == "\t" || scalar == "\r" { continue }
            guard let value = hexValue(scalar) else {
                throw Failure(line: line, column: column, message: "\"\(scalar.escaped(asASCII: true))\" is not a hexadecimal digit; "
                                  + "the file holds \(digits) of them (16 octets), e.g. from `openssl rand -hex 16`")
            }
            guard octets.count < CookieSecret.length else {
                throw Failure(line: line, column: column, message: "more than \(digits) hexadecimal digits; a secret is 16 octets")
            }
            if let first = high {
                octets.append(first << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        let count = octets.count * 2 + (high == nil ? 0 : 1)
        guard count == digits else {
            let found = count == 0 ? "no hexadecimal digits" : "only \(count) hexadecimal digits"
            throw Failure(line: line, column: max(column, 1), message: "\(found); a secret is \(digits) of them (16 octets)")
        }
        return CookieSecret(bytes: octets)
    }

    private static func hexValue(_ scalar: Unicode.Scalar) -> UInt8? {
        guard scalar.isASCII, let value = UInt8(String(scalar), radix: 16) else { return nil }
        return value
    }
}
