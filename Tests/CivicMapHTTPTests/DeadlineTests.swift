import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CivicMapHTTP

/// The per-request time limit, on a router of its own: a handler that sleeps stands in for a
/// query that runs too long.
@Suite("Request time limit")
struct DeadlineTests {
    static func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.middlewares.add(ProblemMiddleware())
        router.middlewares.add(DeadlineMiddleware(limit: .milliseconds(300)))
        router.get("/slow") { _, _ -> String in
            try await Task.sleep(for: .seconds(20))
            return "too late"
        }
        router.get("/fast") { _, _ -> String in "in time" }
        return router
    }

    @Test func aSlowHandlerIsCutOffWithAProblem() async throws {
        let app = Application(router: Self.router())
        try await app.test(.router) { client in
            let start = ContinuousClock.now
            try await client.execute(uri: "/slow", method: .get) { response in
                try Server.expectProblem(response, status: .serviceUnavailable)
            }
            #expect(ContinuousClock.now - start < .seconds(10))
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
