#if canImport(Glibc)
import Glibc
#endif
import CMaxMindDB

/// A copy of a file that only this process can reach: a sealed memory file, opened by path
/// through `/proc/self/fd`. libmaxminddb maps the database it opens; a mapping of the
/// operator's own file would fault (SIGBUS) at the next lookup after the file is truncated
/// in place, as an interrupted `cp` or `scp` leaves it. The copy cannot change: replacing,
/// truncating or deleting the original affects only the next reload. It costs the file's
/// size in memory for as long as the database is open.
struct PrivateFileCopy: ~Copyable {
    let descriptor: Int32

    /// The path libmaxminddb opens.
    var path: String { "/proc/self/fd/\(descriptor)" }

    /// Copies `source` with read(2), which returns short rather than faulting when the file
    /// shrinks meanwhile; a short copy then fails validation like any damaged file.
    init(of source: String) throws(GeoDatabaseError) {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw Self.failure(source, "cannot open GeoIP database") }
        defer { close(input) }
        let copy = meridian_memory_file("meridian-geoip")
        guard copy >= 0 else { throw Self.failure(source, "cannot make a private copy of the GeoIP database") }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else {
                close(copy)
                throw Self.failure(source, "cannot read GeoIP database")
            }
            if count == 0 { break }
            guard Self.writeAll(copy, buffer, count: count) else {
                close(copy)
                throw Self.failure(source, "cannot make a private copy of the GeoIP database")
            }
        }
        guard meridian_seal_memory_file(copy) == 0 else {
            close(copy)
            throw Self.failure(source, "cannot seal the private copy of the GeoIP database")
        }
        descriptor = copy
    }

    deinit { close(descriptor) }

    private static func writeAll(_ descriptor: Int32, _ buffer: [UInt8], count: Int) -> Bool {
        var offset = 0
        while offset < count {
            let written = buffer.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, count - offset) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }

    private static func failure(_ path: String, _ what: String) -> GeoDatabaseError {
        GeoDatabaseError(path: path, message: "\(what): \(String(cString: strerror(errno)))")
    }
}
