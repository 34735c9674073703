import CivicMapCore
import Hummingbird

/// A time limit per request: a handler that has not produced its response head within `limit`
/// is cancelled and the client gets a 503 problem. Cancelling the task interrupts the SQLite
/// statement it waits on (GRDB's async accesses are cancellable). Streamed bodies (exports)
/// are not limited: they have their response head at once and send at the client's pace.
struct DeadlineMiddleware<Context: RequestContext>: RouterMiddleware {
    let limit: Duration

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await withoutActuallyEscaping(next) { next in
            // The group awaits both children before it returns, so `next` never outlives this call.
            let handler = UncheckedSendable(next)
            return try await withThrowingTaskGroup(of: Response?.self) { group in
                group.addTask { try await handler.value(request, context) }
                group.addTask {
                    try await Task.sleep(for: limit)
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

/// For a value the compiler cannot prove Sendable but which, here, never crosses tasks unsafely.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
