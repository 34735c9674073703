import Foundation
import Synchronization

/// Work on independent items spread over every core, results in the items' order.
public enum Parallel {
    /// `transform` of each element; one contiguous share per core, so each worker's allocations
    /// stay in its own share. Small inputs (under `minimumShare` per core) run on this thread.
    public static func map<Element: Sendable, Result: Sendable>(
        _ elements: [Element], minimumShare: Int = 2000, _ transform: @Sendable (Element) -> Result
    ) -> [Result] {
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, elements.count / minimumShare))
        guard workers > 1 else { return elements.map(transform) }
        let share = (elements.count + workers - 1) / workers
        let parts = Mutex<[Int: [Result]]>([:])
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let part = elements[min(elements.count, worker * share)..<min(elements.count, (worker + 1) * share)].map(transform)
            parts.withLock { $0[worker] = part }
        }
        return parts.withLock { parts in (0..<workers).flatMap { parts[$0] ?? [] } }
    }
}

extension Parallel {
    /// `produce` for steps 0..<count on another thread, at most `ahead` steps ahead, each product
    /// handed in order to `consume` on this thread: CPU work overlaps a consumer that is bound to
    /// one thread (SQLite's writer). When `consume` throws, production stops, and the call
    /// returns only once the producer has.
    public static func pipeline<Product: Sendable>(
        _ count: Int, ahead: Int = 2, produce: @Sendable (Int) -> Product, consume: (Product) throws -> Void
    ) throws {
        let state = PipelineState<Product>(count: count, ahead: ahead)
        try withoutActuallyEscaping(produce) { produce in
            let producer = DispatchGroup()
            DispatchQueue.global().async(group: producer) {
                for step in 0..<count {
                    state.slots.wait()
                    if state.stopped.load(ordering: .acquiring) { return }
                    let product = produce(step)
                    state.products.withLock { $0[step] = product }
                    state.ready[step].signal()
                }
            }
            defer {
                state.stopped.store(true, ordering: .releasing)
                state.slots.signal()
                producer.wait()
            }
            for step in 0..<count {
                state.ready[step].wait()
                let product = state.products.withLock { $0.removeValue(forKey: step)! }
                state.slots.signal()
                try consume(product)
            }
        }
    }
}

extension Parallel {
    /// `work` started now on another thread; `value` waits for its result. CPU work overlaps
    /// what this thread does meanwhile (reading a file, SQLite rebuilding indexes).
    public static func start<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) -> Pending<Value> {
        Pending(work)
    }
}

/// The result of work running on another thread (`Parallel.start`).
public final class Pending<Value: Sendable>: @unchecked Sendable {
    // `done` is left once, after `result` is set; `value` reads it only after waiting.
    private let done = DispatchGroup()
    private var result: Result<Value, any Error>?

    fileprivate init(_ work: @escaping @Sendable () throws -> Value) {
        done.enter()
        DispatchQueue.global(qos: .userInitiated).async { [self] in  // its caller waits for it
            result = Result { try work() }
            done.leave()
        }
    }

    /// Waits for the work, then returns what it returned or throws what it threw.
    public func value() throws -> Value {
        done.wait()
        return try result!.get()
    }
}

private final class PipelineState<Product: Sendable>: Sendable {
    let products = Mutex<[Int: Product]>([:])
    let stopped = Atomic<Bool>(false)
    /// One per step: signalled when its product is stored.
    let ready: [DispatchSemaphore]
    /// Steps the producer may run ahead of the consumer.
    let slots: DispatchSemaphore

    init(count: Int, ahead: Int) {
        ready = (0..<count).map { _ in DispatchSemaphore(value: 0) }
        // Signalled rather than made with a value: libdispatch traps when a semaphore is freed
        // holding less than it was made with (as it does when the consumer stops early).
        slots = DispatchSemaphore(value: 0)
        for _ in 0..<max(1, ahead) { slots.signal() }
    }
}
