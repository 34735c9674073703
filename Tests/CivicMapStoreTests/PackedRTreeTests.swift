import Foundation
import GRDB
import Testing

@testable import CivicMapStore

/// A packed R*Tree must be one SQLite accepts as its own: the same entries inserting would make
/// (float32 rounding included), `rtreecheck()` clean, the same answers to box queries, and still
/// clean after ordinary inserts and deletes split and condense its full nodes.
@Suite("Packed R*Tree")
struct PackedRTreeTests {
    /// Points over the whole globe, both signs of both axes, some sharing a place.
    static func points(_ count: Int, seed: UInt64 = 7) -> [PackedRTree.Point] {
        var rng = SplitMix(seed: seed)
        return (0..<count).map { i in
            let lon = i % 10 == 9 ? 37.6173 : rng.next(in: -180...180)
            let lat = i % 10 == 9 ? 55.7558 : rng.next(in: -90...90)
            return PackedRTree.Point(id: Int64(i * 3 + 1), longitude: lon, latitude: lat)
        }
    }

    /// Two trees over the same points: `packed` built by PackedRTree, `inserted` by SQLite.
    static func twoTrees(_ points: [PackedRTree.Point], pageSize: Int = 4096) throws -> DatabaseQueue {
        var config = Configuration()
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA page_size = \(pageSize)") }
        let queue = try DatabaseQueue(configuration: config)
        try queue.write { db in
            try db.execute(sql: """
                CREATE VIRTUAL TABLE packed USING rtree(pkid, xmin, xmax, ymin, ymax);
                CREATE VIRTUAL TABLE inserted USING rtree(pkid, xmin, xmax, ymin, ymax);
                """)
            let insert = try db.makeStatement(sql: "INSERT INTO inserted VALUES (?, ?, ?, ?, ?)")
            for p in points { try insert.execute(arguments: [p.id, p.longitude, p.longitude, p.latitude, p.latitude]) }
            try PackedRTree.rebuild(db, table: "packed", points: points)
        }
        return queue
    }

    static func entries(_ db: Database, _ table: String) throws -> [Row] {
        try Row.fetchAll(db, sql: "SELECT pkid, xmin, xmax, ymin, ymax FROM \(table) ORDER BY pkid")
    }

    /// SQLite's own consistency check of a tree: "ok" or what is wrong.
    static func check(_ db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT rtreecheck('packed')")
    }

    static func boxQuery(_ db: Database, _ table: String, _ box: (Double, Double, Double, Double)) throws -> [Int64] {
        try Int64.fetchAll(db, sql: "SELECT pkid FROM \(table) WHERE xmax >= ? AND xmin <= ? AND ymax >= ? AND ymin <= ? ORDER BY pkid",
                           arguments: [box.0, box.2, box.1, box.3])
    }

    /// What a test compares: SQLite's check of the packed tree, both trees' entries, and both
    /// trees' answers to the same boxes.
    struct Comparison {
        var check: String?
        var packed: [Row], inserted: [Row]
        var packedAnswers: [[Int64]], insertedAnswers: [[Int64]]
    }

    static func compare(_ db: Database, boxes: [(Double, Double, Double, Double)]) throws -> Comparison {
        Comparison(
            check: try check(db), packed: try entries(db, "packed"), inserted: try entries(db, "inserted"),
            packedAnswers: try boxes.map { try boxQuery(db, "packed", $0) }, insertedAnswers: try boxes.map { try boxQuery(db, "inserted", $0) })
    }

    static func randomBoxes(seed: UInt64) -> [(Double, Double, Double, Double)] {
        var rng = SplitMix(seed: seed)
        return (0..<40).map { _ in
            let west = rng.next(in: -180...170), south = rng.next(in: -90...80)
            return (west, south, west + rng.next(in: 0.001...60), south + rng.next(in: 0.001...30))
        }
    }

    @Test(arguments: [0, 1, 50, 51, 52, 2_601, 2_602, 20_000])
    func packedTreeEqualsTheInsertedOne(count: Int) throws {
        let queue = try Self.twoTrees(Self.points(count))
        let moscow = (37.6173, 55.7558, 37.6173, 55.7558)
        let c = try queue.read { db in try Self.compare(db, boxes: Self.randomBoxes(seed: UInt64(count)) + [moscow]) }
        #expect(c.check == "ok")
        #expect(c.packed.count == count)
        #expect(c.packed == c.inserted)
        #expect(c.packedAnswers == c.insertedAnswers)
        #expect(c.packedAnswers.last?.count == count / 10)
    }

    @Test func nodesTakeTheTreesOwnSize() throws {
        // 1,024-byte pages give 960-byte nodes: 39 cells, not 51.
        let queue = try Self.twoTrees(Self.points(5_000), pageSize: 1024)
        let sizes = try queue.read { db in try Row.fetchOne(db, sql: "SELECT min(length(data)), max(length(data)) FROM packed_node")! }
        #expect(sizes[0] as Int == 960 && sizes[1] as Int == 960)
        let c = try queue.read { db in try Self.compare(db, boxes: Self.randomBoxes(seed: 5)) }
        #expect(c.check == "ok")
        #expect(c.packed == c.inserted)
        #expect(c.packedAnswers == c.insertedAnswers)
    }

    @Test func editsAfterPackingKeepTheTreeSound() throws {
        let queue = try Self.twoTrees(Self.points(10_000))
        let c = try queue.write { db in
            for table in ["packed", "inserted"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE pkid % 7 = 0")
                let insert = try db.makeStatement(sql: "INSERT INTO \(table) VALUES (?, ?, ?, ?, ?)")
                for p in Self.points(3_000, seed: 99) { try insert.execute(arguments: [p.id + 1_000_000, p.longitude, p.longitude, p.latitude, p.latitude]) }
            }
            return try Self.compare(db, boxes: Self.randomBoxes(seed: 11))
        }
        #expect(c.check == "ok")
        #expect(c.packed.count > 10_000)
        #expect(c.packed == c.inserted)
        #expect(c.packedAnswers == c.insertedAnswers)
    }

    @Test func aFailedTransactionKeepsTheOldTree() throws {
        let queue = try Self.twoTrees(Self.points(500))
        let before = try queue.read { db in try Self.entries(db, "packed") }
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try queue.write { db in
                try PackedRTree.rebuild(db, table: "packed", points: Self.points(900, seed: 3))
                throw Abort()
            }
        }
        let (after, check) = try queue.read { db in (try Self.entries(db, "packed"), try Self.check(db)) }
        #expect(after == before)
        #expect(check == "ok")
    }

    @Test func roundingMatchesTheRTreesOwn() {
        // Values whose nearest float lies on the wrong side are moved outward, never inward.
        for d in [55.755826, -55.755826, 37.617300000000001, -179.99999999, 0.1, -0.1, 1e-10, 0] {
            #expect(Double(PackedRTree.down(d)) <= d)
            #expect(Double(PackedRTree.up(d)) >= d)
        }
    }
}

/// A small deterministic generator, so every run tests the same points.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func next(in range: ClosedRange<Double>) -> Double {
        range.lowerBound + Double(next() >> 11) / Double(1 << 53) * (range.upperBound - range.lowerBound)
    }
}
