/// The edges picked for one answer.
public struct Selection: Sendable, Equatable {
    /// Number of edges written to the output.
    public var count: Int
    /// A nearer edge was passed over because it is down or drained: answer with half the TTL.
    public var skippedNearer: Bool
    /// No listed edge was up; `count` edges were picked by the pool's `when_all_down`.
    public var allDown: Bool
    /// The pool says SERVFAIL when everything is down.
    public var servfail: Bool
}

extension RoutingTable {
    @inline(__always)
    func edgeHas(_ edge: Int, _ kind: AnswerKind) -> Bool {
        answerData.counts[AnswerData.slot(edge, kind)] > 0
    }

    /// Picks the first `answers` up edges of `list` that can answer `kind` (one for CNAME).
    /// Edges without that kind of data are skipped silently; down edges are skipped and
    /// noted. When none is up, `when_all_down` decides: every capable edge, or SERVFAIL.
    /// Allocation-free: indices go to `output`, which holds at least `edges.count` entries.
    @inline(__always)
    public func select(pool: Int, list: Int32, kind: AnswerKind, health: HealthTable,
                       into output: UnsafeMutablePointer<UInt16>) -> Selection {
        let wanted = kind == .cname ? 1 : answerData.poolAnswers[pool]
        var selection = Selection(count: 0, skippedNearer: false, allDown: false, servfail: false)
        var capable = 0
        withList(list) { ordered in
            for edge in ordered {
                let index = Int(edge)
                guard edgeHas(index, kind) else { continue }
                capable += 1
                guard health.isUp(index) else {
                    selection.skippedNearer = true
                    continue
                }
                output[selection.count] = edge
                selection.count += 1
                if selection.count == wanted { break }
            }
        }
        guard selection.count == 0, capable > 0 else { return selection }
        selection.allDown = true
        selection.skippedNearer = false
        if answerData.poolServfail[pool] {
            selection.servfail = true
            return selection
        }
        // Fail open: better a possibly-down edge than no answer.
        withList(list) { ordered in
            for edge in ordered where edgeHas(Int(edge), kind) {
                output[selection.count] = edge
                selection.count += 1
                if kind == .cname { break }
            }
        }
        return selection
    }
}
