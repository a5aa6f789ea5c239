import MeridianFiles
import MeridianWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// BIND's key files, read and written, so keys made by `dnssec-keygen` work in Meridian and
/// keys made by `dnsctl keygen` work in BIND's tools:
///
/// - `K<zone>.+<alg>+<tag>.key`: `;` comments and one DNSKEY record in presentation form
///   (`example.com. IN DNSKEY 257 3 13 BASE64`);
/// - `K<zone>.+<alg>+<tag>.private`: `Name: value` lines, of which Meridian needs
///   `Private-key-format: v1.x`, `Algorithm: 13 (ECDSAP256SHA256)` and `PrivateKey: BASE64`
///   (the P-256 scalar or the Ed25519 seed, 32 octets either way).
public enum KeyFiles {
    /// `Kexample.com.+013+05436` (zone lowercased without its trailing dot; the root is `K.`).
    public static func baseName(zone: DNSName, algorithm: DNSSECAlgorithm, keyTag: UInt16) -> String {
        var zoneText = zone.lowercased.description
        zoneText.removeLast()
        return "K\(zoneText).+\(digits(Int(algorithm.rawValue), 3))+\(digits(Int(keyTag), 5))"
    }

    /// Every key in `directory`: each `K*.private` with the `.key` of the same name. Checks
    /// that the pair belongs together, that the algorithm is one Meridian signs with, and that
    /// the private file is for its owner's eyes only. Reports every problem found, by file.
    public static func load(directory: String) throws(KeyFileErrors) -> [ZoneKey] {
        let names: [String]
        switch FileSystem.list(directory: directory) {
        case .success(let listed): names = listed
        case .failure(let error): throw KeyFileErrors([KeyFileError(file: directory, line: 0, message: "cannot list key directory: \(error)")])
        }
        var publicNames: Set<String> = []
        var privateNames: Set<String> = []
        for name in names where name.hasPrefix("K") {
            if name.hasSuffix(".key") { publicNames.insert(String(name.dropLast(4))) }
            if name.hasSuffix(".private") { privateNames.insert(String(name.dropLast(8))) }
        }
        var keys: [ZoneKey] = []
        var errors: [KeyFileError] = []
        for base in publicNames.union(privateNames).sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            let publicFile = FileSystem.join(directory, base + ".key")
            let privateFile = FileSystem.join(directory, base + ".private")
            guard privateNames.contains(base) else {
                errors.append(KeyFileError(file: publicFile, line: 0, message: "no private key file \(privateFile) beside it"))
                continue
            }
            guard publicNames.contains(base) else {
                errors.append(KeyFileError(file: privateFile, line: 0, message: "no public key file \(publicFile) beside it"))
                continue
            }
            switch readPair(privateFile: privateFile, publicFile: publicFile) {
            case .success(let key): keys.append(key)
            case .failure(let problems): errors += problems.errors
            }
        }
        guard errors.isEmpty else { throw KeyFileErrors(errors) }
        return keys
    }

    /// Reads one key from its two files.
    public static func readPair(privateFile: String, publicFile: String) -> Result<ZoneKey, KeyFileErrors> {
        var errors: [KeyFileError] = []
        if case .success(let mode) = FileSystem.permissions(privateFile), mode & 0o077 != 0 {
            let access = mode & 0o044 != 0 ? "readable" : "writable"
            errors.append(KeyFileError(file: privateFile, line: 0,
                                       message: "private key \(access) by other users (mode \(octal(mode))); chmod 600 \(privateFile)"))
        }
        let privatePart = readPrivate(privateFile)
        let publicPart = readPublic(publicFile)
        if case .failure(let error) = privatePart { errors.append(error) }
        if case .failure(let error) = publicPart { errors.append(error) }
        guard case .success(let secret) = privatePart, case .success(let record) = publicPart else {
            return .failure(KeyFileErrors(errors))
        }
        guard record.algorithm == secret.algorithm.rawValue else {
            errors.append(KeyFileError(file: publicFile, line: record.line,
                                       message: "algorithm \(record.algorithm), but \(privateFile) has algorithm \(secret.algorithm.rawValue)"))
            return .failure(KeyFileErrors(errors))
        }
        let key: ZoneKey
        do {
            key = try ZoneKey(zone: record.owner, algorithm: secret.algorithm, flags: record.flags, privateKey: secret.privateKey)
        } catch {
            errors.append(KeyFileError(file: privateFile, line: secret.line, message: error.description))
            return .failure(KeyFileErrors(errors))
        }
        if key.publicKey != record.publicKey {
            errors.append(KeyFileError(file: publicFile, line: record.line,
                                       message: "public key does not match the private key in \(privateFile)"))
        }
        // BIND names the files after the key tag; a different tag means the files were
        // renamed or edited, and tools that look keys up by name would find the wrong one.
        if let tag = fileNameKeyTag(publicFile), tag != key.keyTag {
            errors.append(KeyFileError(file: publicFile, line: record.line,
                                       message: "key tag \(key.keyTag) differs from \(tag) in the file name"))
        }
        guard errors.isEmpty else { return .failure(KeyFileErrors(errors)) }
        var loaded = key
        loaded.privateKeyFile = privateFile
        loaded.publicKeyFile = publicFile
        return .success(loaded)
    }

    /// Makes a new key for `zone` and writes its two files into `directory` (see `write`).
    public static func generate(zone: DNSName, algorithm: DNSSECAlgorithm, flags: UInt16 = ZoneKey.keySigningFlags,
                                directory: String, now: Int? = nil) throws(KeyFileErrors) -> ZoneKey {
        try write(ZoneKey.generate(zone: zone, algorithm: algorithm, flags: flags), directory: directory, now: now)
    }

    /// Writes a key's two files into `directory` and returns the key with their paths: the
    /// private file created with mode 0600 (never readable by others, not even for an
    /// instant), the public file with 0644. An existing file is never overwritten; when the
    /// `.key` cannot be written the `.private` just made is removed again. `now` (seconds
    /// since the Unix epoch, default the current time) becomes the Created, Publish and
    /// Activate times.
    public static func write(_ key: ZoneKey, directory: String, now: Int? = nil) throws(KeyFileErrors) -> ZoneKey {
        // Every other octet is escaped or harmless in a file name; a slash would put the
        // files in another directory.
        guard !key.zone.labels.contains(where: { $0.contains(UInt8(ascii: "/")) }) else {
            throw KeyFileErrors([KeyFileError(file: directory, line: 0,
                                              message: "zone name \(key.zone) contains '/', which cannot be part of a key file name")])
        }
        let created = timestamp(now ?? Int(time(nil)))
        let base = baseName(zone: key.zone, algorithm: key.algorithm, keyTag: key.keyTag)
        let privateFile = FileSystem.join(directory, base + ".private")
        let publicFile = FileSystem.join(directory, base + ".key")
        if let reason = createFile(privateFile, mode: 0o600, contents: privateFileText(key, created: created)) {
            throw KeyFileErrors([KeyFileError(file: privateFile, line: 0, message: reason)])
        }
        if let reason = createFile(publicFile, mode: 0o644, contents: publicFileText(key, created: created)) {
            unlink(privateFile)
            throw KeyFileErrors([KeyFileError(file: publicFile, line: 0, message: reason)])
        }
        var written = key
        written.privateKeyFile = privateFile
        written.publicKeyFile = publicFile
        return written
    }

    /// The `.key` file as `dnssec-keygen` writes it: comments with the times, then the record.
    public static func publicFileText(_ key: ZoneKey, created: String) -> String {
        let role = key.flags & 1 == 1 ? "key-signing key" : "zone-signing key"
        return """
        ; This is a \(role), keyid \(key.keyTag), for \(key.zone.lowercased)
        ; Created: \(created)
        ; Publish: \(created)
        ; Activate: \(created)
        \(key.dnskeyRecordText(ttl: nil))

        """
    }

    /// The `.private` file in BIND's v1.3 format.
    public static func privateFileText(_ key: ZoneKey, created: String) -> String {
        """
        Private-key-format: v1.3
        Algorithm: \(key.algorithm.rawValue) (\(key.algorithm))
        PrivateKey: \(Base64.encode(key.privateKeyBytes))
        Created: \(created)
        Publish: \(created)
        Activate: \(created)

        """
    }

    /// `YYYYMMDDHHMMSS` in UTC, as key files and RRSIG presentation write times.
    public static func timestamp(_ secondsSinceEpoch: Int) -> String {
        let time = CivilTime.split(secondsSinceEpoch)
        return digits(time.year, 4) + digits(time.month, 2) + digits(time.day, 2)
            + digits(time.hour, 2) + digits(time.minute, 2) + digits(time.second, 2)
    }

    // MARK: - Reading

    private struct PrivatePart {
        var algorithm: DNSSECAlgorithm
        var privateKey: [UInt8]
        /// The line of `PrivateKey:`.
        var line: Int
    }

    private struct PublicRecord {
        var owner: DNSName
        var flags: UInt16
        var algorithm: UInt8
        var publicKey: [UInt8]
        var line: Int
    }

    private static func readPrivate(_ file: String) -> Result<PrivatePart, KeyFileError> {
        let text: String
        switch FileSystem.readText(file) {
        case .success(let read): text = read
        case .failure(let error): return .failure(KeyFileError(file: file, line: 0, message: "cannot read: \(error)"))
        }
        var format: Int?
        var algorithm: (value: DNSSECAlgorithm, line: Int)?
        var privateKey: (bytes: [UInt8], line: Int)?
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let line = rawLine.trimmingSpaces
            if line.isEmpty || line.hasPrefix(";") { continue }
            guard let colon = line.firstIndex(of: ":") else {
                return .failure(KeyFileError(file: file, line: lineNumber, message: "expected Name: value"))
            }
            let name = line[..<colon]
            let value = line[line.index(after: colon)...].trimmingSpaces
            switch name {
            case "Private-key-format":
                // v1.2 (older BIND and the RFC examples) and v1.3 differ only in the
                // timing fields, which Meridian does not read.
                guard value.hasPrefix("v1.") else {
                    return .failure(KeyFileError(file: file, line: lineNumber, message: "unknown private key format \(value); expected v1.x"))
                }
                format = lineNumber
            case "Algorithm":
                let number = value.prefix { $0 != " " && $0 != "\t" }
                guard let code = UInt8(number) else {
                    return .failure(KeyFileError(file: file, line: lineNumber, message: "bad algorithm \(value)"))
                }
                guard let known = DNSSECAlgorithm(rawValue: code) else {
                    let named = value.count > number.count ? " " + value.dropFirst(number.count).trimmingSpaces : ""
                    return .failure(KeyFileError(file: file, line: lineNumber, message: "algorithm \(code)\(named) is not supported; "
                        + "Meridian signs with 13 (ECDSAP256SHA256) or 15 (ED25519)"))
                }
                algorithm = (known, lineNumber)
            case "PrivateKey":
                guard let bytes = Base64.decode(value) else {
                    return .failure(KeyFileError(file: file, line: lineNumber, message: "PrivateKey is not valid base64"))
                }
                privateKey = (bytes, lineNumber)
            default:
                // Created, Publish, Activate and the other timing fields: the operator's
                // schedule for BIND, not needed to sign.
                continue
            }
        }
        guard format != nil else { return .failure(KeyFileError(file: file, line: 0, message: "no Private-key-format line")) }
        guard let algorithm else { return .failure(KeyFileError(file: file, line: 0, message: "no Algorithm line")) }
        guard let privateKey else { return .failure(KeyFileError(file: file, line: 0, message: "no PrivateKey line")) }
        return .success(PrivatePart(algorithm: algorithm.value, privateKey: privateKey.bytes, line: privateKey.line))
    }

    /// The one DNSKEY record of a `.key` file: owner, optional TTL and class in either order,
    /// `DNSKEY`, flags, protocol, algorithm and the base64 key, which may be split by spaces
    /// and, in parentheses, over lines (as the RFC examples write it).
    private static func readPublic(_ file: String) -> Result<PublicRecord, KeyFileError> {
        let text: String
        switch FileSystem.readText(file) {
        case .success(let read): text = read
        case .failure(let error): return .failure(KeyFileError(file: file, line: 0, message: "cannot read: \(error)"))
        }
        var tokens: [Substring] = []
        var recordLine = 0
        var inParentheses = false
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = rawLine.prefix { $0 != ";" }
            let words = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if words.isEmpty { continue }
            if recordLine != 0 && !inParentheses {
                return .failure(KeyFileError(file: file, line: index + 1, message: "more than one record; a key file holds one DNSKEY"))
            }
            if recordLine == 0 { recordLine = index + 1 }
            for word in words {
                var rest = word[...]
                if rest.hasPrefix("(") { inParentheses = true; rest = rest.dropFirst() }
                if rest.hasSuffix(")") { inParentheses = false; rest = rest.dropLast() }
                if !rest.isEmpty { tokens.append(rest) }
            }
        }
        guard recordLine != 0 else { return .failure(KeyFileError(file: file, line: 0, message: "no DNSKEY record")) }
        let fail = { (message: String) in Result<PublicRecord, KeyFileError>.failure(KeyFileError(file: file, line: recordLine, message: message)) }
        guard let typeIndex = tokens.firstIndex(where: { $0.uppercased() == "DNSKEY" }), typeIndex >= 1, typeIndex <= 3 else {
            return fail("expected OWNER [TTL] [IN] DNSKEY FLAGS 3 ALGORITHM KEY")
        }
        for token in tokens[1..<typeIndex] where token.uppercased() != "IN" && UInt32(token) == nil {
            return fail("unexpected \(token) before DNSKEY")
        }
        let owner: DNSName
        do {
            owner = try DNSName(parsing: tokens[0])
        } catch {
            return fail("bad owner name \(tokens[0]): \(error)")
        }
        guard tokens[0].hasSuffix(".") else {
            return fail("owner name \(tokens[0]) must be absolute (end with a dot)")
        }
        let fields = tokens[(typeIndex + 1)...]
        guard fields.count >= 4 else { return fail("DNSKEY needs flags, protocol, algorithm and key") }
        guard let flags = UInt16(fields[fields.startIndex]) else { return fail("bad flags \(fields[fields.startIndex])") }
        guard flags & 0x0100 != 0 else { return fail("flags \(flags) lack the zone key bit (256); not a zone's key") }
        guard fields[fields.startIndex + 1] == "3" else { return fail("protocol \(fields[fields.startIndex + 1]), expected 3") }
        guard let algorithm = UInt8(fields[fields.startIndex + 2]) else { return fail("bad algorithm \(fields[fields.startIndex + 2])") }
        guard let publicKey = Base64.decode(fields[(fields.startIndex + 3)...].joined()) else {
            return fail("public key is not valid base64")
        }
        return .success(PublicRecord(owner: owner, flags: flags, algorithm: algorithm, publicKey: publicKey, line: recordLine))
    }

    /// The key tag in a BIND file name (`Kexample.com.+013+05436.key` → 5436).
    private static func fileNameKeyTag(_ path: String) -> UInt16? {
        let name = FileSystem.lastComponent(of: path)
        let parts = name.split(separator: "+")
        guard parts.count >= 3, let last = parts.last else { return nil }
        let tag = last.prefix { $0 != "." }
        guard tag.count == 5 else { return nil }
        return UInt16(tag)
    }

    // MARK: - Writing

    /// Creates `path` with exactly `mode` and writes `contents`; nil on success, else why not.
    /// O_EXCL makes "never overwrite" atomic; a partly written file is removed.
    private static func createFile(_ path: String, mode: UInt32, contents: String) -> String? {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
        guard fd >= 0 else {
            let code = errno
            if code == EEXIST { return "file exists; key files are never overwritten" }
            return "cannot create: \(FileSystemError(code: code))"
        }
        // The umask may have taken bits away from a public file; put them back.
        var failure: String? = fchmod(fd, mode_t(mode)) == 0 ? nil : "cannot set mode: \(FileSystemError(code: errno))"
        let bytes = Array(contents.utf8)
        var offset = 0
        while failure == nil && offset < bytes.count {
            let written = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                failure = "cannot write: \(FileSystemError(code: errno))"
            } else {
                offset += written
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = "cannot write: \(FileSystemError(code: errno))" }
        close(fd)
        if failure != nil { unlink(path) }
        return failure
    }

    private static func digits(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(width - text.count, 0)) + text
    }

    private static func octal(_ mode: UInt32) -> String {
        let text = String(mode, radix: 8)
        return String(repeating: "0", count: max(4 - text.count, 0)) + text
    }
}

/// `write(2)` under a name that does not clash with `KeyFiles.write`.
@inline(__always)
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}

/// One problem with a key file, printed as `FILE:LINE: message` (line 0: the whole file).
public typealias KeyFileError = FileLineError

/// Every problem found in a key directory, by file name: loading does not stop at the first.
public struct KeyFileErrors: Error, Hashable, Sendable, CustomStringConvertible {
    public var errors: [KeyFileError]

    public init(_ errors: [KeyFileError]) { self.errors = errors }

    /// One error per line.
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: SubSequence {
        let isSpace = { (c: Character) in c == " " || c == "\t" || c == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return self[endIndex...] }
        return self[first...last]
    }
}
