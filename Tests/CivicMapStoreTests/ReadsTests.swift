import Foundation
import GRDB
import Testing

@testable import CivicMapStore

/// Short reads run on the calling thread only while a pooled reader is sure to be free: with
/// more concurrent reads than readers, quick and long ones mixed, all must finish with the right
/// answers (a quick read that waited for a reader on a cooperative thread could starve the rest).
@Suite("Reads", .timeLimit(.minutes(1)))
struct ReadsTests {
    @Test func manyMoreReadsThanReadersAllFinish() async throws {
        let directory = try TestDirectory.make()
        let database = try CivicMapDatabase(path: directory.appendingPathComponent("test.sqlite").path, readers: 2)
        let reads = database.reads
        let sum = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<400 {
                group.addTask {
                    try await reads.read(quick: i % 3 != 0) { db in
                        // The long ones hold their reader a while, so the quick ones find none free.
                        if i % 3 == 0 { _ = try Int.fetchOne(db, sql: "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 20000) SELECT count(*) FROM n") }
                        return try Int.fetchOne(db, sql: "SELECT ?", arguments: [i])!
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(sum == 399 * 400 / 2)
        #expect(reads.readsInPlace > 0)
        #expect(reads.readsInPlace <= 400 - 134)
    }
}
