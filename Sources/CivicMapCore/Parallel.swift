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
