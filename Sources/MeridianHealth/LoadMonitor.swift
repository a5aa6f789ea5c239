import AsyncHTTPClient
import Logging
import MeridianConfig
import MeridianExposition
import MeridianRouting
import NIOCore
import NIOHTTP1

/// What the load feed of one edge says now, for `dnsctl edges`, `/metrics` and explain.
public struct LoadReport: Sendable, Equatable {
    public enum FeedState: String, Sendable, Equatable {
        /// No read has succeeded yet.
        case starting
        /// The last read succeeded.
        case fresh
        /// Reads failed, but fewer than `stale_after` in a row: the last fraction holds.
        case failing
        /// `stale_after` reads in a row failed: load unknown, nothing is shed.
        case stale
    }

    public struct Reading: Sendable, Equatable {
        public var metric: String
        /// The sum over the matching series at the last read; nil when the page lacked it.
        public var value: Double?
        /// What the signal alone asks to shed, 0 to 1.
        public var fraction: Double?
    }

    public var edge: String
    public var state: FeedState
    /// The fraction of client networks shed now (after smoothing).
    public var shedFraction: Double
    public var readings: [Reading]
    /// Failed reads in a row, and since the start.
    public var consecutiveFailures: Int
    public var failures: UInt64
    public var lastError: String?
}

/// Reads every edge's `load.metrics` page every `load.interval` and turns its signals into a
/// shed fraction: each signal gives `clamp((value - low) / (high - low), 0, 1)`, the largest
/// wins, and the published fraction moves towards it by at most `max_step` per read, because
/// answers live in resolvers' caches for a TTL and an instant swing would oscillate. A feed
/// that fails `stale_after` times in a row sheds nothing (fail-open): load never takes an
/// edge out; health checks and drains do that. Publishes thresholds, by edge index, through
/// `onChange` whenever one changes.
public actor LoadMonitor {
    /// Largest metrics page read; vLLM's is about 20 KiB.
    public static let bodyLimit = 4 * 1024 * 1024

    private var edges: [Edge]
    private var states: [String: FeedStatus] = [:]
    private var pollers: [String: Task<Void, Never>] = [:]
    private var published: [UInt64] = []
    private let client: HTTPClient
    private let onChange: @Sendable ([UInt64]) -> Void
    private let logger: Logger

    struct FeedStatus {
        var feed: LoadFeed
        var report: LoadReport
    }

    public init(edges: [Edge], eventLoopGroup: any EventLoopGroup, logger: Logger, onChange: @escaping @Sendable ([UInt64]) -> Void) {
        self.edges = edges
        self.logger = logger
        self.onChange = onChange
        client = HTTPProbe.makeClient(eventLoopGroup: eventLoopGroup)
    }

    /// Starts reading every feed.
    public func start() {
        configure(edges)
    }

    /// The edges of a reload: feeds that did not change keep their state, new ones start,
    /// removed ones stop. Returns the thresholds for the new edge order.
    public func update(edges: [Edge]) -> [UInt64] {
        self.edges = edges
        configure(edges)
        published = thresholds()
        return published
    }

    /// The shed thresholds by edge index (0 for edges without a feed).
    private func thresholds() -> [UInt64] {
        edges.map { edge in states[edge.name].map { HealthTable.threshold(shedding: $0.report.shedFraction) } ?? 0 }
    }

    public func snapshot() -> [LoadReport] {
        edges.compactMap { states[$0.name]?.report }
    }

    public func shutdown() async {
        for poller in pollers.values { poller.cancel() }
        for poller in pollers.values { await poller.value }
        pollers = [:]
        try? await client.shutdown()
    }

    private func configure(_ edges: [Edge]) {
        let feeds = Dictionary(edges.compactMap { edge in edge.load.map { (edge.name, $0) } }, uniquingKeysWith: { first, _ in first })
        for (name, poller) in pollers where feeds[name] != states[name]?.feed {
            poller.cancel()
            pollers[name] = nil
            states[name] = nil
        }
        for (name, feed) in feeds where pollers[name] == nil {
            states[name] = FeedStatus(feed: feed, report: LoadReport(
                edge: name, state: .starting, shedFraction: 0,
                readings: feed.signals.map { LoadReport.Reading(metric: $0.metric) }, consecutiveFailures: 0, failures: 0))
            pollers[name] = Task { [weak self, client] in
                let clock = ContinuousClock()
                while !Task.isCancelled {
                    let started = clock.now
                    let reading = await Self.read(feed, client: client)
                    await self?.record(reading, edge: name, feed: feed)
                    try? await clock.sleep(until: started + feed.interval)
                }
            }
        }
    }

    /// One read of a feed: every signal's value, or why the read failed.
    static func read(_ feed: LoadFeed, client: HTTPClient) async -> Result<[Double], ReadFailure> {
        do {
            var request = HTTPClientRequest(url: feed.metrics)
            request.headers.add(name: "User-Agent", value: "meridian-load-feed")
            request.headers.add(name: "Accept", value: "text/plain; version=0.0.4")
            let response = try await client.execute(request, timeout: TimeAmount(feed.timeout))
            guard response.status == .ok else { return .failure(ReadFailure("HTTP \(response.status.code)")) }
            let body = try await response.body.collect(upTo: bodyLimit)
            let samples = try ExpositionParser.parse(String(buffer: body))
            var values: [Double] = []
            for signal in feed.signals {
                guard let value = ExpositionParser.sum(of: signal.metric, labels: signal.labels, in: samples) else {
                    return .failure(ReadFailure("no sample of \(signal.metric)\(signal.labels.isEmpty ? "" : " with \(signal.labels)")"))
                }
                values.append(value)
            }
            return .success(values)
        } catch let error as ExpositionError {
            return .failure(ReadFailure("bad metrics page: \(error)"))
        } catch is NIOTooManyBytesError {
            return .failure(ReadFailure("metrics page larger than \(bodyLimit) bytes"))
        } catch {
            switch ProbeFailure.classify(error, timeout: feed.timeout) {
            case .reason(let reason): return .failure(ReadFailure(reason))
            case .certificateVerificationFailed: return .failure(ReadFailure("TLS: certificate not trusted"))
            }
        }
    }

    /// What one signal asks to shed: `clamp((value - low) / (high - low), 0, 1)`.
    public static func fraction(of value: Double, for signal: LoadFeed.Signal) -> Double {
        min(max((value - signal.low) / (signal.high - signal.low), 0), 1)
    }

    /// The next published fraction: towards `target`, by at most `maxStep`.
    public static func step(from current: Double, towards target: Double, by maxStep: Double) -> Double {
        current + min(max(target - current, -maxStep), maxStep)
    }

    struct ReadFailure: Error {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }

    private func record(_ reading: Result<[Double], ReadFailure>, edge: String, feed: LoadFeed) {
        guard var status = states[edge], status.feed == feed else { return }
        var report = status.report
        switch reading {
        case .success(let values):
            let fractions = zip(feed.signals, values).map { Self.fraction(of: $1, for: $0) }
            report.readings = zip(feed.signals, zip(values, fractions)).map {
                LoadReport.Reading(metric: $0.metric, value: $1.0, fraction: $1.1)
            }
            report.shedFraction = Self.step(from: report.state == .stale ? 0 : report.shedFraction, towards: fractions.max() ?? 0,
                                            by: feed.maxStep)
            report.state = .fresh
            report.consecutiveFailures = 0
            report.lastError = nil
        case .failure(let failure):
            report.consecutiveFailures += 1
            report.failures += 1
            report.lastError = failure.reason
            if report.consecutiveFailures >= feed.staleAfter {
                if report.state != .stale {
                    logger.warning("load feed stale: shedding nothing", metadata: ["edge": "\(edge)", "reason": "\(failure.reason)"])
                }
                report.state = .stale
                report.shedFraction = 0
            } else if report.state != .starting {
                report.state = .failing
            }
        }
        status.report = report
        states[edge] = status
        let next = thresholds()
        if next != published {
            published = next
            onChange(next)
        }
    }
}

extension LoadReport.Reading {
    init(metric: String) {
        self.init(metric: metric, value: nil, fraction: nil)
    }
}
