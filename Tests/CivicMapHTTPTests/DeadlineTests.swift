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
        router.middlewares.add(DeadlineMiddleware(limit: .milliseconds(300), unlimitedPost: EditingController.cannotStopHalfway))
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
        // An import or a revert once started is not cut off: it would answer 503 for a change it then commits.
        for path in [EditingController.importPath, EditingController.revertPath] {
            router.post(RouterPath(path)) { _, _ -> String in
                try await Task.sleep(for: .seconds(1))
                return "written"
            }
        }
        return router
    }

    @Test(arguments: [EditingController.importPath, "/audit/12/revert"]) func anImportOrARevertIsNotCutOff(path: String) async throws {
        let app = Application(router: Self.router())
        try await app.test(.router) { client in
            try await client.execute(uri: path, method: .post) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "written")
            }
        }
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

/// The shared clock behind the time limit: waits end at their deadline or when cancelled, and
/// nothing stays behind once requests are over (a timer per request once did, for 30 s each).
@Suite("Deadline clock", .timeLimit(.minutes(1)))
struct DeadlineWatchTests {
    @Test func cancelledWaitsEndAtOnceAndLeaveNothing() async {
        let watch = DeadlineWatch()
        await withTaskGroup(of: Void.self) { requests in
            for _ in 0..<500 {
                requests.addTask {
                    await withTaskGroup(of: Void.self) { request in
                        request.addTask { await watch.wait(until: .now + .seconds(3600)) }
                        request.cancelAll()
                    }
                }
            }
        }
        #expect(watch.waiting == 0)
    }

    @Test func aWaitEndsNoEarlierThanItsDeadline() async {
        let watch = DeadlineWatch()
        let start = ContinuousClock.now
        async let first: Void = watch.wait(until: start + .milliseconds(200))
        async let second: Void = watch.wait(until: start + .milliseconds(100))
        _ = await (first, second)
        #expect(ContinuousClock.now - start >= .milliseconds(200))
        #expect(watch.waiting == 0)
    }
}
