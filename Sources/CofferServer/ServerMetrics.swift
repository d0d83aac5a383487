import CofferCrypto
import CofferStore
import Foundation
import Hummingbird
import Metrics
import Prometheus

/// The server's Prometheus metrics, made through swift-metrics with an explicit factory (no
/// process-wide bootstrap, so tests can hold several servers). Labels are bounded: the policy
/// operation name (or the route pattern) and the status class — never a key name, identity or
/// client address.
public final class ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    let store: KeyStore
    /// The certificate being served (its days to expiry are a gauge); nil over plain HTTP.
    let certificates: CertificateReloader?
    let cacheHits: Metrics.Gauge
    let cacheMisses: Metrics.Gauge
    let certificateDays: Metrics.Gauge
    let integrityFailures: Metrics.Gauge
    /// Metric handles by label set, made once: creating a swift-metrics handle looks it up in
    /// the registry under a lock, which is not free on every request.
    private let handles = Lock()
    nonisolated(unsafe) private var counters: [String: Metrics.Counter] = [:]
    nonisolated(unsafe) private var timers: [String: Metrics.Timer] = [:]

    public init(store: KeyStore, certificates: CertificateReloader?) {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        ]
        self.factory = factory
        self.store = store
        self.certificates = certificates
        cacheHits = Metrics.Gauge(label: "coffer_key_cache_hits", factory: factory)
        cacheMisses = Metrics.Gauge(label: "coffer_key_cache_misses", factory: factory)
        certificateDays = Metrics.Gauge(label: "coffer_tls_certificate_days_to_expiry", factory: factory)
        integrityFailures = Metrics.Gauge(label: "coffer_store_integrity_failures", factory: factory)
    }

    func record(operation: String, status: Int, duration: Duration) {
        let statusClass = "\(status / 100)xx"
        let (counter, timer) = handles.withLock { () -> (Metrics.Counter, Metrics.Timer) in
            let counterKey = operation + " " + statusClass
            let counter = counters[counterKey] ?? {
                let made = Metrics.Counter(label: "coffer_requests_total", dimensions: [("operation", operation), ("status", statusClass)], factory: factory)
                counters[counterKey] = made
                return made
            }()
            let timer = timers[operation] ?? {
                let made = Metrics.Timer(label: "coffer_request_duration_seconds", dimensions: [("operation", operation)], factory: factory)
                timers[operation] = made
                return made
            }()
            return (counter, timer)
        }
        counter.increment()
        timer.recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// The text exposition, with the gauges read now.
    func exposition() -> [UInt8] {
        let statistics = store.cacheStatistics
        cacheHits.record(Double(statistics.hits))
        cacheMisses.record(Double(statistics.misses))
        integrityFailures.record(Double(store.integrityFailures))
        // The pair actually served (after any reload), not whatever the file holds right now.
        if let days = certificates?.daysToExpiry { certificateDays.record(days) }
        return registry.emitToBuffer()
    }
}

/// Times every request and counts it by operation and status class.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = CofferRequestContext
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            let mapped = APIError.from(error)
            metrics.record(operation: Self.operation(context, request), status: Int(mapped.status.code), duration: ContinuousClock.now - start)
            throw error
        }
        metrics.record(operation: Self.operation(context, request), status: Int(response.status.code), duration: ContinuousClock.now - start)
        return response
    }

    /// The policy operation when the route set one, else the route pattern (bounded: it is one
    /// of the declared routes, or "unmatched").
    static func operation(_ context: Context, _ request: Request) -> String {
        context.audit.snapshot.operation ?? context.endpointPath ?? "unmatched"
    }
}
