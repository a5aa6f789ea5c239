import CMeridianIO
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
