/// What the control socket and the stats port ask of the server. The daemon implements it
/// over its live data; tests use a fake. Every method is answered from whatever the server
/// is serving at that moment and never throws: the cases a caller can get wrong come back
/// as a ``ControlFailure``.
public protocol ControlBackend: Sendable {
    /// Re-reads configuration, zones and the GeoIP database, validates them and swaps them
    /// in; returns once the new data is served everywhere, or rejected with the old data
    /// still serving.
    func reload() async -> ReloadReply
    func status() async -> StatusReply
    func edges() async -> EdgesReply
    /// Drains or undrains an edge and persists it; the row shows the state afterwards.
    /// Fails for an unknown edge.
    func setDrained(edge: String, drained: Bool) async -> Result<EdgesReply.Row, ControlFailure>
    /// The routing decision for `client` (an address; with `prefix`, an ECS subnet) asking
    /// `name` with `type` (a mnemonic; `nil` for A). Fails when the name is not served by
    /// a dynamic record, or the client or type does not parse.
    func explain(name: String, client: String, prefix: Int?, type: String?) async -> Result<ExplainReply, ControlFailure>
    func stats() async -> StatsReply
    /// Like ``setDrained(edge:drained:)``, with the reason, author and scope of the request.
    func setDrained(edge: String, drained: Bool, options: DrainOptions) async -> Result<EdgesReply.Row, ControlFailure>
    /// The fleet as this node sees it; fails when the node is not in one.
    func fleet() async -> Result<FleetReply, ControlFailure>
    /// The last `seconds` (at most ``HistoryReply/maximumSeconds``) of the per-second series
    /// and the health transitions in them.
    func history(seconds: Int) async -> HistoryReply
}

extension ControlBackend {
    public func setDrained(edge: String, drained: Bool, options: DrainOptions) async -> Result<EdgesReply.Row, ControlFailure> {
        await setDrained(edge: edge, drained: drained)
    }

    public func fleet() async -> Result<FleetReply, ControlFailure> {
        .failure(ControlFailure("this server is not part of a fleet (no fleet: section in its configuration)"))
    }

    /// A backend that keeps no history has none to give.
    public func history(seconds: Int) async -> HistoryReply {
        .empty(now: 0)
    }

    /// Carries out one request; the reply is encoded as the request's reply type.
    public func handle(_ request: ControlRequest) async -> Result<any Encodable & Sendable, ControlFailure> {
        switch request {
        case .reload: return .success(await reload())
        case .status: return .success(await status())
        case .edges: return .success(await edges())
        case .stats: return .success(await stats())
        case .drain(let edge, let options): return await setDrained(edge: edge, drained: true, options: options).map { $0 }
        case .undrain(let edge, let options): return await setDrained(edge: edge, drained: false, options: options).map { $0 }
        case .fleet: return await fleet().map { $0 }
        case .explain(let name, let client, let prefix, let type):
            return await explain(name: name, client: client, prefix: prefix, type: type).map { $0 }
        }
    }
}
