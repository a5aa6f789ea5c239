import Logging
import MeridianConfig
import MeridianControl
import MeridianFleet
import MeridianHealth
import NIOConcurrencyHelpers
import NIOCore

/// This node's member of the fleet: keeps a lease in etcd with the node's record and its own
/// health verdicts under it, watches the fleet's drains, the other nodes' verdicts and the
/// publications, and hands them to the health checker (which folds them into the table the
/// answering threads read) and, for publications, to the controller (which loads them as a
/// reload does). Nothing here is on a query's path.
///
/// Failure behaviour (fail-static): while etcd cannot be reached the node keeps the fleet
/// state it last saw (drains, the peers' verdicts) together with its own probes, reports
/// itself disconnected, and tries again every half second; once back it reads everything
/// again, so what changed meanwhile (a drain, a node that died) applies at once. A watch that
/// ends (its member stopped) is re-established on another member without counting as a
/// disconnection.
actor FleetAgent {
    /// Loads a publication written to a directory; returns the error lines when it is rejected.
    typealias PublicationHandler = @Sendable (_ directory: String, _ revision: Int64) async -> [String]?

    let settings: FleetSettings
    private let keys: FleetKeys
    private let etcd: EtcdClient
    private let health: HealthChecker
    private let store: PublishedStore
    private let logger: Logger
    private var publicationHandler: PublicationHandler?

    private var connected = false
    private var disconnectedSince: Double?
    private var lastError: String?
    private var lease: Int64?

    // The fleet as last read from etcd.
    private var drains: [String: FleetDrain] = [:]
    /// Every live node's verdicts, this one's included: node → edge → verdict.
    private var verdicts: [String: [String: FleetVerdict]] = [:]
    private var nodes: [String: FleetNodeRecord] = [:]
    private var publishedRevision: Int64?

    // This node.
    private let ownVerdictBox = NIOLockedValueBox<[String: FleetVerdict]>([:])
    private var writtenVerdicts: [String: FleetVerdict]?
    private var syncingVerdicts = false
    private var servedRevision: Int64?
    private var rejected: (revision: Int64, message: String)?
    private var applying = false
    /// Whether the current session got as far as watching.
    private var established = false

    init(settings: FleetSettings, health: HealthChecker, servedRevision: Int64?, eventLoopGroup: any EventLoopGroup,
         logger: Logger) throws(EtcdError) {
        self.settings = settings
        keys = FleetKeys(prefix: settings.prefix)
        etcd = try EtcdClient(settings: settings, eventLoopGroup: eventLoopGroup)
        self.health = health
        store = PublishedStore(directory: settings.publishedDirectory)
        self.servedRevision = settings.data == .published ? servedRevision : nil
        disconnectedSince = wallClockSeconds()
        var logger = logger
        logger[metadataKey: "node"] = "\(settings.node)"
        self.logger = logger
    }

    func setPublicationHandler(_ handler: @escaping PublicationHandler) {
        publicationHandler = handler
    }

    // MARK: Running

    /// Runs until cancelled, then gives up the lease (so the node's verdicts stop counting
    /// at once rather than when the lease runs out) within a second.
    func run() async {
        let box = ownVerdictBox
        await health.observeOwnVerdicts { verdicts in
            box.withLockedValue { $0 = verdicts }
            Task { await self.ownVerdictsChanged() }
        }
        while !Task.isCancelled {
            established = false
            do {
                try await session()
            } catch {
                if Task.isCancelled { break }
                if established {
                    // The watch's member went away, or the keep-alive failed (already noted):
                    // try again at once, on another member.
                    logger.info("fleet: connection to etcd lost; reconnecting", metadata: ["error": "\(error)"])
                    continue
                }
                noteFailure(error)
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
        // Outside the cancelled task: a request made from it would fail before it is sent.
        let etcd = etcd
        await Task.detached { [lease] in
            if let lease { try? await etcd.revoke(lease: lease) }
            await etcd.shutdown()
        }.value
    }

    private func noteFailure(_ error: any Error) {
        let message = "\(error)"
        if connected || lastError != message {
            logger.warning("fleet: cannot reach etcd; serving with the last fleet state and this node's own probes",
                           metadata: ["error": "\(message)"])
        }
        lastError = message
        markDisconnected()
    }

    private func markDisconnected() {
        guard connected else { return }
        connected = false
        disconnectedSince = wallClockSeconds()
    }

    /// One connection to etcd: lease, full read, then watch and keep-alives until one fails.
    private func session() async throws {
        let lease = try await currentLease()
        let (revision, pairs) = try await etcd.range(prefix: keys.prefix)
        rebuild(from: pairs)
        try await writeOwnVerdicts(force: true)
        try await writeNodeRecord()
        if !connected {
            if disconnectedSince != nil, lastError != nil {
                logger.notice("fleet: connected to etcd again", metadata: ["revision": "\(revision)"])
            } else {
                logger.info("fleet: connected to etcd", metadata: ["revision": "\(revision)", "nodes": "\(nodes.count)"])
            }
        }
        connected = true
        disconnectedSince = nil
        lastError = nil
        // A verdict that changed while the session was being set up was not written then.
        await ownVerdictsChanged()
        await pushToHealth()
        considerPublication()
        established = true
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await self.etcd.watch(prefix: self.keys.prefix, from: revision + 1, started: {}) { events, _ in
                    await self.apply(events)
                }
            }
            group.addTask { try await self.keepAlive(lease) }
            // Whichever ends first ends the session; the other is cancelled.
            _ = try await group.next()
            group.cancelAll()
        }
    }

    /// The lease kept from the last session when it is still alive, else a new one.
    private func currentLease() async throws(EtcdError) -> Int64 {
        if let lease, try await etcd.keepAlive(lease: lease) > 0 { return lease }
        let ttl = max(1, Int(settings.leaseTTL.components.seconds))
        let granted = try await etcd.grantLease(ttl: ttl)
        lease = granted
        writtenVerdicts = nil
        return granted
    }

    /// Renews the lease a few times per TTL and refreshes the node record; throws when etcd
    /// cannot be reached or the lease is gone.
    private func keepAlive(_ lease: Int64) async throws {
        let interval = max(Duration.milliseconds(300), settings.leaseTTL / 3)
        while !Task.isCancelled {
            try await Task.sleep(for: interval)
            do {
                let left = try await etcd.keepAlive(lease: lease)
                if left <= 0 {
                    self.lease = nil
                    throw EtcdError(message: "the lease expired")
                }
                try await writeNodeRecord()
            } catch {
                noteFailure(error)
                throw error
            }
        }
    }

    // MARK: The fleet's state

    private func rebuild(from pairs: [KeyValue]) {
        drains = [:]
        verdicts = [:]
        nodes = [:]
        publishedRevision = nil
        for pair in pairs { store(pair) }
    }

    private func store(_ pair: KeyValue) {
        switch keys.kind(of: pair.key) {
        case .drain(let edge):
            drains[edge] = FleetJSON.decode(FleetDrain.self, pair.value) ?? FleetDrain(by: "unknown", at: 0, reason: nil)
        case .verdict(let node, let edge):
            if let verdict = FleetJSON.decode(FleetVerdict.self, pair.value) { verdicts[node, default: [:]][edge] = verdict }
        case .node(let name):
            if let record = FleetJSON.decode(FleetNodeRecord.self, pair.value) { nodes[name] = record }
        case .data:
            if pair.key == keys.manifest { publishedRevision = pair.modRevision }
        case .other:
            break
        }
    }

    private func remove(_ key: String) {
        switch keys.kind(of: key) {
        case .drain(let edge): drains[edge] = nil
        case .verdict(let node, let edge):
            verdicts[node]?[edge] = nil
            if verdicts[node]?.isEmpty == true { verdicts[node] = nil }
        case .node(let name): nodes[name] = nil
        case .data, .other: break
        }
    }

    private func apply(_ events: [WatchEvent]) async {
        let before = (drains, verdicts)
        let manifestBefore = publishedRevision
        for event in events {
            switch event.kind {
            case .put: store(event.pair)
            case .delete: remove(event.pair.key)
            }
        }
        if before.0 != drains || before.1 != verdicts { await pushToHealth() }
        if publishedRevision != manifestBefore { considerPublication() }
    }

    /// Hands the drains and the other live nodes' verdicts (edge → node → verdict) to the checker.
    private func pushToHealth() async {
        var peers: [String: [String: FleetVerdict]] = [:]
        for (node, byEdge) in verdicts where node != settings.node {
            for (edge, verdict) in byEdge { peers[edge, default: [:]][node] = verdict }
        }
        await health.setFleetDrains(drains)
        await health.setPeerVerdicts(peers)
    }

    // MARK: This node's records

    private func ownVerdictsChanged() async {
        guard connected, !syncingVerdicts else { return }
        syncingVerdicts = true
        defer { syncingVerdicts = false }
        do {
            // Until what is written is what the checker says: changes may arrive meanwhile.
            repeat {
                if try await writeOwnVerdicts(force: false) { try await writeNodeRecord() }
            } while ownVerdictBox.withLockedValue({ $0 }) != writtenVerdicts
        } catch {
            noteFailure(error)
        }
    }

    /// Writes the verdicts that changed since the last write (all with `force`) and deletes
    /// those of edges no longer checked. Returns whether anything was written.
    @discardableResult
    private func writeOwnVerdicts(force: Bool) async throws(EtcdError) -> Bool {
        guard let lease else { return false }
        let own = ownVerdictBox.withLockedValue { $0 }
        let written = force ? (verdicts[settings.node] ?? [:]) : (writtenVerdicts ?? [:])
        var changed = false
        for (edge, verdict) in own.sorted(by: { $0.key < $1.key }) where force || written[edge]?.down != verdict.down {
            try await etcd.put(keys.verdict(node: settings.node, edge: edge), FleetJSON.encode(verdict), lease: lease)
            changed = true
        }
        for edge in written.keys.sorted() where own[edge] == nil {
            try await etcd.delete(keys.verdict(node: settings.node, edge: edge))
            changed = true
        }
        writtenVerdicts = own
        return changed
    }

    private func writeNodeRecord() async throws(EtcdError) {
        guard let lease else { return }
        let own = ownVerdictBox.withLockedValue { $0 }
        let record = FleetNodeRecord(
            node: settings.node, version: MeridianVersion.current, lastSeen: wallClockSeconds(), data: settings.data.rawValue,
            revision: servedRevision, rejected: rejected?.message, rejectedRevision: rejected?.revision,
            edgesDown: own.filter(\.value.down).keys.sorted())
        try await etcd.put(keys.node(settings.node), FleetJSON.encode(record), lease: lease)
        nodes[settings.node] = record
    }

    // MARK: Publications

    /// Applies the newest publication when this node serves published data and has not
    /// applied (or rejected) it yet. One at a time; a newer one arriving meanwhile follows.
    private func considerPublication() {
        guard settings.data == .published, !applying, let revision = publishedRevision,
              revision != servedRevision, revision != rejected?.revision else { return }
        applying = true
        Task {
            await self.applyPublication(revision)
            self.applying = false
            self.considerPublication()
        }
    }

    private func applyPublication(_ revision: Int64) async {
        guard let publicationHandler else { return }
        let problem: String?
        do throws(EtcdError) {
            let (_, pairs) = try await etcd.range(prefix: keys.data, revision: revision)
            if let publication = Publication(pairs: pairs, keys: keys) {
                do throws(PublishedStoreError) {
                    let directory = try store.write(publication, revision: revision)
                    if let errors = await publicationHandler(directory, revision) {
                        problem = errors.joined(separator: "; ")
                    } else {
                        try store.markCurrent(revision)
                        problem = nil
                    }
                } catch {
                    problem = error.message
                }
            } else {
                problem = "publication \(revision) is incomplete in etcd"
            }
        } catch {
            // Not the publication's fault: the next connection tries again.
            noteFailure(error)
            return
        }
        if let problem {
            store.discard(except: servedRevision)
            rejected = (revision, problem)
            logger.error("fleet: publication rejected; still serving the previous data", metadata: [
                "revision": "\(revision)", "serving": "\(servedRevision.map(String.init) ?? "own data")", "error": "\(problem)",
            ])
        } else {
            servedRevision = revision
            rejected = nil
            logger.notice("fleet: publication applied", metadata: ["revision": "\(revision)"])
        }
        try? await writeNodeRecord()
    }

    // MARK: Operators

    /// Drains `edge` fleet-wide (or lifts the drain): written to etcd, applied here at once,
    /// by the others through their watches.
    func setDrain(edge: String, drained: Bool, options: DrainOptions) async -> Result<Void, ControlFailure> {
        do throws(EtcdError) {
            if drained {
                let drain = FleetDrain(by: options.by ?? "dnsctl@\(settings.node)", at: wallClockSeconds(), reason: options.reason)
                try await etcd.put(keys.drain(edge), FleetJSON.encode(drain))
                drains[edge] = drain
            } else {
                try await etcd.delete(keys.drain(edge))
                drains[edge] = nil
            }
        } catch {
            return .failure(ControlFailure(
                "\(error.unreachable ? "etcd cannot be reached" : "etcd refused the change"): the edge was not "
                    + "\(drained ? "drained" : "undrained") fleet-wide (\(error)); `dnsctl \(drained ? "drain" : "undrain") --local \(edge)` "
                    + "changes this node alone"))
        }
        await health.setFleetDrains(drains)
        return .success(())
    }

    var connection: FleetConnection {
        FleetConnection(node: settings.node, connected: connected, disconnectedSince: connected ? nil : disconnectedSince,
                        lastError: connected ? nil : lastError)
    }

    func report() -> FleetReply {
        let rows = nodes.values.sorted { $0.node < $1.node }.map { record in
            let lagging = record.data == FleetSettings.DataSource.published.rawValue && publishedRevision != nil
                && record.revision != publishedRevision && record.rejectedRevision != publishedRevision
            return FleetReply.Node(node: record.node, version: record.version, lastSeen: record.lastSeen, data: record.data,
                                   revision: record.revision, rejected: record.rejected, lagging: lagging, edgesDown: record.edgesDown)
        }
        let drainRows = drains.sorted { $0.key < $1.key }.map { FleetReply.Drain(edge: $0.key, by: $0.value.by, at: $0.value.at,
                                                                                  reason: $0.value.reason) }
        return FleetReply(node: settings.node, connected: connected, disconnectedSince: connected ? nil : disconnectedSince,
                          lastError: connected ? nil : lastError, etcd: settings.endpoints, prefix: settings.prefix,
                          healthQuorum: settings.healthQuorum.description, data: settings.data.rawValue,
                          publishedRevision: publishedRevision, nodes: rows, drains: drainRows)
    }
}
