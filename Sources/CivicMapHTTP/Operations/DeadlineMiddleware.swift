import CivicMapCore
import Hummingbird
import Synchronization

/// A time limit per request: a handler that has not produced its response head within `limit`
/// is cancelled and the client gets a 503 problem. Cancelling the task interrupts the SQLite
/// statement of an async read (GRDB's async accesses are cancellable); a short read on the
/// request's own thread (one Feature, one page) runs to its end. Streamed bodies (exports)
/// are not limited: they have their response head at once and send at the client's pace.
///
/// POSTs to paths `unlimitedPost` accepts are not limited: a handler that cannot stop halfway
/// once it writes (an import would answer 503 for a change it then commits) and whose body may
/// take long to arrive. The connection's idle timeout still ends an upload that stalls.
struct DeadlineMiddleware<Context: RequestContext>: RouterMiddleware {
    let limit: Duration
    let unlimitedPost: @Sendable (String) -> Bool
    private let watch = DeadlineWatch()

    init(limit: Duration, unlimitedPost: @escaping @Sendable (String) -> Bool = { _ in false }) {
        self.limit = limit
        self.unlimitedPost = unlimitedPost
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.method == .post && unlimitedPost(request.uri.path) { return try await next(request, context) }
        let deadline = ContinuousClock.now + limit
        return try await withoutActuallyEscaping(next) { next in
            // The group awaits both children before it returns, so `next` never outlives this call.
            let handler = UncheckedSendable(next)
            return try await withThrowingTaskGroup(of: Response?.self) { group in
                group.addTask { try await handler.value(request, context) }
                group.addTask {
                    await watch.wait(until: deadline)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let response = first else {
                    context.logger.warning("request exceeded its time limit", metadata: ["limit": "\(limit)"])
                    throw Problem(status: .serviceUnavailable, type: "timeout", title: "Request took too long",
                                  detail: "the answer took longer than \(limit); narrow the request (bbox, filters, limit) or use /export")
                }
                return response
            }
        }
    }
}

/// One clock for the time limits of all requests in flight. A `Task.sleep` per request left a
/// dispatch timer behind for the whole limit even when its request had long finished (a
/// cancelled sleep resumes at once, but its timer cannot be withdrawn): at 7,000 req/s and a
/// 30 s limit, about 200,000 pending timers, whose heap the server kept re-sorting (idle at
/// 27–130% CPU for minutes after a load) and whose memory took the peak RSS past 200 MB.
/// Here a waiter is a continuation in a table, removed when its request ends; one ticking task,
/// running only while there are waiters, resumes those whose deadline has passed.
final class DeadlineWatch: Sendable {
    /// How late a limit may fire; requests are limited to seconds, not milliseconds.
    static let tick = Duration.milliseconds(50)

    /// A waiter is entered before its continuation exists, so a cancellation or a deadline that
    /// comes first is remembered rather than lost.
    private enum Waiter {
        case entered(ContinuousClock.Instant)
        case waiting(ContinuousClock.Instant, CheckedContinuation<Void, Never>)
        case cancelled, expired
    }
    private struct State {
        var nextID = 0
        var waiters: [Int: Waiter] = [:]
        var ticking = false
    }
    private let state = Mutex(State())

    /// Waiters not yet resumed or withdrawn (none once every request has ended).
    var waiting: Int { state.withLock { $0.waiters.count } }

    /// Returns once `deadline` has passed, or as soon as the calling task is cancelled.
    func wait(until deadline: ContinuousClock.Instant) async {
        let id = state.withLock { s in
            s.nextID += 1
            s.waiters[s.nextID] = .entered(deadline)
            return s.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let (resumeNow, startTicking) = state.withLock { s -> (Bool, Bool) in
                    guard case .entered = s.waiters[id] else {
                        s.waiters[id] = nil  // cancelled or expired already
                        return (true, false)
                    }
                    s.waiters[id] = .waiting(deadline, continuation)
                    defer { s.ticking = true }
                    return (false, !s.ticking)
                }
                if resumeNow { continuation.resume() }
                if startTicking { Task { await self.tickWhileWaiting() } }
            }
        } onCancel: {
            let continuation = state.withLock { s -> CheckedContinuation<Void, Never>? in
                switch s.waiters[id] {
                case .waiting(_, let continuation)?:
                    s.waiters[id] = nil
                    return continuation
                case .entered?: s.waiters[id] = .cancelled
                default: break
                }
                return nil
            }
            continuation?.resume()
        }
    }

    private func tickWhileWaiting() async {
        while true {
            try? await Task.sleep(for: Self.tick)
            let now = ContinuousClock.now
            let (due, idle) = state.withLock { s in
                var due: [CheckedContinuation<Void, Never>] = []
                for (id, waiter) in s.waiters {
                    switch waiter {
                    case .waiting(let deadline, let continuation) where deadline <= now:
                        s.waiters[id] = nil
                        due.append(continuation)
                    case .entered(let deadline) where deadline <= now: s.waiters[id] = .expired
                    default: break
                    }
                }
                if s.waiters.isEmpty { s.ticking = false }
                return (due, s.waiters.isEmpty)
            }
            for continuation in due { continuation.resume() }
            if idle { return }
        }
    }
}

/// For a value the compiler cannot prove Sendable but which, here, never crosses tasks unsafely.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
