import AsyncHTTPClient
import NIOCore
import NIOPosix
import NIOSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns the errors of NIO, NIOSSL and AsyncHTTPClient into the short reasons operators
/// read: `connection refused`, `timeout after 2s`, `TLS: certificate not trusted`.
enum ProbeFailure {
    /// What a failed TLS handshake needs to be explained further (see ``TLSDiagnosis``).
    enum Kind: Equatable {
        case reason(String)
        /// Certificate verification failed; only a second look at the chain tells why.
        case certificateVerificationFailed
    }

    static func classify(_ error: any Error, timeout: Duration) -> Kind {
        let timedOut = "timeout after \(timeout.operatorText)"
        switch error {
        case let error as HTTPClientError:
            switch error {
            case .deadlineExceeded, .connectTimeout, .readTimeout, .writeTimeout, .tlsHandshakeTimeout,
                 .getConnectionFromPoolTimeout:
                return .reason(timedOut)
            case .remoteConnectionClosed:
                return .reason("connection closed before a response")
            case .cancelled:
                return .reason("cancelled")
            case .invalidURL, .emptyHost, .emptyScheme:
                return .reason("invalid check URL")
            default:
                return .reason("HTTP error: \(error.shortDescription)")
            }
        case let error as ChannelError:
            switch error {
            case .connectTimeout: return .reason(timedOut)
            case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed, .inputClosed:
                return .reason("connection closed before a response")
            default: return .reason("connection failed: \(error)")
            }
        case let error as NIOConnectionError:
            if error.dnsAError != nil || error.dnsAAAAError != nil, error.connectionErrors.isEmpty {
                return .reason("cannot resolve \(error.host)")
            }
            // Report the first address's failure: with several addresses the causes agree in
            // practice, and one short reason reads better than a list.
            if let first = error.connectionErrors.first {
                return classify(first.error, timeout: timeout)
            }
            return .reason("connection failed")
        case let error as IOError:
            return .reason(describe(errno: error.errnoCode, timedOut: timedOut))
        case let error as NIOSSLError:
            switch error {
            case .handshakeFailed(let underlying):
                if "\(underlying)".contains("CERTIFICATE_VERIFY_FAILED") { return .certificateVerificationFailed }
                return .reason("TLS: handshake failed (\(shortTLS(underlying)))")
            case .uncleanShutdown:
                return .reason("TLS: connection closed without close_notify")
            default:
                return .reason("TLS: \(error)")
            }
        case let error as NIOSSLExtraError:
            if error == .failedToValidateHostname { return .reason("TLS: certificate does not match the host name") }
            return .reason("TLS: \(error)")
        case is CancellationError:
            return .reason("cancelled")
        default:
            if "\(error)".contains("EOF during handshake") { return .reason("TLS: connection closed during the handshake") }
            return .reason("\(error)")
        }
    }

    static func describe(errno code: CInt, timedOut: String) -> String {
        switch code {
        case ECONNREFUSED: "connection refused"
        case ECONNRESET: "connection reset"
        case ETIMEDOUT: timedOut
        case EHOSTUNREACH: "host unreachable"
        case ENETUNREACH: "network unreachable"
        case EPIPE: "connection closed before a response"
        case EADDRNOTAVAIL: "address not available"
        default: "connection failed: \(String(cString: strerror(code)))"
        }
    }

    /// BoringSSL's reason codes (`WRONG_VERSION_NUMBER`) in lower case, without file and line.
    private static func shortTLS(_ error: BoringSSLError) -> String {
        guard case .sslError(let stack) = error else { return "\(error)" }
        let reasons = stack.compactMap { entry -> String? in
            // "Error: 268435703 error:100000f7:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER at …"
            let text = "\(entry)"
            guard let range = text.firstRange(of: "OPENSSL_internal:") else { return nil }
            let code = text[range.upperBound...].prefix { $0 != " " }
            return String(code.lowercased().map { $0 == "_" ? " " : $0 })
        }
        return reasons.first ?? "\(error)"
    }
}
