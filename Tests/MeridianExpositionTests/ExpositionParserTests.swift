import MeridianExposition
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The parser against pages in the formats inference servers serve (the same files the
/// end-to-end suite has prometheus_client read), and against lines the format does not allow.
struct ExpositionParserTests {
    static func page(_ name: String) throws -> String {
        let path = String(#filePath.dropLast("ExpositionParserTests.swift".count)) + "Pages/\(name).prom"
        guard let file = fopen(path, "r") else { throw PageMissing(path: path) }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while case let count = fread(&buffer, 1, buffer.count, file), count > 0 { bytes += buffer[0..<count] }
        return String(decoding: bytes, as: UTF8.self)
    }

    struct PageMissing: Error { let path: String }

    @Test func vLLMPagesSumOverEnginesAndFilterByModel() throws {
        let samples = try ExpositionParser.parse(try Self.page("vllm"))
        #expect(samples.count == 13)
        #expect(ExpositionParser.sum(of: "vllm:num_requests_waiting", in: samples) == 12)
        #expect(ExpositionParser.sum(of: "vllm:kv_cache_usage_perc", labels: ["engine": "1"], in: samples) == 0.874)
        #expect(ExpositionParser.sum(of: "vllm:num_requests_waiting", labels: ["model_name": "other"], in: samples) == nil)
        #expect(ExpositionParser.sum(of: "vllm:prompt_tokens_total", in: samples) == 1_234_567)
        let bucket = try #require(samples.first { $0.name == "vllm:time_to_first_token_seconds_bucket" && $0.labels.contains(.init(name: "le", value: "+Inf")) })
        #expect(bucket.value == 240)
    }

    @Test func tgiTritonAndSGLangPages() throws {
        let tgi = try ExpositionParser.parse(try Self.page("tgi"))
        #expect(ExpositionParser.sum(of: "tgi_queue_size", in: tgi) == 9)
        let triton = try ExpositionParser.parse(try Self.page("triton"))
        #expect(ExpositionParser.sum(of: "nv_inference_pending_request_count", labels: ["model": "llama3"], in: triton) == 11)
        #expect(ExpositionParser.sum(of: "nv_gpu_memory_used_bytes", in: triton) == 7.5161927e10)
        let sglang = try ExpositionParser.parse(try Self.page("sglang"))
        #expect(ExpositionParser.sum(of: "sglang:num_queue_reqs", in: sglang) == 3)
        // A NaN gauge reports nothing rather than poisoning a sum.
        #expect(ExpositionParser.sum(of: "sglang:cache_hit_rate", in: sglang) == nil)
    }

    @Test(arguments: [
        ("a 1", Sample(name: "a", value: 1)),
        ("a{} 1", Sample(name: "a", value: 1)),
        ("a{b=\"c\",} 2.5 1700000000000", Sample(name: "a", labels: [.init(name: "b", value: "c")], value: 2.5, timestamp: 1_700_000_000_000)),
        ("a { b = \"q\\\"\\\\\\n\" } -Inf", Sample(name: "a", labels: [.init(name: "b", value: "q\"\\\n")], value: -.infinity)),
        ("  ns:metric_total\t+Inf", Sample(name: "ns:metric_total", value: .infinity)),
        ("x 1e-3\r", Sample(name: "x", value: 0.001)),
    ])
    func acceptedLines(line: String, expected: Sample) throws {
        #expect(try ExpositionParser.parse(line) == [expected])
    }

    @Test(arguments: [
        ("1a 1", "line 1: expected a metric name"),
        ("a", "line 1: a has no value"),
        ("a one", "line 1: a: bad value \"one\""),
        ("a 1 2 3", "line 1: a: unexpected text after the timestamp"),
        ("a 1 now", "line 1: a: bad timestamp \"now\""),
        ("a{b=c} 1", "line 1: label b: value must be quoted"),
        ("a{b=\"c\" 1", "line 1: expected , or } after label b"),
        ("a{b=\"c} 1", "line 1: unterminated label value"),
        ("a{b=\"\\t\"} 1", "line 1: bad escape \\t in a label value"),
        ("a{b=\"1\",b=\"2\"} 1", "line 1: label b given twice"),
        ("a{:b=\"1\"} 1", "line 1: expected a label name"),
        ("# TYPE a gauges", "line 1: unknown metric type \"gauges\""),
        ("ok 1\n\n# HELP 9x help", "line 3: # HELP needs a metric name"),
        ("a 0x10", "line 1: a: bad value \"0x10\""),
    ])
    func rejectedLines(text: String, message: String) {
        #expect(throws: ExpositionError.self) { try ExpositionParser.parse(text) }
        do {
            _ = try ExpositionParser.parse(text)
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func commentsAndEOFAreSkipped() throws {
        #expect(try ExpositionParser.parse("# just a comment\n# HELP a text with { and \"\n# TYPE a gauge\na 3\n# EOF\n") == [Sample(name: "a", value: 3)])
    }
}
