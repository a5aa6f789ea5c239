import Foundation
import MeridianFiles
import MeridianHealth
import Testing

@Suite struct AdminStateFileTests {
    @Test func missingFileMeansNothingDrained() throws {
        let file = AdminStateFile(path: try temporaryDirectory() + "/none/admin-state.json")
        #expect(try file.load() == [])
    }

    @Test func roundTripInSortedJSON() throws {
        let directory = try temporaryDirectory()
        let file = AdminStateFile(path: directory + "/run/admin-state.json")
        try file.save(["sin1", "fra1"])
        #expect(try String(contentsOfFile: file.path, encoding: .utf8) == "{\"drained\":[\"fra1\",\"sin1\"]}\n")
        #expect(try file.load() == ["fra1", "sin1"])
        try file.save([])
        #expect(try file.load() == [])
        // Only the state file is left behind: the temporary file was renamed over it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/run") == ["admin-state.json"])
    }

    @Test func unknownKeysAreIgnored() throws {
        let path = try temporaryDirectory() + "/admin-state.json"
        try "{\"version\": 2, \"drained\": [\"fra1\"]}".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try AdminStateFile(path: path).load() == ["fra1"])
    }

    @Test(arguments: [
        ("", "not valid JSON"),
        ("[]", "expected {\"drained\": [\"EDGE\", ...]}, a list of edge names"),
        ("{\"drained\": [1]}", "expected {\"drained\": [\"EDGE\", ...]}, a list of edge names"),
        ("{\"drained\": [\"\"]}", "\"\" is not an edge name"),
    ])
    func malformedFiles(content: String, message: String) throws {
        let path = try temporaryDirectory() + "/admin-state.json"
        try content.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try AdminStateFile(path: path).load()
            Issue.record("\(content) loaded")
        } catch {
            #expect(error.message == message)
            #expect(error.description.hasPrefix("\(path):"))
        }
    }

    @Test func lineOfAJSONSyntaxError() throws {
        let path = try temporaryDirectory() + "/admin-state.json"
        try "{\n  \"drained\": [\n    \"fra1\",,\n  ]\n}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: StateFileError(file: path, line: 3, message: "not valid JSON")) {
            try AdminStateFile(path: path).load()
        }
    }
}
