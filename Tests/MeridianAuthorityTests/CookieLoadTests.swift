import Foundation
import MeridianAuthority
import MeridianLoad
import Testing

/// Cookie secrets through the loader the server starts and reloads with.
@Suite struct CookieLoadTests {
    /// A directory with one zone and `meridian.yaml` ending in the `cookies` text made for
    /// the directory, removed afterwards.
    func withServerFiles(cookies: (String) -> String, _ body: (_ directory: String, _ config: String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("meridian-load-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/zones", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try ResponderCookieTests.zone.write(toFile: directory + "/zones/cookie.test.zone", atomically: true, encoding: .utf8)
        let config = directory + "/meridian.yaml"
        try "zones:\n  directory: \(directory)/zones\n\(cookies(directory))".write(toFile: config, atomically: true, encoding: .utf8)
        try body(directory, config)
    }

    func write(_ text: String, to path: String, mode: Int = 0o600) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    @Test func withoutASecretFileARandomSecretSurvivesReloads() throws {
        try withServerFiles(cookies: { _ in "" }) { _, config in
            let first = try ServerLoader.load(configPath: config)
            let secrets = try #require(first.snapshot.cookieSecrets)
            #expect(first.randomCookieKey == secrets.current)
            #expect(secrets.previous == nil)
            let reloaded = try ServerLoader.load(configPath: config, reusing: first)
            #expect(reloaded.snapshot.cookieSecrets == secrets)
            // Another process start makes another secret.
            #expect(try ServerLoader.load(configPath: config).snapshot.cookieSecrets != secrets)
        }
    }

    @Test func secretFilesGiveTheSnapshotsSecrets() throws {
        try withServerFiles(cookies: { "cookies: {secret_file: \($0)/new.secret, previous_secret_file: \($0)/old.secret}\n" }) { directory, config in
            try write("e5e973e5a6b2a43f48e7dc849e37bfcf\n", to: directory + "/new.secret")
            try write("445536bcd2513298075a5d379663c962\n", to: directory + "/old.secret")
            let loaded = try ServerLoader.load(configPath: config)
            #expect(loaded.snapshot.cookieSecrets == CookieSecrets(current: ServerCookieTests.secret,
                                                                   previous: SipHashKey(bytes: hexOctets("445536bcd2513298075a5d379663c962"))))
            #expect(loaded.randomCookieKey == nil)
            #expect(loaded.warnings.isEmpty)
        }
    }

    @Test func aBadSecretRejectsTheLoadWithItsPosition() throws {
        try withServerFiles(cookies: { "cookies:\n  secret_file: \($0)/cookie.secret\n" }) { directory, config in
            let secret = directory + "/cookie.secret"
            try write("e5e973e5a6b2a43f48e7dc849e37bfcf\n", to: secret)
            let good = try ServerLoader.load(configPath: config)
            try write("e5e973e5a6b2a43f48e7dc849e37bf\n", to: secret)
            do throws(LoadFailure) {
                _ = try ServerLoader.load(configPath: config, reusing: good)
                Issue.record("a 15-octet secret was accepted")
            } catch {
                #expect(error.lines == ["\(secret):2:1: cookies.secret_file: only 30 hexadecimal digits; a secret is 32 of them (16 octets)"])
            }
        }
    }

    @Test func aSecretOthersCanReadIsWarnedAbout() throws {
        try withServerFiles(cookies: { "cookies:\n  secret_file: \($0)/cookie.secret\n" }) { directory, config in
            let secret = directory + "/cookie.secret"
            try write("e5e973e5a6b2a43f48e7dc849e37bfcf\n", to: secret, mode: 0o644)
            #expect(try ServerLoader.load(configPath: config).warnings == [
                "\(secret): cookie secret readable by other users (mode 0644); anyone who reads it can forge server cookies: chmod o-r \(secret)",
            ])
            try write("e5e973e5a6b2a43f48e7dc849e37bfcf\n", to: secret, mode: 0o640)
            #expect(try ServerLoader.load(configPath: config).warnings.isEmpty)
        }
    }

    @Test func disabledCookiesLeaveTheSnapshotWithoutSecrets() throws {
        try withServerFiles(cookies: { _ in "cookies: {enabled: false}\n" }) { _, config in
            let loaded = try ServerLoader.load(configPath: config)
            #expect(loaded.snapshot.cookieSecrets == nil)
            #expect(loaded.randomCookieKey == nil)
        }
    }
}
