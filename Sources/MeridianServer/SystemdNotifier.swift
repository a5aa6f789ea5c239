#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import MeridianControl

/// Tells the service manager what the server is doing, as sd_notify(3) does for a unit of
/// `Type=notify`: READY=1 once it answers, RELOADING=1 and READY=1 around a reload,
/// STOPPING=1 at shutdown, each with a STATUS line `systemctl status` shows. Written by hand:
/// the protocol is one datagram to the socket named by `NOTIFY_SOCKET`, and libsystemd would
/// be a C dependency for that. Without `NOTIFY_SOCKET` (not started by systemd) it does
/// nothing.
struct SystemdNotifier: Sendable {
    private let socketPath: String?

    init(socketPath: String? = getenv("NOTIFY_SOCKET").map { String(cString: $0) }) {
        self.socketPath = socketPath.flatMap { $0.isEmpty ? nil : $0 }
    }

    func ready(status: String) { send("READY=1\nSTATUS=\(status)") }

    /// systemd wants the reload's start on the monotonic clock (systemd.service(5)).
    func reloading() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        send("RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=\(UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000)")
    }

    func stopping() { send("STOPPING=1\nSTATUS=stopping") }

    private func send(_ state: String) {
        guard let socketPath else { return }
        _ = UnixSocket.sendDatagram(Array(state.utf8), to: socketPath)
    }
}
