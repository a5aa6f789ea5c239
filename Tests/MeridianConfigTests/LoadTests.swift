import Foundation
import Testing
import MeridianConfig

/// A fresh directory for one test, removed afterwards.
func withTemporaryDirectory(_ body: (String) throws -> Void) throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("meridian-config-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try body(directory)
}

@Suite struct LoadTests {
    func loadErrors(_ path: String) -> [String] {
        do {
            _ = try MeridianConfiguration.load(path: path)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    @Test func takesRelativePathsFromTheFilesDirectory() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/meridian.yaml"
            try "zones: {directory: zones}\ngeoip: {database: data/x.mmdb}\n".write(toFile: path, atomically: true, encoding: .utf8)
            let config = try MeridianConfiguration.load(path: path)
            #expect(config.sourceFile == path)
            #expect(config.zones.directory == directory + "/zones")
            #expect(config.geoip?.database == directory + "/data/x.mmdb")
            #expect(config.control.socket == directory + "/run/meridian.sock")
        }
    }

    @Test func errorsNameTheFileAsGiven() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/bad.yaml"
            try "dns:\n  udp_payload: 100\n".write(toFile: path, atomically: true, encoding: .utf8)
            #expect(loadErrors(path) == ["\(path):2:16: dns.udp_payload: 100 is outside 512...4096"])
        }
    }

    @Test func missingFile() throws {
        try withTemporaryDirectory { directory in
            #expect(loadErrors(directory + "/nope.yaml") == ["\(directory)/nope.yaml: cannot open: No such file or directory"])
        }
    }

    @Test func directoryInsteadOfFile() throws {
        try withTemporaryDirectory { directory in
            let errors = loadErrors(directory)
            #expect(errors.count == 1)
            #expect(errors.first?.hasPrefix("\(directory): cannot") == true)
            #expect(errors.first?.hasSuffix("Is a directory") == true)
        }
    }

    @Test func notUTF8() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/latin1.yaml"
            try Data([0x7A, 0x6F, 0x6E, 0x65, 0x73, 0x3A, 0x20, 0xE9, 0x0A]).write(to: URL(fileURLWithPath: path))
            #expect(loadErrors(path) == ["\(path): the file is not UTF-8 text"])
        }
    }

    // MARK: control.socket of a file that may not validate

    @Test func socketInBlockStyleDespiteErrorsElsewhere() {
        let yaml = "dns:\n  listen: [nonsense]\nbogus: 1\ncontrol:\n  socket: \"run/x.sock\"   # the server's\n"
        #expect(MeridianConfiguration.controlSocket(inYAML: yaml) == "run/x.sock")
    }

    @Test func socketInFlowStyle() {
        #expect(MeridianConfiguration.controlSocket(inYAML: "control: {socket: \"x\"}\n") == "x")
        #expect(MeridianConfiguration.controlSocket(inYAML: "dns: {udp_payload: 1}\ncontrol: {socket: /tmp/m.sock, extra: 1}\n") == "/tmp/m.sock")
    }

    @Test(arguments: ["", "dns:\n  udp_payload: 1232\n", "control:\n", "control:\n  socket:\n", "control:\n  socket: \"\"\n",
                      "control: {}\n", "control: [socket]\n", "- control\n"])
    func socketNotSet(yaml: String) {
        #expect(MeridianConfiguration.controlSocket(inYAML: yaml) == nil)
    }

    @Test(arguments: ["control:\n  socket: [unclosed\n", "control: {socket: \"x\"\n", "control:\n  socket: a\n  socket: b\n"])
    func socketOfBrokenYAML(yaml: String) {
        #expect(MeridianConfiguration.controlSocket(inYAML: yaml) == nil)
    }

    @Test func relativeSocketIsTakenFromTheFilesDirectoryAsTheLoaderTakesIt() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/meridian.yaml"
            try "control:\n  socket: run/other.sock\n".write(toFile: path, atomically: true, encoding: .utf8)
            let socket = try MeridianConfiguration.controlSocket(inFile: path)
            #expect(socket == directory + "/run/other.sock")
            #expect(socket == (try MeridianConfiguration.load(path: path)).control.socket)
            // A file that does not set it: the default socket, next to the file too.
            try "dns: {udp_payload: 1232}\n".write(toFile: path, atomically: true, encoding: .utf8)
            #expect(try MeridianConfiguration.controlSocket(inFile: path) == directory + "/run/meridian.sock")
        }
    }

    @Test func relativePathsAreTakenFromTheFilesDirectory() throws {
        let yaml = """
            zones: {directory: zones}
            control: {socket: /run/meridian/control.sock}
            health: {state_file: state/drains.json}
            geoip: {database: ../data/City.mmdb}
            dnssec: {keys_directory: keys}
            fleet: {node: a, etcd: ["http://127.0.0.1:2379"], tls: {ca: tls/ca.pem, cert: /tls/c.pem, key: tls/k.pem}}
            """
        let configuration = try MeridianConfiguration.parse(yaml: yaml, file: "/etc/meridian/meridian.yaml")
        #expect(configuration.zones.directory == "/etc/meridian/zones")
        #expect(configuration.control.socket == "/run/meridian/control.sock")
        #expect(configuration.health.stateFile == "/etc/meridian/state/drains.json")
        #expect(configuration.geoip?.database == "/etc/meridian/../data/City.mmdb")
        #expect(configuration.dnssec?.keysDirectory == "/etc/meridian/keys")
        #expect(configuration.fleet?.publishedDirectory == "/etc/meridian/published")
        #expect(configuration.fleet?.tls == FleetSettings.TLS(ca: "/etc/meridian/tls/ca.pem", cert: "/tls/c.pem", key: "/etc/meridian/tls/k.pem"))
        // A file named without a directory leaves them as written; another base can be given.
        #expect(try MeridianConfiguration.parse(yaml: yaml, file: "meridian.yaml").zones.directory == "zones")
        let published = try MeridianConfiguration.parse(yaml: yaml, file: "/var/lib/meridian/published/7/meridian.yaml",
                                                        pathsRelativeTo: "/etc/meridian")
        #expect(published.geoip?.database == "/etc/meridian/../data/City.mmdb")
    }

    @Test func socketOfAMissingFileIsAnError() throws {
        try withTemporaryDirectory { directory in
            do {
                let socket = try MeridianConfiguration.controlSocket(inFile: directory + "/nope.yaml")
                Issue.record("read a socket from a missing file: \(String(describing: socket))")
            } catch {
                #expect(String(describing: error) == "no such file or directory")
            }
        }
    }
}
