import AsyncHTTPClient
import MeridianConfig
import NIOCore

extension HealthCheck {
    /// The probe for this check; HTTP(S) probes share `client`.
    public func makeProbe(client: HTTPClient, userAgent: String) -> any HealthProbe {
        switch kind {
        case .http(let url), .https(let url):
            HTTPProbe(url: url, expectStatus: expectStatus, expectBody: expectBody, host: host,
                      tlsVerify: tlsVerify, timeout: timeout, userAgent: userAgent, client: client)
        case .tcp(let host, let port):
            TCPProbe(host: host, port: port, timeout: timeout)
        }
    }

    /// What the check looks at, for reports: the URL, or `tcp://HOST:PORT`.
    var target: String {
        switch kind {
        case .http(let url), .https(let url): url
        case .tcp(let host, let port): host.contains(":") ? "tcp://[\(host)]:\(port)" : "tcp://\(host):\(port)"
        }
    }
}
