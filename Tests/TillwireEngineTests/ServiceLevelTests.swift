import CoreMetrics
import Foundation
import Synchronization
import Testing
import TillwireEngine

/// The objectives are judged on the recordings their histograms get, over a rolling window.
@Suite struct ServiceLevelTests {
    final class Clock: Sendable {
        let time = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        func advance(_ seconds: TimeInterval) { time.withLock { $0 += seconds } }
    }

    func tracker(_ clock: Clock, window: Duration = .seconds(600)) -> (ServiceLevelTracker, ServiceLevelMetricsFactory) {
        let tracker = ServiceLevelTracker(objectives: ServiceLevelObjective.defaults, window: window, now: { clock.time.withLock { $0 } })
        return (tracker, ServiceLevelMetricsFactory(base: NOOPMetricsHandler.instance, tracker: tracker))
    }

    func reading(_ tracker: ServiceLevelTracker, _ name: String) throws -> ServiceLevelReading {
        try #require(tracker.readings().first { $0.objective.name == name })
    }

    @Test func aRecordingCountsTowardTheObjectiveOfItsMetricAndDimensionsAsPrometheusNamesThem() throws {
        let clock = Clock()
        let (tracker, factory) = tracker(clock)
        // Hummingbird names its timer with dots; Prometheus exports it with underscores.
        let availability = factory.makeTimer(label: "http.server.request.duration",
                                             dimensions: [("http.route", "/v1/availability"), ("http.request.method", "GET")])
        let other = factory.makeTimer(label: "http.server.request.duration", dimensions: [("http.route", "/v1/orders")])
        for milliseconds in [3, 8, 20, 49, 50, 51, 400] { availability.recordNanoseconds(Int64(milliseconds) * 1_000_000) }
        other.recordNanoseconds(5_000_000_000)
        let inquiry = try reading(tracker, "availability_inquiry")
        #expect(inquiry.good == 5 && inquiry.bad == 2, "50 ms is within the objective, 51 ms is not; other routes do not count")
        #expect(abs(inquiry.compliance - 5.0 / 7) < 1e-9)
        #expect(abs(inquiry.burnRate - (2.0 / 7) / 0.01) < 1e-9, "the bad share over the 1% allowed")
        #expect(!inquiry.met)
        let posting = try reading(tracker, "financial_posting")
        #expect(posting.good == 0 && posting.bad == 0 && posting.compliance == 1 && posting.met, "nothing recorded: met, no burn")
    }

    @Test func recordingsLeaveTheWindowAsItRolls() throws {
        let clock = Clock()
        let (tracker, factory) = tracker(clock, window: .seconds(600))
        let lag = factory.makeTimer(label: "tillwire_availability_publish_lag_seconds", dimensions: [("channel", "web")])
        lag.recordNanoseconds(9_000_000_000)
        clock.advance(300)
        lag.recordNanoseconds(1_000_000_000)
        lag.recordNanoseconds(2_000_000_000)
        var sale = try reading(tracker, "sale_to_channel")
        #expect(sale.good == 2 && sale.bad == 1)
        clock.advance(301)
        sale = try reading(tracker, "sale_to_channel")
        #expect(sale.good == 2 && sale.bad == 0, "the late publish of ten minutes ago has left the window")
        clock.advance(600)
        sale = try reading(tracker, "sale_to_channel")
        #expect(sale.good == 0 && sale.bad == 0, "an idle window")
        // A slot reused a window later starts from zero.
        lag.recordNanoseconds(6_000_000_000)
        sale = try reading(tracker, "sale_to_channel")
        #expect(sale.good == 0 && sale.bad == 1)
    }

    @Test func aTimerNoObjectiveWatchesIsTheBaseFactorysOwn() {
        let (_, factory) = tracker(Clock())
        #expect(factory.makeTimer(label: "tillwire_job_duration_seconds", dimensions: [("kind", "erp.journal_post")]) is NOOPMetricsHandler,
                "no wrapper around a timer that no objective watches")
        #expect(!(factory.makeTimer(label: "tillwire_refund_latency_seconds", dimensions: []) is NOOPMetricsHandler))
    }
}
