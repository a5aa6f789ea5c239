import NIOCore

/// What one check of an edge found: pass or fail, how long it took, and why, in words an
/// operator reads in `dnsctl edges` and in the log (`HTTP 503`, `connection refused`,
/// `timeout after 2s`, `TLS: certificate expired`, `body did not contain "ok"`).
public struct ProbeResult: Sendable, Equatable {
    public var passed: Bool
    /// From the start of the probe to its verdict.
    public var latency: Duration
    public var reason: String

    public init(passed: Bool, latency: Duration, reason: String) {
        self.passed = passed
        self.latency = latency
        self.reason = reason
    }
}

/// One kind of health check. Probes only report what they saw; the ``HealthChecker`` owns
/// thresholds, transitions and scheduling (as gdnsd's monitors report and its core decides).
///
/// A probe runs on the event loop it is given, without blocking it: a thousand probes share
/// one loop thread and none waits for another. It must bound itself: the future succeeds
/// (it never fails) within the probe's timeout plus scheduling slack, with `timeout after …`
/// when the edge did not answer in time.
public protocol HealthProbe: Sendable {
    func check(on eventLoop: any EventLoop) -> EventLoopFuture<ProbeResult>
}

extension Duration {
    /// Short operator text: `2s`, `150ms`, `1.5s`, `2m`.
    var operatorText: String {
        let (seconds, attoseconds) = components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        if milliseconds % 60_000 == 0 && milliseconds >= 60_000 { return "\(milliseconds / 60_000)m" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        var text = "\(milliseconds / 1000)."
        var fraction = milliseconds % 1000
        var digits = 3
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let fractionText = String(fraction)
        text += String(repeating: "0", count: digits - fractionText.count) + fractionText
        return text + "s"
    }

    /// Milliseconds as a `Double`, for reports.
    var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
