import GRDB

/// Builds an SQLite R*Tree of points in one pass, packed along the Hilbert curve (`FeatureKey`),
/// and writes it in SQLite's own format into the tree's shadow tables. SQLite has no bulk load
/// for its R*Tree: inserting 200,000 points one by one took 3.4–4.1 s of a bulk import (each
/// insert descends the tree, chooses a subtree and splits). GDAL loads GeoPackage R*Trees the
/// same way.
///
/// The format (ext/rtree/rtree.c, "Database Format of R-Tree Tables"): `%_node(nodeno, data)`
/// holds every node as a blob of the tree's node size (that of node 1, the root, which always
/// exists): a 2-byte depth (read from the root only), a 2-byte cell count, then cells of an
/// 8-byte id (a rowid in leaves, a child's node number above them) and the box as four 4-byte
/// floats (xmin, xmax, ymin, ymax), all big-endian. `%_rowid(rowid, nodeno)` names each entry's
/// leaf and `%_parent(nodeno, parentnode)` each node's parent. Coordinates are rounded outward
/// to float32 exactly as the R*Tree rounds what is inserted, so the entries are the ones
/// inserting would make; `PackedRTreeTests` compare both and run SQLite's `rtreecheck()`.
enum PackedRTree {
    struct Point {
        var id: Int64
        var longitude: Double
        var latitude: Double
    }

    /// Replaces everything in the two-dimensional R*Tree `table` with `points`. Run inside the
    /// writing transaction: on failure or rollback the old tree is back whole.
    static func rebuild(_ db: Database, table: String, points: [Point]) throws {
        let nodeSize = try Int.fetchOne(db, sql: "SELECT length(data) FROM \((table + "_node").quotedDatabaseIdentifier) WHERE nodeno = 1")
        guard let nodeSize, nodeSize >= 4 + 3 * cellSize else {
            throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "\(table) has no usable root node")
        }
        let tree = build(points, nodeSize: nodeSize)
        try db.execute(sql: """
            DELETE FROM \((table + "_node").quotedDatabaseIdentifier);
            DELETE FROM \((table + "_rowid").quotedDatabaseIdentifier);
            DELETE FROM \((table + "_parent").quotedDatabaseIdentifier);
            """)
        try insertPairs(db, sql: "INSERT INTO \((table + "_rowid").quotedDatabaseIdentifier) (rowid, nodeno) VALUES (?, ?)", tree.leafOf)
        try insertPairs(db, sql: "INSERT INTO \((table + "_parent").quotedDatabaseIdentifier) (nodeno, parentnode) VALUES (?, ?)", tree.parentOf)
        var insertNode = try RowWriter(db, sql: "INSERT INTO \((table + "_node").quotedDatabaseIdentifier) (nodeno, data) VALUES (?, ?)")
        for (number, data) in tree.nodes {
            insertNode.bind(number)
            insertNode.bind(blob: data)
            try insertNode.step()
        }
    }

    /// 8-byte id and four float32 coordinates.
    static let cellSize = 24
    /// rtree.c's RTREE_MAXCELLS: no node holds more, whatever its size.
    static let maximumCells = 51

    struct Tree {
        /// Node number and blob, the root (1) first.
        var nodes: [(Int64, [UInt8])] = []
        /// (entry id, leaf node), in id order.
        var leafOf: [(Int64, Int64)] = []
        /// (node, parent node), in node order.
        var parentOf: [(Int64, Int64)] = []
    }

    /// The packed tree: entries in Hilbert order, cut into leaves, leaves into nodes above them,
    /// level by level up to one root. Each level spreads its cells evenly over as few nodes as
    /// hold them, so no node but a lone root has fewer than the third SQLite keeps at least.
    static func build(_ points: [Point], nodeSize: Int) -> Tree {
        typealias Cell = (id: Int64, xmin: Float, xmax: Float, ymin: Float, ymax: Float)
        let capacity = min(maximumCells, (nodeSize - 4) / cellSize)
        var level: [Cell] = points
            .map { (key: FeatureKey.of(id: $0.id, longitude: $0.longitude, latitude: $0.latitude), point: $0) }
            .sorted { $0.key < $1.key }
            .map { ($0.point.id, down($0.point.longitude), up($0.point.longitude), down($0.point.latitude), up($0.point.latitude)) }
        var tree = Tree()
        var depth = 0
        var nextNode: Int64 = 2
        var levels: [[(number: Int64, cells: ArraySlice<Cell>)]] = []
        while true {
            let count = max(1, (level.count + capacity - 1) / capacity)
            if count == 1 {
                levels.append([(1, level[...])])
                break
            }
            var parents: [Cell] = []
            var groups: [(number: Int64, cells: ArraySlice<Cell>)] = []
            for n in 0..<count {
                let cells = level[level.count * n / count..<level.count * (n + 1) / count]
                groups.append((nextNode, cells))
                parents.append((nextNode, cells.map(\.xmin).min()!, cells.map(\.xmax).max()!,
                                cells.map(\.ymin).min()!, cells.map(\.ymax).max()!))
                nextNode += 1
            }
            levels.append(groups)
            level = parents
            depth += 1
        }
        for (height, groups) in levels.enumerated() {
            for group in groups {
                tree.nodes.append((group.number, node(group.cells, depth: group.number == 1 ? depth : 0, size: nodeSize)))
                for cell in group.cells {
                    if height == 0 { tree.leafOf.append((cell.id, group.number)) } else { tree.parentOf.append((cell.id, group.number)) }
                }
            }
        }
        tree.nodes.sort { $0.0 < $1.0 }
        tree.leafOf.sort { $0.0 < $1.0 }
        tree.parentOf.sort { $0.0 < $1.0 }
        return tree
    }

    private static func node(_ cells: ArraySlice<(id: Int64, xmin: Float, xmax: Float, ymin: Float, ymax: Float)>, depth: Int, size: Int) -> [UInt8] {
        var data = [UInt8](repeating: 0, count: size)
        var at = 0
        func put<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.bigEndian) { for b in $0 { data[at] = b; at += 1 } }
        }
        put(UInt16(depth))
        put(UInt16(cells.count))
        for c in cells {
            put(c.id)
            for v in [c.xmin, c.xmax, c.ymin, c.ymax] { put(v.bitPattern) }
        }
        return data
    }

    // rtree.c's rtreeValueDown and rtreeValueUp: the nearest float, moved outward by a relative
    // 2⁻²³ when it lies on the wrong side.
    static func down(_ d: Double) -> Float {
        let f = Float(d)
        return Double(f) > d ? Float(d * (d < 0 ? 1 + 1.0 / 8_388_608 : 1 - 1.0 / 8_388_608)) : f
    }

    static func up(_ d: Double) -> Float {
        let f = Float(d)
        return Double(f) < d ? Float(d * (d < 0 ? 1 - 1.0 / 8_388_608 : 1 + 1.0 / 8_388_608)) : f
    }

    private static func insertPairs(_ db: Database, sql: String, _ pairs: [(Int64, Int64)]) throws {
        var writer = try RowWriter(db, sql: sql)
        for (a, b) in pairs {
            writer.bind(a)
            writer.bind(b)
            try writer.step()
        }
    }
}
