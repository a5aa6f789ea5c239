#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Atomics
import Logging
import MeridianConfig
import MeridianControl

/// The server's log on standard error, one line per event, as `log.level` and `log.format`
/// say; both follow reloads.
///
/// - `text`: `2026-12-03T11:52:33.120Z notice edge drained edge=fra1 reason="maintenance"`.
///   When standard error is the journal's (systemd sets `JOURNAL_STREAM`), the line starts
///   with its syslog priority (`<5>edge drained ...`) instead of the time: journald keeps the
///   time itself and files the line under that priority (sd-daemon(3)).
/// - `json`: `{"time":"…","level":"notice","message":"edge drained","source":"MeridianServer","metadata":{"edge":"fra1"}}`.
///
/// swift-log's `StreamLogHandler` has neither format, nor a level that can change while the
/// process runs.
public struct ServerLogHandler: LogHandler {
    /// What every handler of the process writes: set from the configuration at start and at
    /// every reload.
    public static let output = LogOutput()

    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public init(label: String) {}

    public var logLevel: Logger.Level {
        get { Self.output.level }
        // The level is the configuration's, for every logger at once.
        set {}
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let extra = event.metadata { fields.merge(extra) { _, new in new } }
        if let error = event.error { fields["error"] = "\(error)" }
        Self.output.write(level: event.level, message: "\(event.message)", source: event.source, metadata: fields)
    }
}

/// The level and format of the process's log, and the writing of one line.
public final class LogOutput: Sendable {
    private let levelIndex = ManagedAtomic<Int>(Logger.Level.allCases.firstIndex(of: .info)!)
    private let json = ManagedAtomic<Bool>(false)
    /// The journal reads standard error: `JOURNAL_STREAM` names its device and inode.
    private let toJournal: Bool

    init() {
        toJournal = Self.standardErrorIsTheJournal()
    }

    var level: Logger.Level { Logger.Level.allCases[levelIndex.load(ordering: .relaxed)] }

    public func apply(_ settings: LogSettings) {
        let level = Logger.Level(rawValue: settings.level.rawValue) ?? .info
        levelIndex.store(Logger.Level.allCases.firstIndex(of: level)!, ordering: .relaxed)
        json.store(settings.format == .json, ordering: .relaxed)
    }

    func write(level: Logger.Level, message: String, source: String, metadata: Logger.Metadata) {
        var line = json.load(ordering: .relaxed)
            ? jsonLine(level: level, message: message, source: source, metadata: metadata)
            : textLine(level: level, message: message, metadata: metadata)
        line += "\n"
        // One write per line: lines from several threads never interleave.
        Array(line.utf8).withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(2, raw.baseAddress! + offset, raw.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }

    private func textLine(level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        var line = toJournal ? "<\(Self.syslogPriority(level))>" : Self.timestamp() + " \(level) "
        line += message
        for key in metadata.keys.sorted() {
            line += " \(key)=\(Self.textValue(metadata[key]!))"
        }
        return line
    }

    private func jsonLine(level: Logger.Level, message: String, source: String, metadata: Logger.Metadata) -> String {
        var line = "{\"time\":\"\(Self.timestamp())\",\"level\":\"\(level)\",\"message\":\(Self.jsonString(message))"
        line += ",\"source\":\(Self.jsonString(source))"
        if !metadata.isEmpty {
            line += ",\"metadata\":" + Self.jsonValue(.dictionary(metadata))
        }
        return line + "}"
    }

    /// syslog's priorities: debug 7, info 6, notice 5, warning 4, error 3, critical 2.
    static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// A value as written after `key=`: quoted when it holds spaces, quotes or `=`.
    static func textValue(_ value: Logger.MetadataValue) -> String {
        let text = "\(value)"
        guard text.isEmpty || text.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }) else { return text }
        return jsonString(text)
    }

    static func jsonValue(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let text): jsonString(text)
        case .stringConvertible(let value): jsonString(value.description)
        case .array(let values): "[" + values.map(jsonValue).joined(separator: ",") + "]"
        case .dictionary(let fields):
            "{" + fields.keys.sorted().map { jsonString($0) + ":" + jsonValue(fields[$0]!) }.joined(separator: ",") + "}"
        }
    }

    /// `text` as a JSON string literal, by the encoder of every other JSON the server writes.
    static func jsonString(_ text: String) -> String { ControlJSON.encode(text) }

    /// UTC with milliseconds: `2026-12-03T11:52:33.120Z`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = Int(now.tv_nsec / 1_000_000)
        let fraction = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):"
            + "\(two(parts.tm_sec)).\(fraction)Z"
    }

    private static func standardErrorIsTheJournal() -> Bool {
        guard let stream = getenv("JOURNAL_STREAM").map({ String(cString: $0) }) else { return false }
        let parts = stream.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(2, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }
}
