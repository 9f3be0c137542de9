public import Hummingbird
public import Prometheus
import Synchronization

/// Counts requests and their durations by method, route and status (bounded label sets: the
/// route is the matched template, never a raw path).
public final class RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware, Sendable {
    private let registry: PrometheusCollectorRegistry
    private let counters = Mutex<[String: Counter]>([:])
    private let histograms = Mutex<[String: DurationHistogram]>([:])
    private static var buckets: [Duration] {
        [.microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
         .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1)]
    }

    static var requests: MetricNameDescriptor {
        MetricNameDescriptor(namespace: "sandi", subsystem: "http", metricName: "requests", unitName: "total", helpText: "HTTP requests by method, route and status.")
    }
    static var duration: MetricNameDescriptor {
        MetricNameDescriptor(namespace: "sandi", subsystem: "http", metricName: "request_duration", unitName: "seconds", helpText: "HTTP request durations.")
    }

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var status = 500
        defer {
            let route = context.endpointPath ?? "unmatched"
            let key = "\(request.method.rawValue) \(route) \(status)"
            let counter = counters.withLock { map in
                if let c = map[key] { return c }
                let c = registry.makeCounter(descriptor: Self.requests,
                                             labels: [("method", request.method.rawValue), ("route", route), ("status", String(status))])
                map[key] = c
                return c
            }
            counter.increment()
            let histogramKey = "\(request.method.rawValue) \(route)"
            let histogram = histograms.withLock { map in
                if let h = map[histogramKey] { return h }
                let h = registry.makeDurationHistogram(descriptor: Self.duration,
                                                       labels: [("method", request.method.rawValue), ("route", route)], buckets: Self.buckets)
                map[histogramKey] = h
                return h
            }
            histogram.record(ContinuousClock.now - start)
        }
        do {
            let response = try await next(request, context)
            status = response.status.code
            return response
        } catch let error as any HTTPResponseError {
            status = error.status.code
            throw error
        } catch let error as APIProblem {
            status = error.status.code
            throw error
        }
    }
}
