import Foundation
import Synchronization
import Testing

@testable import CivicMapCore

@Suite struct ParallelTests {
    @Test func mapKeepsTheOrderOfItsInput() {
        let input = Array(0..<10_000)
        #expect(Parallel.map(input, minimumShare: 100) { $0 * 3 } == input.map { $0 * 3 })
        #expect(Parallel.map([Int](), { $0 }).isEmpty)
    }

    /// `start` runs on another thread while this one goes on; `value` gives its result or its error.
    @Test(.timeLimit(.minutes(1)))  // work run on this thread would wait for the gate forever
    func startRunsAlongsideAndGivesItsResultOrError() throws {
        let gate = DispatchSemaphore(value: 0)
        let pending = Parallel.start { () -> Int in
            gate.wait()  // finishes only once this thread has gone on past start
            return 42
        }
        gate.signal()
        #expect(try pending.value() == 42)
        #expect(try pending.value() == 42)  // asked again, the same
        struct Failure: Error {}
        #expect(throws: Failure.self) { try Parallel.start { () throws -> Int in throw Failure() }.value() }
    }

    /// Every product reaches the consumer once, in order, however the two threads interleave.
    @Test(arguments: [0, 1, 2, 7, 100]) func pipelineHandsOverEveryStepInOrder(count: Int) throws {
        var consumed: [Int] = []
        try Parallel.pipeline(count, ahead: 2) { step in
            if step % 3 == 0 { Thread.sleep(forTimeInterval: 0.001) }  // a producer sometimes slower
            return step * step
        } consume: { product in
            if product % 2 == 1 { Thread.sleep(forTimeInterval: 0.001) }  // a consumer sometimes slower
            consumed.append(product)
        }
        #expect(consumed == (0..<count).map { $0 * $0 })
    }

    /// The producer stays at most `ahead` steps in front of the consumer.
    @Test func pipelineProducesAtMostAheadStepsInFront() throws {
        let produced = Atomic<Int>(0)
        var mostInFront = 0, consumed = 0
        try Parallel.pipeline(50, ahead: 3) { step in
            produced.add(1, ordering: .sequentiallyConsistent)
            return step
        } consume: { _ in
            Thread.sleep(forTimeInterval: 0.002)  // let the producer run as far as it may
            mostInFront = max(mostInFront, produced.load(ordering: .sequentiallyConsistent) - consumed)
            consumed += 1
        }
        #expect(mostInFront >= 2 && mostInFront <= 3 + 1)  // the slot freed for the step being consumed
        #expect(consumed == 50)
    }

    /// A consumer's error stops production and comes back to the caller, once the producer has
    /// stopped: nothing runs after the call returns.
    @Test func pipelineStopsWhenTheConsumerThrows() {
        struct Refused: Error {}
        let produced = Atomic<Int>(0)
        #expect(throws: Refused.self) {
            try Parallel.pipeline(1000, ahead: 2) { step in
                produced.add(1, ordering: .sequentiallyConsistent)
                return step
            } consume: { step in
                if step == 5 { throw Refused() }
            }
        }
        let atReturn = produced.load(ordering: .sequentiallyConsistent)
        #expect(atReturn <= 5 + 1 + 2 + 1)
        Thread.sleep(forTimeInterval: 0.05)
        #expect(produced.load(ordering: .sequentiallyConsistent) == atReturn)
    }
}
