/// A problem found in one of the operator's files, printed `FILE:LINE: message` like every
/// file error of Meridian (line 0: the whole file, or something outside its content such as
/// permissions). Key files, GeoIP CSV and the admin state file report theirs with it.
public struct FileLineError: Error, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { "\(file):\(line): \(message)" }
}
