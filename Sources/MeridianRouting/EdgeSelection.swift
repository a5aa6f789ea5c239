import MeridianWire

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
    /// The nearest healthy edge passed over because it sheds this client's network, or -1.
    public var shedEdge: Int32 = -1
    /// The answer moved for load.
    public var shedNearer: Bool { shedEdge >= 0 }
    /// Some edge considered sheds part of its clients: the answer depends on the network's
    /// shed hash, so it holds for no wider a network than the one hashed.
    public var loadDependent: Bool = false
}

extension RoutingTable {
    @inline(__always)
    func edgeHas(_ edge: Int, _ kind: AnswerKind) -> Bool {
        answerData.counts[AnswerData.slot(edge, kind)] > 0
    }

    /// Picks the first `answers` up edges of `list` that can answer `kind` (one for CNAME)
    /// and do not shed `client`'s network. Edges without that kind of data are skipped
    /// silently; down edges are skipped and noted; an edge shedding the client is skipped
    /// too, but when fewer than `answers` remain the nearest of those fill the answer: load
    /// never empties it. When none is up, `when_all_down` decides: every capable edge, or
    /// SERVFAIL. Allocation-free: indices go to `output`, which holds at least `edges.count`
    /// entries.
    @inline(__always)
    public func select(pool: Int, list: Int32, kind: AnswerKind, health: HealthTable, client: ClientAddress,
                       into output: UnsafeMutablePointer<UInt16>) -> Selection {
        let wanted = kind == .cname ? 1 : answerData.poolAnswers[pool]
        var selection = Selection(count: 0, skippedNearer: false, allDown: false, servfail: false)
        var capable = 0
        var shed = 0
        var networkHash: UInt64?
        withList(list) { ordered in
            for edge in ordered {
                let index = Int(edge)
                guard edgeHas(index, kind) else { continue }
                capable += 1
                guard health.isUp(index) else {
                    selection.skippedNearer = true
                    continue
                }
                let threshold = health.shedThreshold(index)
                if threshold > 0 {
                    if threshold < HealthTable.shedsEverybody { selection.loadDependent = true }
                    let hash = networkHash ?? ShedHash.network(shedNetwork(pool: pool, client: client))
                    networkHash = hash
                    if ShedHash.position(network: hash, key: answerData.edgeShedKeys[index]) < threshold {
                        if !selection.shedNearer { selection.shedEdge = Int32(index) }
                        shed += 1
                        continue
                    }
                }
                output[selection.count] = edge
                selection.count += 1
                if selection.count == wanted { break }
            }
        }
        if selection.count < wanted && shed > 0 {
            fillWithShedEdges(list: list, kind: kind, health: health, wanted: wanted, selection: &selection, output: output)
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

    /// The prefix length a pool's shed decisions stick to, for a client of `family`.
    @inline(__always)
    public func shedPrefix(pool: Int, family: ClientAddress.Family) -> Int {
        answerData.poolShedPrefixes[2 * pool + (family == .ipv4 ? 0 : 1)]
    }

    /// The client's network as the pool's shed decisions see it.
    @inline(__always)
    func shedNetwork(pool: Int, client: ClientAddress) -> ClientAddress {
        client.masked(to: shedPrefix(pool: pool, family: client.family))
    }

    /// Adds, nearest first, up edges that were passed over as shedding the client, until the
    /// answer has `wanted` edges: a healthy edge under load is better than a short answer.
    @inline(never)
    func fillWithShedEdges(list: Int32, kind: AnswerKind, health: HealthTable, wanted: Int, selection: inout Selection,
                           output: UnsafeMutablePointer<UInt16>) {
        let chosen = selection.count
        withList(list) { ordered in
            for edge in ordered where selection.count < wanted && edgeHas(Int(edge), kind) && health.isUp(Int(edge)) {
                if (0..<chosen).contains(where: { output[$0] == edge }) { continue }
                output[selection.count] = edge
                selection.count += 1
            }
        }
        // Nothing moved when every candidate shed the client: it keeps its nearest edge.
        if chosen == 0 { selection.shedEdge = -1 }
    }
}
