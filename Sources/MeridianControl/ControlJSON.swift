#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The JSON dialect of the control socket, `dnsctl --json` and the stats port's `/api/v1/`:
/// compact, keys sorted (stable output for diffs and tests), slashes unescaped, and
/// non-finite numbers as the strings `Infinity`, `-Infinity`, `NaN` rather than a failure.
public enum ControlJSON {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return decoder
    }

    /// `value` as JSON text.
    public static func encode(_ value: some Encodable) -> String {
        do {
            return String(decoding: try encoder().encode(value), as: UTF8.self)
        } catch {
            return failureLine(ControlFailure("cannot encode the reply: \(error)"))
        }
    }

    /// The reply line for a success: `{"ok":true,"result":…}` (without the newline).
    public static func successLine(_ result: some Encodable) -> String {
        "{\"ok\":true,\"result\":\(encode(result))}"
    }

    /// The reply line for a failure: `{"error":"…","exitCode":1,"ok":false}` (without the newline).
    public static func failureLine(_ failure: ControlFailure) -> String {
        let envelope = FailureEnvelope(ok: false, error: failure.message, exitCode: failure.exitCode)
        guard let data = try? encoder().encode(envelope) else { return "{\"ok\":false,\"error\":\"internal error\"}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// What every reply line has.
    struct FailureEnvelope: Codable {
        var ok: Bool
        var error: String?
        var exitCode: Int32?
    }

    struct SuccessEnvelope<Result: Decodable>: Decodable {
        var result: Result
    }

    /// Reads a reply line: the result on success, the server's failure otherwise.
    public static func decodeReply<Reply: Decodable>(_ line: some Collection<UInt8>, as type: Reply.Type) -> Result<Reply, ControlFailure> {
        let data = Data(line)
        let decoder = decoder()
        guard let envelope = try? decoder.decode(FailureEnvelope.self, from: data) else {
            return .failure(ControlFailure("the server sent a reply that is not JSON: \(preview(line))"))
        }
        guard envelope.ok else {
            return .failure(ControlFailure(envelope.error ?? "the server refused the request", exitCode: envelope.exitCode ?? 1))
        }
        do {
            return .success(try decoder.decode(SuccessEnvelope<Reply>.self, from: data).result)
        } catch {
            return .failure(ControlFailure("the server's reply does not have the expected form (\(describe(error))); is dnsctl the same version as meridian?"))
        }
    }

    /// A short, readable account of a decoding error.
    public static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context):
            if context.codingPath.isEmpty { return "not valid JSON" }
            return context.debugDescription
        case DecodingError.keyNotFound(let key, let context):
            return "missing \"\(path(context.codingPath + [key]))\""
        case DecodingError.typeMismatch(let type, let context):
            return "\"\(path(context.codingPath))\" is not \(typeName(type))"
        case DecodingError.valueNotFound(let type, let context):
            return "\"\(path(context.codingPath))\" is null, expected \(typeName(type))"
        default:
            return "\(error)"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int32.Type, is UInt32.Type, is UInt64.Type, is Double.Type: "a number"
        case is Bool.Type: "a boolean"
        default: "\(type)"
        }
    }

    static func preview(_ bytes: some Collection<UInt8>) -> String {
        let text = String(decoding: bytes.prefix(80), as: UTF8.self)
        return bytes.count > 80 ? text + "…" : text
    }
}
