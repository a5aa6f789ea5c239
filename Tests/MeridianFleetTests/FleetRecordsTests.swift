import Foundation
import MeridianFleet
import Testing

@Suite struct FleetRecordsTests {
    let keys = FleetKeys(prefix: "/m/prod")

    @Test func keyLayout() {
        #expect(keys.prefix == "/m/prod/")
        #expect(keys.kind(of: keys.drain("fra1")) == .drain(edge: "fra1"))
        #expect(keys.kind(of: keys.verdict(node: "n1", edge: "fra1")) == .verdict(node: "n1", edge: "fra1"))
        #expect(keys.kind(of: keys.node("n2")) == .node("n2"))
        #expect(keys.kind(of: keys.manifest) == .data)
        #expect(keys.kind(of: keys.zone("a.zone")) == .data)
        #expect(keys.kind(of: "/m/prod/health/n1") == .other, "a verdict key names a node and an edge")
        #expect(keys.kind(of: "/m/staging/drains/fra1") == .other, "another fleet's key")
    }

    @Test func recordsKeepTheirFieldNames() throws {
        let record = FleetNodeRecord(node: "n1", version: "1", lastSeen: 5, data: "published", revision: 9, rejected: nil,
                                     rejectedRevision: nil, edgesDown: ["fra1"])
        let json = String(decoding: FleetJSON.encode(record), as: UTF8.self)
        #expect(json.contains("\"last_seen\":5") && json.contains("\"edges_down\":[\"fra1\"]") && json.contains("\"revision\":9"))
        #expect(FleetJSON.decode(FleetNodeRecord.self, FleetJSON.encode(record)) == record)
        #expect(FleetJSON.decode(FleetDrain.self, Array(#"{"by":"a@b","at":1.5}"#.utf8)) == FleetDrain(by: "a@b", at: 1.5, reason: nil))
        #expect(FleetJSON.decode(FleetVerdict.self, Array("not json".utf8)) == nil)
    }

    /// A new publication replaces every key of the old one in one transaction: files it no
    /// longer has are deleted, none is both written and deleted (etcd refuses that).
    @Test func publicationTransaction() throws {
        let publication = Publication(
            manifest: PublicationManifest(by: "a@b", at: 1, configFile: "meridian.yaml", zoneFiles: ["a.zone", "b.zone"]),
            config: Array("zones: {}\n".utf8), zoneFiles: ["a.zone": Array("A".utf8), "b.zone": Array("B".utf8)])
        let transaction = publication.transaction(keys: keys, existingKeys: [keys.manifest, keys.config, keys.zone("a.zone"),
                                                                              keys.zone("gone.zone")])
        #expect(transaction.puts.map(\.key) == [keys.config, keys.zone("a.zone"), keys.zone("b.zone"), keys.manifest])
        #expect(transaction.deletes == [keys.zone("gone.zone")])
        let pairs = transaction.puts.map { KeyValue(key: $0.key, value: $0.value, modRevision: 12) }
        #expect(Publication(pairs: pairs, keys: keys) == publication)
        #expect(Publication(pairs: pairs.filter { $0.key != keys.zone("b.zone") }, keys: keys) == nil,
                "a publication missing a file it lists is not one")
    }

    @Test func storeKeepsOneRevision() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("published-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = PublishedStore(directory: directory)
        #expect(store.current() == nil)
        let publication = Publication(
            manifest: PublicationManifest(by: "a", at: 1, configFile: "m.yaml", zoneFiles: ["x.zone"]),
            config: Array("c".utf8), zoneFiles: ["x.zone": Array("z".utf8)])
        let first = try store.write(publication, revision: 5)
        #expect(FileManager.default.contents(atPath: first + "/zones/x.zone") == Data("z".utf8))
        #expect(FileManager.default.contents(atPath: first + "/meridian.yaml") == Data("c".utf8))
        try store.markCurrent(5)
        #expect(store.current() == 5)
        _ = try store.write(publication, revision: 9)
        #expect(store.current() == 5, "written is not served")
        try store.markCurrent(9)
        #expect(store.current() == 9)
        #expect(!FileManager.default.fileExists(atPath: store.path(of: 5)), "older copies go")
        let bad = Publication(manifest: PublicationManifest(by: "a", at: 1, configFile: "m.yaml", zoneFiles: ["../x"]),
                              config: [], zoneFiles: ["../x": []])
        #expect(throws: PublishedStoreError.self) { try store.write(bad, revision: 10) }
        #expect(store.current() == 9)
    }
}
