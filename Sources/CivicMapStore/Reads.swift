import GRDB
import Synchronization

/// Every async read of the store goes through `read`: it counts the reads in flight, so a short
/// one can run on the calling thread whenever a pooled reader is sure to be free.
///
/// GRDB's async read hops three times: to the pool's waiting queue, to the reader's queue and
/// back to the caller's executor. For W4 (one Feature by id, ~50 µs of SQLite) those thread
/// switches were the largest cost (perf: `finish_task_switch` 16%, futex waits 7% of the
/// server's CPU). A synchronous read from the cooperative pool must never wait for a reader: an
/// async read gives its reader back only once its task resumes on a cooperative thread, so sync
/// reads blocking those threads would deadlock (`ReadsTests` hangs without this gate). It cannot
/// wait while fewer reads than readers are in flight: each holds at most one, and gives it back
/// before the read returns and the count drops. Long reads (reports, export chunks) keep the
/// async path, so they never hold one of the few cooperative threads.
final class Reads: Sendable {
    private let writer: any DatabaseWriter
    private let pool: DatabasePool?
    private let readers: Int
    private let inFlight = Atomic<Int>(0)
    private let inPlace = Atomic<Int>(0)

    init(writer: any DatabaseWriter) {
        self.writer = writer
        pool = writer as? DatabasePool
        readers = pool?.configuration.maximumReaderCount ?? 0
    }

    /// `quick`: the read is short and bounded (one Feature, one page), so it may run here.
    func read<T: Sendable>(quick: Bool = false, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let count = inFlight.add(1, ordering: .relaxed).newValue
        defer { inFlight.subtract(1, ordering: .relaxed) }
        if quick, count <= readers, let pool {
            inPlace.add(1, ordering: .relaxed)
            return try Self.readHere(pool, body)
        }
        return try await writer.read(body)
    }

    /// How many reads ran on the calling thread.
    var readsInPlace: Int { inPlace.load(ordering: .relaxed) }

    /// GRDB's synchronous read (from async code the compiler picks the async overload).
    private static func readHere<T>(_ pool: DatabasePool, _ body: (Database) throws -> T) throws -> T {
        try pool.read(body)
    }
}
