#if canImport(Glibc)
import Glibc
#endif
import CMeridianIO
import Foundation
import MeridianControl
import MeridianFiles
import MeridianStats
import NIOCore

/// Threads worth running per task: the CPUs the process may use (a `taskset` or cpuset
/// limits them), not all the machine's cores; more would only take turns on the same CPU.
public func usableCPUs() -> Int {
    let allowed = Int(meridian_allowed_cpus())
    return allowed > 0 ? allowed : System.coreCount
}

/// Returns the memory a load freed (the GeoIP trie, walk memos, zone text) to the system,
/// which malloc would otherwise keep for the process.
public func releaseFreeMemory() {
    meridian_release_free_memory()
}

/// Gives every block of 128 KiB or more its own mapping, returned to the system when freed.
/// A zone's arrays are such blocks. By default glibc raises that threshold each time a large
/// block is freed (up to 32 MiB), so after the first load a reload's arrays came from the
/// heap: what a reload freed stayed in the process (RSS grew by a third of the zone per
/// reload), and the reload's own peak held the blocks its arrays outgrew. The answering
/// path allocates nothing, so the extra system calls are a load's alone.
public func mapLargeAllocations() {
    _ = meridian_map_large_allocations(128 << 10)
}

/// Runs `body` on a new thread named `name` for `top -H`, `perf` and `/proc/PID/task/*/comm`
/// (Linux keeps the first 15 bytes; Foundation's `Thread.name` does not reach the kernel there).
func startThread(named name: String, stackSize: Int = 1 << 20, _ body: @escaping @Sendable () -> Void) {
    let thread = Thread {
        _ = meridian_name_thread(name)
        body()
    }
    thread.stackSize = stackSize
    thread.start()
}

/// Runs `body` on a thread of its own at a lower priority (nice 10) and returns what it
/// returned. A reload parses and builds for a second or more when a zone is large; where it
/// shares a CPU with an answering thread, the kernel then hands that thread the CPU whenever
/// queries arrive, so answers do not queue behind the load.
func atLowPriority<Value: Sendable>(_ body: @escaping @Sendable () -> Value) async -> Value {
    await withCheckedContinuation { continuation in
        // Deeply nested $INCLUDEs and long names recurse; the main thread's size, not a secondary thread's.
        startThread(named: "meridian-load", stackSize: 8 << 20) {
            _ = meridian_lower_thread_priority(10)
            continuation.resume(returning: body())
        }
    }
}

/// File descriptors: the soft limit raised to the hard one at start, and DNS over TCP sized
/// to fit in it beside everything else, so no auxiliary listener can starve DNS and DNS
/// cannot starve zone reloads, health probes or `dnsctl`.
public enum DescriptorBudget {
    /// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the soft limit now in force.
    public static func raiseLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(resourceNoFile, &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(resourceNoFile, &raised) == 0 { limit = raised }
        }
        // RLIM_INFINITY is all ones, which Int(clamping:) turns into Int.max.
        return Int(clamping: limit.rlim_cur)
    }

    /// Descriptors kept for everything but DNS over TCP connections: the DNS sockets, the
    /// stats port's and control socket's connection caps, two per health-checked edge (a
    /// probe and its reconnect), and a margin for files (zones, GeoIP, state), the event
    /// loops' own descriptors and the standard streams.
    public static func reserved(dnsSockets: Int, edges: Int) -> Int {
        dnsSockets + StatsServer.maximumConnections + ControlServer.maximumConnections + 2 * edges + 128
    }

    /// The TCP connection cap that fits in `limit`: the configured one, or what is left
    /// after `reserved` (at least 16).
    public static func tcpConnections(configured: Int, limit: Int, reserved: Int) -> Int {
        min(configured, max(16, limit - reserved))
    }

    /// The soft limit in force.
    static var currentLimit: UInt64 {
        var limit = rlimit()
        guard getrlimit(resourceNoFile, &limit) == 0 else { return 0 }
        return UInt64(limit.rlim_cur)
    }

    #if canImport(Glibc)
    private static let resourceNoFile = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resourceNoFile = RLIMIT_NOFILE
    #endif
}

/// The process's CPU time, memory and file descriptors from /proc/self, for the `process_*`
/// metrics every Prometheus client library exports; `nil` without /proc.
func sampleProcess() -> StatsReply.Process? {
    guard case .success(let stat) = FileSystem.readText("/proc/self/stat"),
          let nameEnd = stat.lastIndex(of: ")") else { return nil }
    // The fields after the command name (which may hold spaces and parentheses), from the
    // third, the state: utime and stime are the 14th and 15th, vsize and rss the 23rd and 24th.
    let fields = stat[stat.index(after: nameEnd)...].split(separator: " ")
    guard fields.count > 21, let userTicks = Double(fields[11]), let systemTicks = Double(fields[12]),
          let virtualBytes = UInt64(fields[20]), let residentPages = UInt64(fields[21]) else { return nil }
    let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    let pageSize = UInt64(sysconf(Int32(_SC_PAGESIZE)))
    let open = (try? FileSystem.list(directory: "/proc/self/fd").get())?.count ?? 0
    return StatsReply.Process(cpuSeconds: (userTicks + systemTicks) / ticksPerSecond, residentBytes: residentPages * pageSize,
                              virtualBytes: virtualBytes, openFileDescriptors: UInt64(open),
                              maxFileDescriptors: DescriptorBudget.currentLimit)
}
