/// The parts of an `http://` or `https://` health-check URL a prober needs. Deliberately
/// small: scheme, host (a name or an address, IPv6 without brackets), optional port, and
/// path with query; no user info or fragment.
public struct HTTPCheckTarget: Hashable, Sendable {
    public var isTLS: Bool
    public var host: String
    /// The port written in the URL, else 80 or 443.
    public var port: Int
    /// Starts with `/`; includes the query.
    public var path: String

    public init(isTLS: Bool, host: String, port: Int, path: String) {
        self.isTLS = isTLS
        self.host = host
        self.port = port
        self.path = path
    }

    /// Parses a check URL, or `nil`.
    public init?(url: String) {
        guard let target = try? HTTPCheckTarget(parsing: url) else { return nil }
        self = target
    }

    init(parsing url: String) throws(ValueError) {
        let rest: Substring
        if url.hasPrefix("http://") {
            isTLS = false
            rest = url.dropFirst("http://".count)
        } else if url.hasPrefix("https://") {
            isTLS = true
            rest = url.dropFirst("https://".count)
        } else {
            throw ValueError("\"\(url)\" must start with http:// or https://")
        }
        if url.contains(where: { $0.isWhitespace }) { throw ValueError("\"\(url)\" contains spaces") }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        var pathPart = rest.dropFirst(authority.count)
        if let hash = pathPart.firstIndex(of: "#") { pathPart = pathPart[..<hash] }
        path = pathPart.isEmpty ? "/" : pathPart.first == "?" ? "/" + pathPart : String(pathPart)
        if authority.contains("@") { throw ValueError("\"\(url)\": user info is not supported in check URLs") }
        let (host, port) = try HostPort.split(authority, defaultPort: isTLS ? 443 : 80, context: url)
        self.host = host
        self.port = port
    }
}

/// `HOST:PORT` with brackets around an IPv6 host, shared by TCP checks and URLs.
enum HostPort {
    static func split(_ text: Substring, defaultPort: Int?, context: String) throws(ValueError) -> (String, Int) {
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw ValueError("\"\(context)\": missing \"]\"") }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else { throw ValueError("\"\(context)\": expected \":PORT\" after \"]\"") }
                portText = after.dropFirst()
            }
            guard let address = IPAddress(host), address.isIPv6 else {
                throw ValueError("\"\(context)\": \"\(host)\" in brackets is not an IPv6 address")
            }
        } else {
            host = text
            if let colon = text.lastIndex(of: ":") {
                host = text[..<colon]
                portText = text[text.index(after: colon)...]
                if host.contains(":") {
                    throw ValueError("\"\(context)\": put an IPv6 address in brackets, like [2001:db8::1]:80")
                }
            }
            if host.isEmpty { throw ValueError("\"\(context)\": missing host") }
            if IPAddress(host) == nil {
                do throws(ValueError) {
                    try NameText.checkHostName(String(host), absolute: false)
                } catch {
                    throw ValueError("\"\(context)\": host \"\(host)\" \(error.message)")
                }
            }
        }
        guard let portText else {
            guard let defaultPort else { throw ValueError("\"\(context)\": missing port (write HOST:PORT)") }
            return (String(host), defaultPort)
        }
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
              let port = Int(portText), (1...65535).contains(port) else {
            throw ValueError("\"\(context)\": port \"\(portText)\" is not a number 1...65535")
        }
        return (String(host), port)
    }
}
