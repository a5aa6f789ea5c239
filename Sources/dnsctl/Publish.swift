import ArgumentParser
import Foundation
import MeridianAuthority
import MeridianConfig
import MeridianControl
import MeridianFiles
import MeridianFleet
import MeridianLoad
import NIOCore
import NIOPosix

/// `dnsctl publish`: validates the configuration and zones as `check` does, then writes them
/// to etcd in one transaction; nodes with `fleet.data: published` load them as a reload does.
/// It talks to etcd itself (with the `fleet:` section of the configuration), not to a server.
struct Publish: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate the configuration and zones, and publish them to every fleet node through etcd.",
        discussion: """
        Nothing is written unless everything is valid. Nodes keep their own dns, stats, \
        control, health, cookies and fleet sections; they take zones, geoip, edges, pools and \
        rrl from the publication. Prints the publication's revision.
        Exit codes: 0 published, 1 invalid (nothing written), 2 etcd cannot be reached.
        """
    )

    @OptionGroup var global: FileOptions

    /// etcd's default limits (--max-request-bytes, --max-txn-ops).
    static let requestLimit = 1_500_000
    static let operationLimit = 128

    func run() throws {
        let path = global.configPath
        let loaded: LoadedServer
        do {
            loaded = try ServerLoader.check(configPath: path)
        } catch {
            try fail(error.lines + ["\(path): \(error.lines.count) error(s); nothing published"], code: 1)
        }
        guard let settings = loaded.configuration.fleet else {
            try fail(["\(path): no fleet: section; publish needs the etcd endpoints and prefix of the fleet"], code: 1)
        }
        let publication: Publication
        do {
            publication = try Publication.gather(configPath: path, configuration: loaded.configuration, by: operatorName(),
                                                 at: Date().timeIntervalSince1970)
        } catch {
            try fail(["\(error)"], code: 1)
        }
        let size = publication.config.count + publication.zoneFiles.values.reduce(0) { $0 + $1.count }
        if size > Self.requestLimit {
            try fail(["the publication is \(size) bytes; etcd takes at most \(Self.requestLimit) in one request by default "
                + "(raise --max-request-bytes on every member)"], code: 1)
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let result = blockingResult { () async -> Result<Int64, EtcdError> in
            let client: EtcdClient
            do throws(EtcdError) {
                client = try EtcdClient(settings: settings, eventLoopGroup: group)
            } catch {
                return .failure(error)
            }
            let outcome = await Self.write(publication, keys: FleetKeys(prefix: settings.prefix), client: client)
            await client.shutdown()
            return outcome
        }
        switch result {
        case .success(let revision):
            let zones = publication.manifest.zoneFiles
            if global.json {
                print(ControlJSON.encode(PublishReply(ok: true, revision: revision, config: path, zoneFiles: zones,
                                                      prefix: settings.prefix)))
            } else {
                print("published revision \(revision) to \(settings.prefix) on \(settings.endpoints.joined(separator: ", ")): "
                    + "\(path) and \(zones.count) zone director\(zones.count == 1 ? "y file" : "y files")")
                for zone in loaded.zones { print("zone \(zone.origin) serial \(zone.serial), \(zone.recordCount) records") }
            }
        case .failure(let error):
            try fail(["\(error)"], code: error.unreachable ? 2 : 1)
        }
    }

    /// One transaction replacing the publication in etcd; its revision.
    static func write(_ publication: Publication, keys: FleetKeys, client: EtcdClient) async -> Result<Int64, EtcdError> {
        do throws(EtcdError) {
            let existing = try await client.range(prefix: keys.data, keysOnly: true).pairs
            var transaction = publication.transaction(keys: keys, existingKeys: existing.map(\.key))
            let writes = transaction.puts.count + transaction.deletes.count
            if writes > operationLimit {
                throw EtcdError(message: "the publication takes \(writes) writes; etcd takes at most \(operationLimit) in one "
                    + "transaction by default (raise --max-txn-ops on every member)")
            }
            // Two publishers at once: the second finds the manifest changed and writes nothing.
            transaction.unchangedSince = [(keys.manifest, existing.first { $0.key == keys.manifest }?.modRevision ?? 0)]
            let (succeeded, revision) = try await client.transaction(transaction)
            guard succeeded else {
                throw EtcdError(message: "another publication was written meanwhile; nothing published (run dnsctl publish again)")
            }
            return .success(revision)
        } catch {
            return .failure(error)
        }
    }

    private func fail(_ lines: [String], code: Int32) throws -> Never {
        if global.json {
            print(ControlJSON.failureLine(ControlFailure(lines.joined(separator: "\n"), exitCode: code)))
        }
        for line in lines { printError(line) }
        throw ExitCode(code)
    }
}

struct PublishReply: Codable {
    var ok: Bool
    var revision: Int64
    var config: String
    var zoneFiles: [String]
    var prefix: String
}

/// Runs `work` to completion from synchronous code: the command-line commands are
/// synchronous, the etcd client is not.
func blockingResult<Value: Sendable>(_ work: @escaping @Sendable () async -> Value) -> Value {
    let box = ResultBox<Value>()
    let done = DispatchSemaphore(value: 0)
    Task {
        box.value = await work()
        done.signal()
    }
    done.wait()
    return box.value!
}

private final class ResultBox<Value>: @unchecked Sendable {
    // Written once by the task before it signals, read once after the wait.
    var value: Value?
}
