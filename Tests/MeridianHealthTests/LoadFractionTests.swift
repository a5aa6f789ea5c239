import MeridianConfig
import MeridianHealth
import Testing

/// A load feed's arithmetic: what a signal asks to shed, and how fast the share moves.
struct LoadFractionTests {
    @Test(arguments: [(0.0, 0.0), (4.0, 0.0), (7.0, 0.25), (10.0, 0.5), (16.0, 1.0), (40.0, 1.0), (-3.0, 0.0)])
    func aSignalMapsItsValueBetweenLowAndHigh(value: Double, fraction: Double) {
        #expect(LoadMonitor.fraction(of: value, for: LoadFeed.Signal(metric: "vllm:num_requests_waiting", low: 4, high: 16)) == fraction)
    }

    @Test func theShareMovesByAtMostMaxStepPerRead() {
        var share = 0.0
        var path: [Double] = []
        for _ in 0..<6 {
            share = LoadMonitor.step(from: share, towards: 0.9, by: 0.2)
            path.append((share * 100).rounded() / 100)
        }
        #expect(path == [0.2, 0.4, 0.6, 0.8, 0.9, 0.9])
        // Down again as slowly, and a step larger than the gap lands on the target.
        #expect(LoadMonitor.step(from: 0.9, towards: 0, by: 0.2) == 0.7)
        #expect(LoadMonitor.step(from: 0.3, towards: 0.35, by: 0.2) == 0.35)
        #expect(LoadMonitor.step(from: 0, towards: 1, by: 1) == 1)
    }
}
