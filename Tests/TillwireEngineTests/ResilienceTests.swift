import Foundation
import Testing
import TillwireEngine

@Suite struct CircuitBreakerTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let policy = CircuitBreakerPolicy(failureRateThreshold: 0.5, windowSize: 10, minimumCalls: 4, openDuration: .seconds(30), halfOpenProbes: 2)

    @Test func opensAtTheFailureRateOnceTheWindowHoldsTheMinimumCalls() {
        var breaker = CircuitBreaker(policy: policy)
        for _ in 0..<3 { _ = breaker.decide(now: t0); breaker.record(.failure, now: t0) }
        #expect(breaker.state == .closed, "three calls are fewer than the minimum")
        _ = breaker.decide(now: t0)
        breaker.record(.failure, now: t0)
        #expect(breaker.state == .open(until: t0 + 30))
        #expect(breaker.decide(now: t0 + 29) == .reject(until: t0 + 30))
    }

    @Test func otherClientErrorsDoNotCount() {
        var breaker = CircuitBreaker(policy: policy)
        for _ in 0..<20 { breaker.record(.ignored, now: t0) }
        breaker.record(.failure, now: t0)
        breaker.record(.success, now: t0)
        breaker.record(.success, now: t0)
        #expect(breaker.state == .closed && breaker.failureRate == nil, "only three counted calls")
        breaker.record(.success, now: t0)
        #expect(breaker.failureRate == 0.25)
    }

    @Test func successesBelowTheThresholdKeepItClosedAsTheWindowSlides() {
        var breaker = CircuitBreaker(policy: policy)
        for i in 0..<100 { breaker.record(i % 4 == 3 ? .failure : .success, now: t0) }
        #expect(breaker.state == .closed)
    }

    @Test func halfOpenLetsProbesThroughAndClosesWhenAllSucceed() {
        var breaker = CircuitBreaker(policy: policy)
        for _ in 0..<4 { breaker.record(.failure, now: t0) }
        #expect(breaker.decide(now: t0 + 30) == .allow)
        #expect(breaker.state == .halfOpen)
        #expect(breaker.decide(now: t0 + 30) == .allow)
        #expect(breaker.decide(now: t0 + 30) == .reject(until: t0 + 31), "only two probes at once")
        breaker.record(.success, now: t0 + 31)
        #expect(breaker.state == .halfOpen)
        breaker.record(.success, now: t0 + 31)
        #expect(breaker.state == .closed)
    }

    @Test func aFailedProbeOpensItAgain() {
        var breaker = CircuitBreaker(policy: policy)
        for _ in 0..<4 { breaker.record(.failure, now: t0) }
        _ = breaker.decide(now: t0 + 40)
        breaker.record(.failure, now: t0 + 41)
        #expect(breaker.state == .open(until: t0 + 71))
    }
}

@Suite struct TokenBucketTests {
    @Test func aBurstGoesAtOnceThenCallersAreSpacedAtTheRate() {
        let t0 = Date(timeIntervalSince1970: 0)
        var bucket = TokenBucket(RateLimit(perSecond: 2, burst: 3), now: t0)
        let waits = (0..<6).map { _ in bucket.reserve(now: t0) }
        #expect(waits == [.zero, .zero, .zero, .milliseconds(500), .seconds(1), .milliseconds(1_500)])
        #expect(bucket.reserve(now: t0 + 10) == .zero, "refilled, up to the burst")
    }
}

@Suite struct MaintenanceWindowTests {
    func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test func aWeeklyWindowCoversItsHoursOnItsDayInItsTimeZone() throws {
        let window = try MaintenanceWindow(parsing: "weekly sun 02:00-04:00")
        #expect(window.end(containing: date("2026-11-29T02:30:00Z")) == date("2026-11-29T04:00:00Z"))  // a Sunday
        #expect(window.end(containing: date("2026-11-29T04:00:00Z")) == nil, "the end is outside")
        #expect(window.end(containing: date("2026-11-28T02:30:00Z")) == nil, "a Saturday")
        let berlin = try MaintenanceWindow(parsing: "weekly sun 02:00-04:00 Europe/Berlin")
        #expect(berlin.end(containing: date("2026-11-29T01:30:00Z")) == date("2026-11-29T03:00:00Z"), "02:30 in Berlin in winter")
    }

    @Test func aWindowPastMidnightRunsIntoTheNextDay() throws {
        let window = try MaintenanceWindow(parsing: "weekly sat 23:00-01:00")
        #expect(window.end(containing: date("2026-11-29T00:30:00Z")) == date("2026-11-29T01:00:00Z"))
        #expect(window.end(containing: date("2026-11-28T23:30:00Z")) == date("2026-11-29T01:00:00Z"))
    }

    @Test func aOneOffWindowIsAnISOInterval() throws {
        let window = try MaintenanceWindow(parsing: "2026-12-01T02:00:00Z/2026-12-01T04:00:00Z")
        #expect(window.end(containing: date("2026-12-01T03:00:00Z")) == date("2026-12-01T04:00:00Z"))
        #expect(window.end(containing: date("2026-12-01T01:59:59Z")) == nil)
    }

    @Test func badWindowsAreRefusedWithTheReason() {
        for text in ["weekly funday 02:00-04:00", "weekly sun 2-4", "weekly sun 02:00-04:00 Mars/Base", "tomorrow",
                     "2026-12-01T04:00:00Z/2026-12-01T02:00:00Z", "weekly sun 25:00-26:00"] {
            #expect(throws: MaintenanceWindowError.self, "\(text)") { try MaintenanceWindow(parsing: text) }
        }
    }
}
