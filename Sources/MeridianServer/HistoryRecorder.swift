import MeridianControl
import MeridianHealth
import MeridianStats
import NIOConcurrencyHelpers

/// The server's ``TrafficHistory``, written by the query-rate sampler once a second and by
/// the health checker on its loop, read by the stats port. Nothing on the query path
/// touches it: the sampler reads the totals the answering threads already share.
final class HistoryRecorder: Sendable {
    private let history = NIOLockedValueBox(TrafficHistory(bucketsSeconds: QueryCounters.responseBuckets))

    func sample(_ totals: AnswerTotals, at time: Double) {
        let counters = totals.counters
        history.withLockedValue {
            $0.sample(at: time, queries: counters.queries, responseCounts: counters.responseTimes, answersByEdge: totals.edges)
        }
    }

    func record(_ transition: HealthTransition) {
        let entry = HistoryReply.Transition(at: transition.time, edge: transition.edge, kind: transition.kind.rawValue,
                                            from: transition.from, to: transition.to, reason: transition.reason)
        history.withLockedValue { $0.record(entry) }
    }

    /// Queries per second in the last second sampled.
    var latestQueriesPerSecond: Double { history.withLockedValue { $0.latestQueriesPerSecond } }

    func reply(seconds: Int, now: Double, edges: [HistoryReply.Edge]) -> HistoryReply {
        history.withLockedValue { $0.reply(seconds: seconds, now: now, edges: edges) }
    }
}
