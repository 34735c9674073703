import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@testable import CivicMapHTTP

/// The per-request time limit, on a router of its own: a handler that sleeps stands in for a
/// query that runs too long. No wall-clock bound is asserted: the other suites, run in parallel,
/// can keep the two cooperative threads busy for many seconds, so the timer fires late there.
/// What must hold is that the answer is the 503 and that the handler itself is cancelled.
@Suite("Request time limit")
struct DeadlineTests {
    /// Set by the slow handler when its wait ends in cancellation rather than running out.
    static let slowHandlerWasCancelled = Mutex(false)

    static func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.middlewares.add(ProblemMiddleware())
        router.middlewares.add(DeadlineMiddleware(limit: .milliseconds(300)))
        router.get("/slow") { _, _ -> String in
            do {
                try await Task.sleep(for: .seconds(3600))
            } catch is CancellationError {
                slowHandlerWasCancelled.withLock { $0 = true }
                throw CancellationError()
            }
            return "too late"
        }
        router.get("/fast") { _, _ -> String in "in time" }
        return router
    }

    @Test func aSlowHandlerIsCutOffWithAProblem() async throws {
        let app = Application(router: Self.router())
        try await app.test(.router) { client in
            try await client.execute(uri: "/slow", method: .get) { response in
                try Server.expectProblem(response, status: .serviceUnavailable)
            }
            #expect(Self.slowHandlerWasCancelled.withLock { $0 })
        }
    }

    @Test func aHandlerWithinTheLimitAnswers() async throws {
        let app = Application(router: Self.router())
        try await app.test(.router) { client in
            try await client.execute(uri: "/fast", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "in time")
            }
        }
    }
}
