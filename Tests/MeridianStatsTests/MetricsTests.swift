import Foundation
import MeridianControl
import MeridianStats
import Testing

/// A strict reader of the Prometheus text format (0.0.4), enough to hold `/metrics` to the
/// rules: HELP and TYPE before a family's samples, one TYPE per family, counters named
/// `…_total`, histogram buckets cumulative with `+Inf` equal to `_count`, no duplicate series.
struct ExpositionReader {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    var types: [String: String] = [:]
    var help: [String: String] = [:]
    var samples: [Sample] = []
    var problems: [String] = []

    init(_ text: String) {
        var seen = Set<String>()
        var familyOrder: [String] = []
        guard text.hasSuffix("\n") else {
            problems.append("the text does not end with a newline")
            return
        }
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().enumerated() {
            let where_ = "line \(number + 1)"
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
                guard parts.count == 4 else {
                    problems.append("\(where_): short comment")
                    continue
                }
                if parts[1] == "TYPE" {
                    if types[parts[2]] != nil { problems.append("\(where_): second TYPE for \(parts[2])") }
                    guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else {
                        problems.append("\(where_): unknown type \(parts[3])")
                        continue
                    }
                    types[parts[2]] = parts[3]
                    familyOrder.append(parts[2])
                } else {
                    help[parts[2]] = parts[3]
                }
                continue
            }
            if line.hasPrefix("#") || line.isEmpty { continue }
            guard let sample = Self.parseSample(String(line)) else {
                problems.append("\(where_): cannot parse \(line)")
                continue
            }
            let family = family(of: sample.name)
            guard let type = types[family] else {
                problems.append("\(where_): \(sample.name) before its TYPE")
                continue
            }
            if familyOrder.last != family { problems.append("\(where_): \(sample.name) is not next to its family") }
            if help[family] == nil { problems.append("\(where_): \(family) has no HELP") }
            if type == "counter" && !sample.name.hasSuffix("_total") { problems.append("\(where_): counter \(sample.name) without _total") }
            let key = sample.name + sample.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            if !seen.insert(key).inserted { problems.append("\(where_): duplicate series \(key)") }
            samples.append(sample)
        }
        // Each series of a histogram (its labels but `le`): ascending bounds to +Inf,
        // cumulative counts, +Inf equal to _count, a _sum. A family may have no series yet.
        for (family, type) in types where type == "histogram" {
            let series = Dictionary(grouping: samples.filter { $0.name == family + "_bucket" }) { bucket in
                bucket.labels.filter { $0.key != "le" }
            }
            for (labels, buckets) in series {
                let bounds = buckets.map { $0.labels["le"].flatMap { $0 == "+Inf" ? .infinity : Double($0) } ?? .nan }
                if bounds != bounds.sorted() || bounds.last != .infinity { problems.append("\(family)\(labels): bucket bounds \(bounds) not ascending to +Inf") }
                let counts = buckets.map(\.value)
                if counts != counts.sorted() { problems.append("\(family)\(labels): bucket counts \(counts) not cumulative") }
                if counts.last != value(family + "_count", labels) { problems.append("\(family)\(labels): +Inf bucket differs from _count") }
                if value(family + "_sum", labels) == nil { problems.append("\(family)\(labels): no _sum") }
            }
        }
    }

    func family(of name: String) -> String {
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if types[base] == "histogram" { return base }
        }
        return name
    }

    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    static func parseSample(_ line: String) -> Sample? {
        var rest = Substring(line)
        let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }
        guard let first = name.first, !first.isNumber else { return nil }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let key = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                guard !key.isEmpty else { return nil }
                rest = rest.dropFirst(key.count)
                guard rest.hasPrefix("=\"") else { return nil }
                rest = rest.dropFirst(2)
                var value = ""
                while let character = rest.first, character != "\"" {
                    rest = rest.dropFirst()
                    if character == "\\" {
                        guard let escaped = rest.first else { return nil }
                        rest = rest.dropFirst()
                        switch escaped {
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        case "n": value.append("\n")
                        default: return nil
                        }
                    } else {
                        value.append(character)
                    }
                }
                guard rest.first == "\"" else { return nil }
                rest = rest.dropFirst()
                if labels.updateValue(value, forKey: String(key)) != nil { return nil }
                if rest.first == "," { rest = rest.dropFirst() }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { return nil }
        let text = rest.dropFirst()
        let value: Double?
        switch text {
        case "+Inf": value = .infinity
        case "-Inf": value = -.infinity
        case "NaN": value = .nan
        default: value = Double(text)
        }
        guard let value else { return nil }
        return Sample(name: String(name), labels: labels, value: value)
    }
}

/// A Prometheus parser from outside this code base: `promtool` (Debian's prometheus
/// package) or Python's `prometheus_client`.
enum ExternalParser {
    case promtool(String)
    case pythonClient

    static let found: ExternalParser? = {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let candidate = "\(directory)/promtool"
            if FileManager.default.isExecutableFile(atPath: candidate) { return .promtool(candidate) }
        }
        if run("/usr/bin/env", ["python3", "-c", "import prometheus_client.parser"], input: "").status == 0 { return .pythonClient }
        return nil
    }()

    /// Runs a program with `input` on standard input; its exit status and output.
    static func run(_ program: String, _ arguments: [String], input: String) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stdout
        do { try process.run() } catch { return (-1, "\(error)") }
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try? stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    /// Python: parse, then print `name labels value` per sample as JSON lines so the values
    /// can be compared.
    static let pythonScript = """
    import sys, json
    from prometheus_client.parser import text_string_to_metric_families
    for family in text_string_to_metric_families(sys.stdin.read()):
        for sample in family.samples:
            print(json.dumps([family.type, sample.name, sample.labels, sample.value]))
    """
}

@Suite struct MetricsTests {
    @Test func metricsOverHTTPFollowTheExpositionFormat() async throws {
        try await withStatsServer { port in
            let reply = try #require(await get("/metrics", port: port))
            #expect(reply.status == 200)
            #expect(reply.header("content-type") == "text/plain; version=0.0.4; charset=utf-8")
            let reader = ExpositionReader(reply.body)
            #expect(reader.problems == [])
            #expect(reader.samples.allSatisfy { $0.name.hasPrefix("meridian_") || $0.name.hasPrefix("process_") })
            #expect(Set(reader.types.keys) == Set(PrometheusText.familyNames))

            #expect(reader.value("meridian_queries_total", ["transport": "udp"]) == 1400)
            #expect(reader.value("meridian_queries_total", ["transport": "tcp"]) == 100)
            #expect(reader.value("meridian_queries_by_qtype_total", ["qtype": "AAAA"]) == 400)
            #expect(reader.value("meridian_responses_total", ["rcode": "NXDOMAIN"]) == 150)
            #expect(reader.value("meridian_queries_dropped_total") == 10)
            #expect(reader.value("meridian_responses_truncated_total") == 5)
            #expect(reader.value("meridian_pool_answers_total", ["pool": "inference"]) == 900)
            #expect(reader.value("meridian_edge_answers_total", ["edge": "sin1"]) == 300)
            #expect(reader.value("meridian_edge_up", ["edge": "iad1"]) == 0)
            #expect(reader.value("meridian_edge_up", ["edge": "fra1"]) == 1)
            // No verdict yet: no sample, rather than a guess either way.
            #expect(reader.value("meridian_edge_up", ["edge": "gru1"]) == nil)
            #expect(reader.value("meridian_config_last_reload_successful") == 0)
            #expect(reader.value("meridian_config_last_reload_success_timestamp_seconds") == 1_764_000_100)
            #expect(reader.value("meridian_zone_serial", ["zone": "inference.example."]) == 2026112501)
            #expect(reader.value("meridian_probe_duration_seconds_bucket", ["edge": "iad1", "le": "0.001"]) == 2)
            #expect(reader.value("meridian_probe_duration_seconds_bucket", ["edge": "iad1", "le": "+Inf"]) == 3)
            #expect(reader.value("meridian_probe_duration_seconds_count", ["edge": "iad1"]) == 3)
            #expect(reader.value("meridian_probe_duration_seconds_sum", ["edge": "iad1"]) == 0.5)
            #expect(reader.value("meridian_probe_duration_seconds_count", ["edge": "fra1"]) == nil)
            #expect(reader.value("meridian_pool_edges", ["pool": "inference"]) == 4)
            #expect(reader.value("meridian_pool_edges_available", ["pool": "inference"]) == 2)
            #expect(reader.value("process_cpu_seconds_total") == 12.5)
            #expect(reader.value("process_resident_memory_bytes") == 44_000_000)
            #expect(reader.value("process_open_fds") == 40)
            #expect(reader.value("process_max_fds") == 65536)
            #expect(reader.value("process_start_time_seconds") == 1_764_000_000)
            #expect(reader.value("meridian_edge_drained", ["edge": "sin1"]) == 1)
            #expect(reader.value("meridian_edge_drained", ["edge": "fra1"]) == 0)
            #expect(reader.value("meridian_probe_latency_seconds", ["edge": "iad1"]) == 0.0015)
            #expect(reader.value("meridian_probe_latency_seconds", ["edge": "fra1"]) == nil)
            #expect(reader.value("meridian_edge_transitions_total", ["edge": "gru1"]) == 3)
            #expect(reader.value("meridian_reloads_total", ["result": "ok"]) == 3)
            #expect(reader.value("meridian_reloads_total", ["result": "failed"]) == 1)
            #expect(reader.value("meridian_rrl_responses_total", ["action": "slipped"]) == 17)
            #expect(reader.value("meridian_rrl_responses_total", ["action": "dropped"]) == 17)
            #expect(reader.value("meridian_rrl_limited_total", ["class": "large"]) == 30)
            #expect(reader.value("meridian_rrl_limited_total", ["class": "nxdomain"]) == 4)
            #expect(reader.value("meridian_build_info", ["version": "1.2.3"]) == 1)
            #expect(reader.value("meridian_uptime_seconds") == 3725.5)
            #expect(reader.value("meridian_response_seconds_bucket", ["le": "1e-05"]) == 810)
            #expect(reader.value("meridian_response_seconds_bucket", ["le": "0.01"]) == 1485)
            #expect(reader.value("meridian_response_seconds_bucket", ["le": "+Inf"]) == 1490)
            #expect(reader.value("meridian_response_seconds_count") == 1490)
            #expect(reader.value("meridian_response_seconds_sum") == 0.123)
        }
    }

    @Test(.enabled(if: ExternalParser.found != nil,
                   "neither promtool (Debian package prometheus) nor Python's prometheus_client is installed"))
    func metricsPassAnIndependentParser() async throws {
        let text = PrometheusText.render(await FakeBackend().stats())
        switch try #require(ExternalParser.found) {
        case .promtool(let path):
            let result = ExternalParser.run(path, ["check", "metrics"], input: text)
            #expect(result.status == 0, "promtool: \(result.output)")
        case .pythonClient:
            let result = ExternalParser.run("/usr/bin/env", ["python3", "-c", ExternalParser.pythonScript], input: text)
            try #require(result.status == 0, "prometheus_client: \(result.output)")
            let rows = result.output.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [Any]
            }
            func value(_ name: String, _ labels: [String: String]) -> Double? {
                rows.first { $0[1] as? String == name && $0[2] as? [String: String] == labels }.flatMap { ($0[3] as? NSNumber)?.doubleValue }
            }
            #expect(value("meridian_queries_total", ["transport": "udp"]) == 1400)
            #expect(value("meridian_response_seconds_bucket", ["le": "+Inf"]) == 1490)
            #expect(value("meridian_edge_up", ["edge": "iad1"]) == 0)
            let types = Dictionary(rows.map { ($0[1] as? String ?? "", $0[0] as? String ?? "") }, uniquingKeysWith: { a, _ in a })
            #expect(types["meridian_reloads_total"] == "counter")
            #expect(types["meridian_response_seconds_count"] == "histogram")
        }
    }

    @Test func labelValuesAreEscaped() {
        var stats = StatsReply(version: "1.0 \"quoted\" \\ back\nslash", uptimeSeconds: 1, startedAt: 0)
        stats.answersByPool = ["a\"b": 1]
        let text = PrometheusText.render(stats)
        #expect(text.contains(#"meridian_build_info{version="1.0 \"quoted\" \\ back\nslash"} 1"#))
        let reader = ExpositionReader(text)
        #expect(reader.problems == [])
        #expect(reader.value("meridian_build_info", ["version": "1.0 \"quoted\" \\ back\nslash"]) == 1)
        #expect(reader.value("meridian_pool_answers_total", ["pool": "a\"b"]) == 1)
    }

    @Test func emptyStatsStillRenderEveryFamily() {
        let text = PrometheusText.render(StatsReply(version: "0", uptimeSeconds: 0, startedAt: 0))
        let reader = ExpositionReader(text)
        #expect(reader.problems == [])
        #expect(Set(reader.types.keys) == Set(PrometheusText.familyNames))
        #expect(reader.value("meridian_response_seconds_bucket", ["le": "+Inf"]) == 0)
        #expect(reader.value("meridian_response_seconds_count") == 0)
    }

    @Test(arguments: [(1.0, "1"), (0.5, "0.5"), (1e-05, "1e-05"), (Double.infinity, "+Inf"), (-Double.infinity, "-Inf"),
                      (Double.nan, "NaN"), (3725.5, "3725.5"), (1_764_000_000, "1764000000")])
    func numbers(value: Double, text: String) {
        #expect(PrometheusText.format(value) == text)
    }
}

@Suite struct DashboardDateTests {
    @Test func utcMinutes() {
        #expect(utcMinute(1_796_288_400) == "2026-12-03 09:00 UTC")
        #expect(utcMinute(951_782_400 + 59) == "2000-02-29 00:00 UTC", "a leap day, seconds dropped")
        #expect(utcMinute(0) == "1970-01-01 00:00 UTC")
    }
}
