import Foundation
import Synchronization
import Testing

@testable import CivicMapStore

@Suite struct VersionedCacheTests {
    final class Counter: Sendable { let builds = Mutex(0) }

    @Test func concurrentReadersWaitForOneBuildAndANewVersionRebuilds() async throws {
        let cache = VersionedCache<Int>()
        let counter = Counter()
        let build: @Sendable () -> Int = {
            counter.builds.withLock { $0 += 1 }
            Thread.sleep(forTimeInterval: 0.05)
            return 42
        }
                let values = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<16 { group.addTask { try cache.value(version: 1, build: build) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(values == Array(repeating: 42, count: 16))
        #expect(counter.builds.withLock { $0 } == 1)
        _ = try cache.value(version: 1, build: build)
        #expect(counter.builds.withLock { $0 } == 1)
        _ = try cache.value(version: 2, build: build)
        #expect(counter.builds.withLock { $0 } == 2)
    }
}
