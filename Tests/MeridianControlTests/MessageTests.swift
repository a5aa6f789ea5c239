import Foundation
import MeridianControl
import Testing

/// The JSON forms of requests and replies: they are the control protocol and the output of
/// `dnsctl --json`, so their spelling is pinned here.
@Suite struct MessageTests {
    static let requests: [(ControlRequest, String)] = [
        (.reload, #"{"command":"reload"}"#),
        (.status, #"{"command":"status"}"#),
        (.edges, #"{"command":"edges"}"#),
        (.stats, #"{"command":"stats"}"#),
        (.drain(edge: "fra1"), #"{"command":"drain","edge":"fra1"}"#),
        (.undrain(edge: "fra1"), #"{"command":"undrain","edge":"fra1"}"#),
        (.drain(edge: "fra1", options: DrainOptions(reason: "kernel upgrade", local: true, by: "alice@laptop")),
         #"{"by":"alice@laptop","command":"drain","edge":"fra1","local":true,"reason":"kernel upgrade"}"#),
        (.undrain(edge: "fra1", options: DrainOptions(by: "alice@laptop")), #"{"by":"alice@laptop","command":"undrain","edge":"fra1"}"#),
        (.fleet, #"{"command":"fleet"}"#),
        (.explain(name: "api.inference.example.", client: "81.2.69.142"),
         #"{"client":"81.2.69.142","command":"explain","name":"api.inference.example."}"#),
        (.explain(name: "api.inference.example.", client: "2001:db8::1", prefix: 48, type: "AAAA"),
         #"{"client":"2001:db8::1","command":"explain","name":"api.inference.example.","prefix":48,"type":"AAAA"}"#),
    ]

    @Test(arguments: requests)
    func requestJSON(request: ControlRequest, json: String) throws {
        #expect(ControlJSON.encode(request) == json)
        #expect(try ControlJSON.decoder().decode(ControlRequest.self, from: Data(json.utf8)) == request)
    }

    @Test(arguments: [
        (#"{"command":"drain","edge":""}"#, "\"drain\" needs a non-empty \"edge\" string"),
        (#"{"command":"explain","name":"x."}"#, "\"explain\" needs a non-empty \"client\" string"),
        (#"{"command":"restart"}"#, "unknown command \"restart\" (known: reload, status, edges, drain, undrain, explain, stats, fleet)"),
        (#"{"edge":"fra1"}"#, "missing \"command\""),
        (#"{"command":7}"#, "\"command\" is not a string"),
        (#"{"command""#, "not valid JSON"),
    ])
    func requestErrors(json: String, message: String) {
        #expect(throws: (any Error).self) {
            do {
                _ = try ControlJSON.decoder().decode(ControlRequest.self, from: Data(json.utf8))
            } catch {
                #expect(ControlJSON.describe(error) == message)
                throw error
            }
        }
    }

    @Test func replyEnvelopes() throws {
        let reply = ReloadReply(ok: true, changes: ["zone a. serial 1 → 2"])
        #expect(ControlJSON.successLine(reply) == #"{"ok":true,"result":{"changes":["zone a. serial 1 → 2"],"errors":[],"notes":[],"ok":true,"warnings":[]}}"#)
        #expect(ControlJSON.failureLine(ControlFailure("unknown edge \"x\"")) == #"{"error":"unknown edge \"x\"","exitCode":1,"ok":false}"#)

        let line = Array(ControlJSON.successLine(reply).utf8)
        #expect(try ControlJSON.decodeReply(line, as: ReloadReply.self).get() == reply)
        let refused = ControlJSON.decodeReply(Array(ControlJSON.failureLine(ControlFailure("no", exitCode: 3)).utf8), as: ReloadReply.self)
        #expect(throws: ControlFailure("no", exitCode: 3)) { try refused.get() }
        let wrongShape = ControlJSON.decodeReply(line, as: StatusReply.self)
        #expect(throws: ControlFailure.self) { try wrongShape.get() }
        let notJSON = ControlJSON.decodeReply(Array("hello".utf8), as: StatusReply.self)
        #expect(throws: ControlFailure.self) { try notJSON.get() }
    }

    @Test func statusJSONLeavesAbsentPartsOut() throws {
        let status = StatusReply(version: "1.0", uptimeSeconds: 1.5, startedAt: 1_764_000_000,
                                 zones: [.init(name: "a.example.", serial: 7, records: 3)], listen: ["127.0.0.1:53"])
        let json = ControlJSON.encode(status)
        #expect(json == #"{"listen":["127.0.0.1:53"],"queriesPerSecond":0,"queriesTotal":0,"startedAt":1764000000,"uptimeSeconds":1.5,"version":"1.0","zones":[{"name":"a.example.","records":3,"serial":7}]}"#)
        #expect(try ControlJSON.decoder().decode(StatusReply.self, from: Data(json.utf8)) == status)
    }

    @Test func edgeRowJSON() throws {
        let row = EdgesReply.Row(name: "fra1", pools: ["inference"], location: [50.11, 8.68], addresses: ["192.0.2.10"],
                                 state: .down, admin: .drained, checked: true, lastCheck: 1_764_000_100.5, latencyMs: 2,
                                 result: "HTTP 503", since: 1_764_000_000, answers: 3, transitions: 1)
        let json = ControlJSON.encode(EdgesReply(edges: [row]))
        #expect(json.contains(#""state":"down""#) && json.contains(#""admin":"drained""#) && json.contains(#""location":[50.11,8.68]"#))
        #expect(try ControlJSON.decoder().decode(EdgesReply.self, from: Data(json.utf8)).edges == [row])
        #expect(!row.isServing)
    }

    @Test func nonFiniteNumbersDoNotBreakEncoding() throws {
        let status = StatusReply(version: "1", uptimeSeconds: .infinity, startedAt: 0, queriesPerSecond: .nan)
        let json = ControlJSON.encode(status)
        #expect(json.contains(#""queriesPerSecond":"NaN""#))
        let decoded = try ControlJSON.decoder().decode(StatusReply.self, from: Data(json.utf8))
        #expect(decoded.queriesPerSecond.isNaN && decoded.uptimeSeconds == .infinity)
    }

    @Test func histogramCumulativeCounts() {
        let histogram = StatsReply.Histogram(bucketsSeconds: [0.001, 0.01], counts: [3, 2, 1], sum: 0.5)
        #expect(histogram.count == 6)
        #expect(histogram.cumulative == [3, 5, 6])
        // A short counts array is padded; a long one folds into +Inf.
        #expect(StatsReply.Histogram(bucketsSeconds: [0.001, 0.01], counts: [3], sum: 0).cumulative == [3, 3, 3])
        #expect(StatsReply.Histogram(bucketsSeconds: [0.001], counts: [1, 2, 3], sum: 0).cumulative == [1, 6])
    }
}
