import MeridianControl

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum ProcessEnvironment {
    static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}

/// A JSON string literal, escaped by the encoder every other JSON dnsctl prints comes from.
func jsonString(_ text: String) -> String {
    ControlJSON.encode(text)
}
