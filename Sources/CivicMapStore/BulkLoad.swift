import GRDB

/// Many new organisations go in faster with the table's secondary indexes and per-row insert
/// triggers set aside, then rebuilt once: an index built by sorting, and the triggers' work done
/// for all new rows in one statement each. Measured on 200,000 new rows (release build, SQL
/// profile): the INSERT took 16.1 s with them, 4.2 s without; rebuilding cost 5.3 s, 3.1 s of it
/// the R*Tree, which `PackedRTree` now builds in one pass. All of it runs inside the import's
/// transaction, so a failure or a kill leaves the schema and the data as they were.
enum BulkLoad {
    /// The insert triggers set aside, each replaced by `replayInsertTriggers` for the new rows.
    /// Update and delete triggers stay: the same statement also updates existing rows.
    static let insertTriggers = [
        "ggi_organizations_geom",  // SpatiaLite's type and SRID check: the INSERT makes every point with MakePoint(…, 4326)
        "tmi_organizations_geom",  // SpatiaLite's "last insert" time stamp: set once
        "gii_organizations_geom",  // SpatiaLite's R*Tree entry
        "organizations_distance_on_insert",  // only for rows without a distance; the INSERT computes every one
        "organizations_categories_on_insert",
        "organizations_feature_stale_on_insert",
    ]

    /// What the inserting code knows of the rows it added to an empty table, so they need not
    /// be read back: their points for the R*Tree (0.5 -> 0.27 s for 200,000 rows) and the ids
    /// left without a Feature. (Their categories, queued from Swift one statement each, took
    /// 0.5-0.9 s longer than SQL's one pass through json_each.)
    struct KnownRows {
        var points: [PackedRTree.Point] = []
        var withoutFeature: [Int64] = []
    }

    /// Runs `insert` with the indexes and insert triggers of `organizations` dropped, then restores
    /// them from their own SQL texts (sqlite_master), so the schema ends exactly as it began.
    /// `newRows` is a query of the ids `insert` adds; `insert` returns what it knows of them when
    /// the table was empty, nil when they must be read back.
    static func run(_ db: Database, newRows: String, clock: inout PhaseClock, insert: () throws -> KnownRows?) throws {
        let names = insertTriggers.map { "'" + $0 + "'" }.joined(separator: ", ")
        let aside = try Row.fetchAll(db, sql: """
            SELECT type, name, sql FROM sqlite_master
            WHERE tbl_name = 'organizations' AND sql IS NOT NULL
              AND (type = 'index' OR (type = 'trigger' AND name IN (\(names))))
            ORDER BY type = 'trigger', name
            """).map { (type: $0[0] as String, name: $0[1] as String, sql: $0[2] as String) }
        for object in aside {
            try db.execute(sql: "DROP \(object.type == "index" ? "INDEX" : "TRIGGER") \(object.name.quotedDatabaseIdentifier)")
        }
        let known = try insert()
        clock.lap("insert")
        // The R*Tree anew from every row (the bulk path runs only when the new rows are at least
        // as many as the stored ones), packed rather than inserted one by one.
        let points = try known?.points ?? Row.fetchAll(db, sql: "SELECT id, lon, lat FROM organizations WHERE geom IS NOT NULL").map {
            PackedRTree.Point(id: $0[0], longitude: $0[1], latitude: $0[2])
        }
        try PackedRTree.rebuild(db, table: "idx_organizations_geom", points: points)
        clock.lap("rtree")
        try replayInsertTriggers(db, newRows: newRows, withoutFeature: known?.withoutFeature)
        for object in aside { try db.execute(sql: object.sql) }
        clock.lap("index")
    }

    /// What the other insert triggers would have done, for all new rows at once. The rows
    /// without a Feature are found by probing `features`, unless the caller knows them.
    private static func replayInsertTriggers(_ db: Database, newRows: String, withoutFeature: [Int64]?) throws {
        try db.execute(sql: """
            INSERT OR IGNORE INTO organization_categories (category, organization_id)
                SELECT c.value, o.id FROM organizations o, json_each(o.categories) c WHERE o.id IN (\(newRows));
            UPDATE geometry_columns_time SET last_insert = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                WHERE lower(f_table_name) = 'organizations' AND lower(f_geometry_column) = 'geom';
            """)
        if let withoutFeature {
            var stale = try RowWriter(db, sql: "INSERT OR IGNORE INTO stale_features (id) VALUES (?)")
            for id in withoutFeature {
                stale.bind(id)
                try stale.step()
            }
        } else {
            try db.execute(sql: "INSERT OR IGNORE INTO stale_features (id) SELECT id FROM (\(newRows)) WHERE id NOT IN (SELECT id FROM features)")
        }
    }
}
