import Foundation
import MeridianConfig
import Testing

@Suite struct CookieSecretTextTests {
    static let secret: [UInt8] = [0xe5, 0xe9, 0x73, 0xe5, 0xa6, 0xb2, 0xa4, 0x3f, 0x48, 0xe7, 0xdc, 0x84, 0x9e, 0x37, 0xbf, 0xcf]

    @Test(arguments: [
        "e5e973e5a6b2a43f48e7dc849e37bfcf",
        "e5e973e5a6b2a43f48e7dc849e37bfcf\n",  // `openssl rand -hex 16 > FILE`
        "E5E973E5A6B2A43F48E7DC849E37BFCF\r\n",
        "  e5e973e5 a6b2a43f\n\t48e7dc84 9e37bfcf  \n\n",
    ])
    func accepted(text: String) throws {
        #expect(try CookieSecretText.parse(text).bytes == Self.secret)
    }

    @Test(arguments: [
        ("", 1, 1, "no hexadecimal digits; a secret is 32 of them (16 octets)"),
        ("\n", 2, 1, "no hexadecimal digits; a secret is 32 of them (16 octets)"),
        ("e5e973e5a6b2a43f48e7dc849e37bf\n", 2, 1, "only 30 hexadecimal digits; a secret is 32 of them (16 octets)"),
        ("e5e973e5a6b2a43f48e7dc849e37bfc", 1, 31, "only 31 hexadecimal digits; a secret is 32 of them (16 octets)"),
        ("e5e973e5a6b2a43f\n48e7dc849e37bfcf00\n", 2, 17, "more than 32 hexadecimal digits; a secret is 16 octets"),
        ("e5e973e5a6b2a43f\n48e7dc849e37bfcg\n", 2, 16,
         "\"g\" is not a hexadecimal digit; the file holds 32 of them (16 octets), e.g. from `openssl rand -hex 16`"),
        ("0x5e973e5a6b2a43f48e7dc849e37bfcf", 1, 2,
         "\"x\" is not a hexadecimal digit; the file holds 32 of them (16 octets), e.g. from `openssl rand -hex 16`"),
    ])
    func rejected(text: String, line: Int, column: Int, message: String) {
        do throws(CookieSecretText.Failure) {
            _ = try CookieSecretText.parse(text)
            Issue.record("accepted \(text.debugDescription)")
        } catch {
            #expect(error == CookieSecretText.Failure(line: line, column: column, message: message))
        }
    }

    @Test func theSecretIsNeverPrinted() throws {
        let secret = try CookieSecretText.parse("e5e973e5a6b2a43f48e7dc849e37bfcf")
        #expect(!"\(CookieSettings(secretFile: "s", secret: secret))".contains("e5e9"))
    }
}

/// The `cookies` section as the loader reads it, with real secret files.
@Suite struct CookieSectionTests {
    @Test func defaultsAreOnWithARandomSecret() throws {
        let settings = try MeridianConfiguration.parse(yaml: "", file: "t.yaml").cookies
        #expect(settings == CookieSettings(enabled: true))
        #expect(try MeridianConfiguration.parse(yaml: "cookies: {enabled: false}\n", file: "t.yaml").cookies.enabled == false)
    }

    @Test func secretsAreReadFromTheirFiles() throws {
        try withTemporaryDirectory { directory in
            try "e5e973e5a6b2a43f48e7dc849e37bfcf\n".write(toFile: directory + "/new", atomically: true, encoding: .utf8)
            try "445536bcd2513298075a5d379663c962".write(toFile: directory + "/old", atomically: true, encoding: .utf8)
            let yaml = "cookies:\n  secret_file: \(directory)/new\n  previous_secret_file: \(directory)/old\n"
            let cookies = try MeridianConfiguration.parse(yaml: yaml, file: "t.yaml").cookies
            #expect(cookies.secretFile == directory + "/new")
            #expect(cookies.secret?.bytes == CookieSecretTextTests.secret)
            #expect(cookies.previousSecret?.bytes.first == 0x44)
        }
    }

    @Test func aBadSecretIsReportedAtItsLineAndAMissingOneAtTheKey() throws {
        try withTemporaryDirectory { directory in
            try "# a comment is not a secret\n".write(toFile: directory + "/bad", atomically: true, encoding: .utf8)
            let yaml = "cookies:\n  secret_file: \(directory)/bad\n  previous_secret_file: \(directory)/missing\n"
            #expect(problems(yaml) == [
                "\(directory)/bad:1:1: cookies.secret_file: \"#\" is not a hexadecimal digit; the file holds 32 of them (16 octets), e.g. from `openssl rand -hex 16`",
                "t.yaml:3:25: cookies.previous_secret_file: \(directory)/missing: cannot open: No such file or directory",
            ])
        }
    }

    @Test(arguments: [
        ("cookies:\n  previous_secret_file: old\n",
         "t.yaml:2:3: cookies: previous_secret_file needs a secret_file: the previous secret only verifies, new cookies take the current one"),
        ("cookies:\n  enabled: maybe\n", "t.yaml:2:12: cookies.enabled: expected true or false, not \"maybe\""),
        ("cookies:\n  secret: e5e973e5a6b2a43f48e7dc849e37bfcf\n",
         "t.yaml:2:3: cookies: unknown key \"secret\" (expected enabled, secret_file, previous_secret_file)"),
        ("cookies:\n  secret_file: \"\"\n", "t.yaml:2:16: cookies.secret_file: must not be empty"),
    ])
    func rejected(yaml: String, error: String) {
        #expect(problems(yaml).first == error)
    }

    /// Turned off, the files are not read: a server can be started without them.
    @Test func disabledCookiesReadNoFile() throws {
        let yaml = "cookies:\n  enabled: false\n  secret_file: /nonexistent/cookie.secret\n"
        let cookies = try MeridianConfiguration.parse(yaml: yaml, file: "t.yaml").cookies
        #expect(!cookies.enabled)
        #expect(cookies.secret == nil)
    }
}
