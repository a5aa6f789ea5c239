import Crypto
import Foundation
import MeridianDNSSEC
import MeridianFiles
import MeridianWire
import Testing

/// The example keys of the RFCs that define the algorithms, with the DNSKEY and DS records
/// printed there: RFC 6605 section 6.1 (P-256) and RFC 8080 section 6.1 (Ed25519).
/// Both were also checked with `dnssec-dsfromkey -2` (BIND 9.18).
private struct RFCExample: Sendable, CustomStringConvertible {
    var zone: String
    var algorithm: DNSSECAlgorithm
    var privateKey: String
    var publicKey: String
    var keyTag: UInt16
    var digest: String

    var description: String { "\(algorithm) \(zone)" }
}

private let rfcExamples = [
    RFCExample(zone: "example.net.", algorithm: .ecdsaP256SHA256,
               privateKey: "GU6SnQ/Ou+xC5RumuIUIuJZteXT2z0O/ok1s38Et6mQ=",
               publicKey: "GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==",
               keyTag: 55648, digest: "B4C8C1FE2E7477127B27115656AD6256F424625BF5C1E2770CE6D6E37DF61D17"),
    RFCExample(zone: "example.com.", algorithm: .ed25519,
               privateKey: "ODIyNjAzODQ2MjgwODAxMjI2NDUxOTAyMDQxNDIyNjI=",
               publicKey: "l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=",
               keyTag: 3613, digest: "3AA5AB37EFCE57F737FC1627013FEE07BDF241BD10F3B1964AB55C78E79A304B"),
]

@Suite struct KeyTests {
    @Test(arguments: rfcExamples)
    fileprivate func rfcExampleKey(_ example: RFCExample) throws {
        let key = try ZoneKey(zone: DNSName(parsing: example.zone), algorithm: example.algorithm,
                              privateKey: [UInt8](try #require(Data(base64Encoded: example.privateKey))))
        #expect(Data(key.publicKey).base64EncodedString() == example.publicKey)
        #expect(key.keyTag == example.keyTag)
        #expect(key.dnskeyRData.prefix(4) == [1, 1, 3, example.algorithm.rawValue])
        #expect(key.dnskeyRecordText() == "\(example.zone) 3600 IN DNSKEY 257 3 \(example.algorithm.rawValue) \(example.publicKey)")
        let ds = key.ds()
        #expect(ds.prefix(4) == [UInt8(example.keyTag >> 8), UInt8(example.keyTag & 0xFF), example.algorithm.rawValue, 2])
        #expect(hex(ds.dropFirst(4)) == example.digest)
        #expect(key.dsRecordText() == "\(example.zone) 3600 IN DS \(example.keyTag) \(example.algorithm.rawValue) 2 \(example.digest)")
    }

    /// BIND writes a P-256 scalar without its leading zero octets: such a key loads as the
    /// same key. An Ed25519 seed has no such form.
    @Test func p256ScalarsWithoutLeadingZerosLoad() throws {
        let zone = try DNSName(parsing: "example.net.")
        var scalar: [UInt8] = []
        repeat { scalar = Array(P256.Signing.PrivateKey().rawRepresentation) } while scalar[0] != 0
        let full = try ZoneKey(zone: zone, algorithm: .ecdsaP256SHA256, privateKey: scalar)
        let short = try ZoneKey(zone: zone, algorithm: .ecdsaP256SHA256, privateKey: Array(scalar.drop { $0 == 0 }))
        #expect(short.publicKey == full.publicKey)
        #expect(short.keyTag == full.keyTag)
        #expect(throws: ZoneKeyError.privateKeyLength(31, expected: 32)) {
            try ZoneKey(zone: zone, algorithm: .ed25519, privateKey: [UInt8](repeating: 7, count: 31))
        }
    }

    /// The owner name goes into the DS digest lowercased (RFC 4034 section 5.1.4).
    @Test func dsIgnoresOwnerCase() throws {
        let example = rfcExamples[0]
        let privateKey = [UInt8](try #require(Data(base64Encoded: example.privateKey)))
        let upper = try ZoneKey(zone: DNSName(parsing: "EXAMPLE.Net."), algorithm: example.algorithm, privateKey: privateKey)
        #expect(hex(upper.ds().dropFirst(4)) == example.digest)
    }

    @Test(arguments: rfcExamples)
    fileprivate func rfcExampleFromFiles(_ example: RFCExample) throws {
        let directory = try TemporaryDirectory()
        let base = "K\(example.zone.dropLast()).+\(String(format: "%03d", example.algorithm.rawValue))+\(String(format: "%05d", example.keyTag))"
        // RFC 6605 prints its record over lines in parentheses, with a TTL.
        try directory.write(base + ".key", """
            ; from RFC 6605 / RFC 8080
            \(example.zone) 3600 IN DNSKEY 257 3 \(example.algorithm.rawValue) (
                \(example.publicKey.prefix(20)) \(example.publicKey.dropFirst(20)) )
            """)
        try directory.write(base + ".private", """
            Private-key-format: v1.2
            Algorithm: \(example.algorithm.rawValue) (\(example.algorithm))
            PrivateKey: \(example.privateKey)
            """, mode: 0o600)
        let keys = try KeyFiles.load(directory: directory.path)
        #expect(keys.count == 1)
        #expect(keys.first?.keyTag == example.keyTag)
        #expect(keys.first?.privateKeyFile == directory.path + "/" + base + ".private")
        #expect(keys.first?.publicKeyFile == directory.path + "/" + base + ".key")
    }

    @Test(arguments: DNSSECAlgorithm.allCases)
    func generatedKeyRoundTrips(_ algorithm: DNSSECAlgorithm) throws {
        let directory = try TemporaryDirectory()
        let zone = try DNSName(parsing: "Example.COM.")
        let written = try KeyFiles.generate(zone: zone, algorithm: algorithm, directory: directory.path, now: 1_700_000_000)
        let base = KeyFiles.baseName(zone: zone, algorithm: algorithm, keyTag: written.keyTag)
        #expect(base.hasPrefix("Kexample.com.+0\(algorithm.rawValue)+"))
        #expect(written.privateKeyFile == directory.path + "/" + base + ".private")
        #expect(written.publicKeyFile == directory.path + "/" + base + ".key")
        #expect(try directory.mode(base + ".private") == 0o600)
        #expect(try directory.mode(base + ".key") == 0o644)
        let privateText = try directory.read(base + ".private")
        #expect(privateText.hasPrefix("Private-key-format: v1.3\nAlgorithm: \(algorithm.rawValue) (\(algorithm))\nPrivateKey: "))
        #expect(privateText.contains("\nCreated: 20231114221320\nPublish: 20231114221320\nActivate: 20231114221320\n"))

        let loaded = try KeyFiles.load(directory: directory.path)
        #expect(loaded.count == 1)
        let key = try #require(loaded.first)
        #expect(key.zone == zone)
        #expect(key.algorithm == algorithm && key.flags == 257)
        #expect(key.keyTag == written.keyTag && key.publicKey == written.publicKey && key.ds() == written.ds())
        let data = Array("an RRset in canonical form".utf8)
        #expect(verifies(key.sign(data), of: data, publicKey: written.publicKey, algorithm: algorithm))
        #expect(verifies(written.sign(data), of: data, publicKey: key.publicKey, algorithm: algorithm))
    }

    @Test(arguments: DNSSECAlgorithm.allCases)
    func signaturesVerify(_ algorithm: DNSSECAlgorithm) throws {
        let key = ZoneKey.generate(zone: try DNSName(parsing: "example.org."), algorithm: algorithm)
        #expect(key.publicKey.count == (algorithm == .ed25519 ? 32 : 64))
        let data = Array("signed data".utf8)
        let signature = key.sign(data)
        #expect(signature.count == 64)
        #expect(verifies(signature, of: data, publicKey: key.publicKey, algorithm: algorithm))
        #expect(!verifies(signature, of: data + [0], publicKey: key.publicKey, algorithm: algorithm))
    }

    @Test func rootZoneFileName() throws {
        #expect(KeyFiles.baseName(zone: .root, algorithm: .ed25519, keyTag: 42) == "K.+015+00042")
    }

    @Test func timestamps() {
        #expect(KeyFiles.timestamp(0) == "19700101000000")
        #expect(KeyFiles.timestamp(1_700_000_000) == "20231114221320")
        #expect(KeyFiles.timestamp(951_827_696) == "20000229123456")
        #expect(KeyFiles.timestamp(4_102_444_799) == "20991231235959")
    }

    @Test func existingFileIsNotOverwritten() throws {
        let directory = try TemporaryDirectory()
        let key = ZoneKey.generate(zone: try DNSName(parsing: "example.com."), algorithm: .ed25519)
        let written = try KeyFiles.write(key, directory: directory.path)
        let privateFile = try #require(written.privateKeyFile), publicFile = try #require(written.publicKeyFile)
        let privateText = try String(contentsOfFile: privateFile, encoding: .utf8)
        #expect(writeErrors(key, directory) == ["\(privateFile):0: file exists; key files are never overwritten"])
        #expect(try String(contentsOfFile: privateFile, encoding: .utf8) == privateText)

        // Only the .key is in the way: the .private just created is removed again.
        try FileManager.default.removeItem(atPath: privateFile)
        try "; someone else's\n".write(toFile: publicFile, atomically: false, encoding: .utf8)
        #expect(writeErrors(key, directory) == ["\(publicFile):0: file exists; key files are never overwritten"])
        #expect(!FileManager.default.fileExists(atPath: privateFile))
        #expect(try String(contentsOfFile: publicFile, encoding: .utf8) == "; someone else's\n")
    }

    @Test func unwritableDirectory() throws {
        let directory = try TemporaryDirectory()
        let key = ZoneKey.generate(zone: try DNSName(parsing: "example.com."), algorithm: .ecdsaP256SHA256)
        let missing = directory.path + "/missing"
        let base = KeyFiles.baseName(zone: key.zone, algorithm: key.algorithm, keyTag: key.keyTag)
        #expect(writeErrors(key, missing) == ["\(missing)/\(base).private:0: cannot create: no such file or directory"])
    }

    // MARK: - Keys made by BIND

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: dnssecKeygen), "dnssec-keygen (bind9-utils) is not installed"),
          arguments: [("ECDSAP256SHA256", DNSSECAlgorithm.ecdsaP256SHA256), ("ED25519", .ed25519)])
    func bindKeys(_ mnemonic: String, _ algorithm: DNSSECAlgorithm) throws {
        let directory = try TemporaryDirectory()
        let made = try run(dnssecKeygen, ["-q", "-a", mnemonic, "-f", "KSK", "-n", "ZONE", "-K", directory.path, "example.com"])
        let base = made.trimmingCharacters(in: .whitespacesAndNewlines)
        let keys = try KeyFiles.load(directory: directory.path)
        #expect(keys.count == 1)
        let key = try #require(keys.first)
        #expect(key.algorithm == algorithm && key.flags == 257)
        #expect(base == KeyFiles.baseName(zone: key.zone, algorithm: algorithm, keyTag: key.keyTag))
        let dsLine = try run(dnssecDSFromKey, ["-2", directory.path + "/" + base + ".key"])
        // `example.com. IN DS 12345 13 2 HEX`: the same as ours but without the TTL.
        #expect(dsLine.trimmingCharacters(in: .whitespacesAndNewlines) == key.dsRecordText().replacingOccurrences(of: " 3600 IN ", with: " IN "))
        let data = Array("an RRset".utf8)
        #expect(verifies(key.sign(data), of: data, publicKey: key.publicKey, algorithm: algorithm))
    }

    /// A key Meridian wrote is read by BIND's tools: the DS they compute is ours.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: dnssecDSFromKey), "dnssec-dsfromkey (bind9-utils) is not installed"),
          arguments: DNSSECAlgorithm.allCases)
    func bindReadsOurKeys(_ algorithm: DNSSECAlgorithm) throws {
        let directory = try TemporaryDirectory()
        let key = try KeyFiles.generate(zone: try DNSName(parsing: "example.net."), algorithm: algorithm, directory: directory.path)
        let dsLine = try run(dnssecDSFromKey, ["-2", try #require(key.publicKeyFile)])
        #expect(dsLine.trimmingCharacters(in: .whitespacesAndNewlines) == key.dsRecordText().replacingOccurrences(of: " 3600 IN ", with: " IN "))
    }

    // MARK: - Errors

    @Test func worldReadablePrivateKey() throws {
        let directory = try TemporaryDirectory()
        let key = try KeyFiles.generate(zone: try DNSName(parsing: "example.com."), algorithm: .ecdsaP256SHA256, directory: directory.path)
        let privateFile = try #require(key.privateKeyFile)
        #expect(chmod(privateFile, 0o644) == 0)
        #expect(loadErrors(directory) == ["\(privateFile):0: private key readable by other users (mode 0644); chmod 600 \(privateFile)"])
        #expect(chmod(privateFile, 0o620) == 0)
        #expect(loadErrors(directory) == ["\(privateFile):0: private key writable by other users (mode 0620); chmod 600 \(privateFile)"])
    }

    @Test func missingPublicOrPrivateFile() throws {
        let directory = try TemporaryDirectory()
        let zone = try DNSName(parsing: "example.com.")
        let one = try KeyFiles.generate(zone: zone, algorithm: .ecdsaP256SHA256, directory: directory.path)
        let two = try KeyFiles.generate(zone: zone, algorithm: .ed25519, directory: directory.path)
        let onePublic = try #require(one.publicKeyFile), onePrivate = try #require(one.privateKeyFile)
        let twoPublic = try #require(two.publicKeyFile), twoPrivate = try #require(two.privateKeyFile)
        try FileManager.default.removeItem(atPath: onePublic)
        try FileManager.default.removeItem(atPath: twoPrivate)
        // Not key files: ignored.
        try directory.write("README", "keys for example.com")
        try directory.write("Kexample.com.+013+00001.key.bak", "")
        #expect(loadErrors(directory) == [
            "\(onePrivate):0: no public key file \(onePublic) beside it",
            "\(twoPublic):0: no private key file \(twoPrivate) beside it",
        ])
    }

    @Test func mismatchedPublicKey() throws {
        let directory = try TemporaryDirectory()
        let other = try TemporaryDirectory()
        let zone = try DNSName(parsing: "example.com.")
        let key = try KeyFiles.generate(zone: zone, algorithm: .ed25519, directory: directory.path)
        let stranger = try KeyFiles.generate(zone: zone, algorithm: .ed25519, directory: other.path)
        let publicFile = try #require(key.publicKeyFile)
        try FileManager.default.removeItem(atPath: publicFile)
        try FileManager.default.copyItem(atPath: try #require(stranger.publicKeyFile), toPath: publicFile)
        let errors = loadErrors(directory)
        #expect(errors.first == "\(publicFile):5: public key does not match the private key in \(try #require(key.privateKeyFile))")
    }

    @Test func unsupportedAlgorithm() throws {
        let directory = try TemporaryDirectory()
        try directory.write("Kexample.com.+008+12345.key", "example.com. IN DNSKEY 257 3 8 AwEAAQ==\n")
        try directory.write("Kexample.com.+008+12345.private", """
            Private-key-format: v1.3
            Algorithm: 8 (RSASHA256)
            Modulus: AQ==

            """, mode: 0o600)
        #expect(loadErrors(directory) == [
            "\(directory.path)/Kexample.com.+008+12345.private:2: algorithm 8 (RSASHA256) is not supported; "
                + "Meridian signs with 13 (ECDSAP256SHA256) or 15 (ED25519)",
        ])
    }

    @Test func malformedFiles() throws {
        let directory = try TemporaryDirectory()
        let example = rfcExamples[1]
        try directory.write("Kexample.com.+015+03613.key", "; comment\nexample.com. IN DNSKEY 257 3 15 not*base64\n")
        try directory.write("Kexample.com.+015+03613.private", "Private-key-format: v1.3\nAlgorithm: 15 (ED25519)\n", mode: 0o600)
        try directory.write("Kexample.net.+015+03613.key", "example.net. IN DNSKEY 257 3 15 \(example.publicKey)\n")
        try directory.write("Kexample.net.+015+03613.private", "Private-key-format: v2.0\n", mode: 0o600)
        let path = directory.path
        #expect(loadErrors(directory) == [
            "\(path)/Kexample.com.+015+03613.private:0: no PrivateKey line",
            "\(path)/Kexample.com.+015+03613.key:2: public key is not valid base64",
            "\(path)/Kexample.net.+015+03613.private:1: unknown private key format v2.0; expected v1.x",
        ])
    }
}

// MARK: - Helpers

// bind9-utils puts them in /usr/bin on Debian 12, /usr/sbin elsewhere.
private let dnssecKeygen = bindTool("dnssec-keygen")
private let dnssecDSFromKey = bindTool("dnssec-dsfromkey")

private func bindTool(_ name: String) -> String {
    ["/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "/usr/local/sbin/"].map { $0 + name }
        .first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/sbin/" + name
}

private func hex(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { String(format: "%02X", $0) }.joined()
}

/// Checks a signature with swift-crypto's public key types, as a validator would.
private func verifies(_ signature: [UInt8], of data: [UInt8], publicKey: [UInt8], algorithm: DNSSECAlgorithm) -> Bool {
    switch algorithm {
    case .ecdsaP256SHA256:
        guard let key = try? P256.Signing.PublicKey(rawRepresentation: publicKey),
              let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
        return key.isValidSignature(parsed, for: data)
    case .ed25519:
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
        return key.isValidSignature(signature, for: data)
    }
}

private func loadErrors(_ directory: TemporaryDirectory) -> [String] {
    do {
        _ = try KeyFiles.load(directory: directory.path)
        return []
    } catch {
        return error.errors.map(\.description)
    }
}

private func writeErrors(_ key: ZoneKey, _ directory: TemporaryDirectory) -> [String] {
    writeErrors(key, directory.path)
}

private func writeErrors(_ key: ZoneKey, _ directory: String) -> [String] {
    do {
        _ = try KeyFiles.write(key, directory: directory)
        return []
    } catch {
        return error.errors.map(\.description)
    }
}

/// Runs a program and returns its standard output; throws when it exits non-zero.
private func run(_ program: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw ProcessFailure(program: program, status: process.terminationStatus) }
    return String(decoding: data, as: UTF8.self)
}

private struct ProcessFailure: Error, CustomStringConvertible {
    var program: String
    var status: Int32
    var description: String { "\(program) exited with \(status)" }
}

/// A directory under /tmp removed when the value goes away.
private final class TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "meridian-keys-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ name: String, _ text: String, mode: Int = 0o644) throws {
        let file = path + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
    }

    func read(_ name: String) throws -> String {
        try String(contentsOfFile: path + "/" + name, encoding: .utf8)
    }

    func mode(_ name: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path + "/" + name)
        return (attributes[.posixPermissions] as? Int ?? 0) & 0o7777
    }
}
