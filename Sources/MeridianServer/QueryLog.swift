import Atomics
import Logging
import MeridianConfig
import MeridianControl
import MeridianFiles
import NIOConcurrencyHelpers

/// The dnstap query log (`log.dnstap`): every answering thread copies the exchanges it
/// samples into its own `QueryLogRing`, and one `DnstapWriter` thread encodes them and
/// writes them out. Answering threads read one word to learn what to log; a reload that
/// changes the settings swaps the writer and that word, never the rings.
final class QueryLog: Sendable {
    /// What answering threads log, as one word they read once per UDP batch or TCP read.
    struct Mode: Equatable {
        let raw: UInt64

        static let off = Mode(raw: 0)

        init(raw: UInt64) { self.raw = raw }

        init(_ settings: DnstapSettings) {
            var raw: UInt64 = 0
            if settings.queries { raw |= 1 }
            if settings.responses { raw |= 2 }
            // A threshold on 32 random bits; 0 stands for "every query".
            let threshold = settings.sample >= 1 ? 0 : max(1, UInt64(settings.sample * 4_294_967_296))
            self.raw = raw | threshold << 32
        }

        @inline(__always) var isOn: Bool { raw != 0 }
        @inline(__always) var queries: Bool { raw & 1 != 0 }
        @inline(__always) var responses: Bool { raw & 2 != 0 }
        /// Exchanges whose 32 random bits are below this are logged; 0 logs all.
        @inline(__always) var sampleThreshold: UInt64 { raw >> 32 }
    }

    private let modeWord = ManagedAtomic<UInt64>(0)
    private let rings = NIOLockedValueBox<[QueryLogRing]>([])
    private let current = NIOLockedValueBox<(settings: DnstapSettings, writer: DnstapWriter)?>(nil)
    /// Messages written to the destination, and messages the writer had to throw away
    /// (no reader connected, or the destination failed), over the server's life.
    let written = ManagedAtomic<Int>(0)
    let unwritten = ManagedAtomic<Int>(0)


    init() {}

    @inline(__always)
    var mode: Mode { Mode(raw: modeWord.load(ordering: .relaxed)) }

    /// A ring for a new answering context.
    func makeRing() -> QueryLogRing {
        let ring = QueryLogRing()
        rings.withLockedValue { $0.append(ring) }
        return ring
    }

    var everyRing: [QueryLogRing] { rings.withLockedValue { $0 } }

    /// Where the log goes, whether its reader is there, and what became of the messages, for
    /// `dnsctl status` and the stats port; `droppedFull` is the answering threads' count. Nil
    /// when there is no log.
    func report(droppedFull: Int) -> StatsReply.QueryLog? {
        current.withLockedValue { current in
            current.map {
                StatsReply.QueryLog(destination: "\($0.settings.destination)", connected: $0.writer.connected.load(ordering: .relaxed),
                                    written: UInt64(written.load(ordering: .relaxed)), droppedFull: UInt64(droppedFull),
                                    droppedUnwritten: UInt64(unwritten.load(ordering: .relaxed)))
            }
        }
    }

    /// Starts, changes or stops the log. A new destination is opened before the old one is
    /// closed, so one that cannot be opened leaves the log as it was. A file moved away since it
    /// was opened (rotated) is opened again. `configFile` names errors' origin.
    func configure(_ settings: DnstapSettings?, identity: String, configFile: String, logger: Logger) async throws(FileLineError) {
        let running = current.withLockedValue { $0 }
        guard let settings else {
            modeWord.store(Mode.off.raw, ordering: .relaxed)
            current.withLockedValue { $0 = nil }
            await running?.writer.stop()
            return
        }
        let identity = settings.identity ?? identity
        if let running, running.settings.destination == settings.destination, running.writer.identity == identity,
           !running.writer.destinationMoved {
            current.withLockedValue { $0?.settings = settings }
            modeWord.store(Mode(settings).raw, ordering: .relaxed)
            return
        }
        let output: DnstapOutput
        do {
            output = try DnstapOutput.open(settings.destination)
        } catch {
            throw FileLineError(file: configFile, line: settings.sourceLine, message: "log.dnstap: \(error)")
        }
        // One writer drains the rings at a time: the old one finishes before the new one starts.
        await running?.writer.stop()
        let writer = DnstapWriter(identity: identity, output: output, log: self, logger: logger)
        current.withLockedValue { $0 = (settings, writer) }
        writer.start()
        modeWord.store(Mode(settings).raw, ordering: .relaxed)
        logger.notice("query log started", metadata: ["dnstap": "\(settings.destination)"])
    }

    /// Writes what the rings still hold and closes the destination (STOP, and FINISH from a reader).
    func stop() async {
        modeWord.store(Mode.off.raw, ordering: .relaxed)
        let running = current.withLockedValue { current in
            defer { current = nil }
            return current
        }
        await running?.writer.stop()
    }
}
