import GRDB

/// Many new or changed organisations go in faster with the table's secondary indexes and
/// per-row triggers set aside, then rebuilt once: an index built by sorting, and the triggers'
/// work done for all written rows in one statement each. Measured on 200,000 new rows (release
/// build, SQL profile): the INSERT took 16.1 s with them, 4.2 s without; rebuilding cost 5.3 s,
/// 3.1 s of it the R*Tree, which `PackedRTree` now builds in one pass. Re-importing 200,000
/// stored rows with a new address each took 50 s row by row (the R*Tree entry, every index and
/// the Feature deleted and written again per row), 16 s this way. All of it runs inside the
/// import's transaction, so a failure or a kill leaves the schema and the data as they were.
enum BulkLoad {
    /// The per-row triggers set aside, each replaced by `replayTriggers` for all written rows.
    static let triggersSetAside = [
        // On insert.
        "ggi_organizations_geom",  // SpatiaLite's type and SRID check: every point is made with MakePoint(…, 4326)
        "tmi_organizations_geom",  // SpatiaLite's "last insert" time stamp: set once
        "gii_organizations_geom",  // SpatiaLite's R*Tree entry: the R*Tree is rebuilt
        "organizations_distance_on_insert",  // only for rows without a distance; the writer computes every one
        "organizations_categories_on_insert",
        "organizations_feature_stale_on_insert",
        // On update (an import's upsert of stored rows).
        "ggu_organizations_geom",
        "tmu_organizations_geom",
        "giu_organizations_geom",
        "organizations_distance_on_move",  // the upsert sets the distance
        "organizations_categories_on_update",
        "organizations_feature_stale",
        "organizations_kind_changed",
    ]

    /// What the inserting code knows of the rows it added to an empty table, so they need not
    /// be read back: their points for the R*Tree (0.5 -> 0.27 s for 200,000 rows) and the ids
    /// left without a Feature. (Their categories, queued from Swift one statement each, took
    /// 0.5-0.9 s longer than SQL's one pass through json_each.)
    struct KnownRows {
        var points: [PackedRTree.Point] = []
        var withoutFeature: [Int64] = []
    }

    /// Queries of the ids of the stored rows an insert updates: all of them, and those whose
    /// categories change.
    struct UpdatedRows {
        var all: String
        var withNewCategories: String
    }

    /// Runs `insert` with the indexes and per-row triggers of `organizations` dropped, then restores
    /// them from their own SQL texts (sqlite_master), so the schema ends exactly as it began.
    /// `newRows` is a query of the ids `insert` adds, `updated` of those it updates; `insert`
    /// returns what it knows of the new ones when the table was empty, nil when they must be read back.
    static func run(
        _ db: Database, newRows: String, updated: UpdatedRows? = nil, clock: inout PhaseClock, insert: () throws -> KnownRows?
    ) throws {
        let names = triggersSetAside.map { "'" + $0 + "'" }.joined(separator: ", ")
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
        // The R*Tree anew from every row (the bulk path runs only when the written rows are at
        // least an eighth of the table), packed rather than inserted one by one.
        let points = try known?.points ?? Row.fetchAll(db, sql: "SELECT id, lon, lat FROM organizations WHERE geom IS NOT NULL").map {
            PackedRTree.Point(id: $0[0], longitude: $0[1], latitude: $0[2])
        }
        try PackedRTree.rebuild(db, table: "idx_organizations_geom", points: points)
        clock.lap("rtree")
        try replayTriggers(db, newRows: newRows, updated: updated, withoutFeature: known?.withoutFeature)
        clock.lap("triggers")
        for object in aside { try db.execute(sql: object.sql) }
        clock.lap("index")
    }

    /// What the other triggers would have done, for all written rows at once. The new rows
    /// without a Feature are found by probing `features`, unless the caller knows them. An
    /// updated row's Feature is queued but not deleted: later in the same transaction the
    /// import (`storeUpdatedFeatures`) or `FeatureCache.refresh` overwrites it in place, which
    /// left out 200,000 deletes from `features` and its id index. (Deleting a site's programmes
    /// on a change of kind deletes its Feature, through the programmes' own trigger.)
    private static func replayTriggers(_ db: Database, newRows: String, updated: UpdatedRows?, withoutFeature: [Int64]?) throws {
        if let updated {
            try db.execute(sql: """
                DELETE FROM organization_categories WHERE organization_id IN (\(updated.withNewCategories));
                INSERT OR IGNORE INTO stale_features (id) \(updated.all);
                DELETE FROM programmes WHERE organization_id IN (\(updated.all))
                    AND organization_id IN (SELECT id FROM organizations WHERE kind IS NOT 'internship_site');
                UPDATE geometry_columns_time SET last_update = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                    WHERE lower(f_table_name) = 'organizations' AND lower(f_geometry_column) = 'geom' AND EXISTS (\(updated.all));
                """)
        }
        let written = updated.map { "\(newRows) UNION ALL \($0.withNewCategories)" } ?? newRows
        try db.execute(sql: """
            INSERT OR IGNORE INTO organization_categories (category, organization_id)
                SELECT c.value, o.id FROM organizations o, json_each(o.categories) c WHERE o.id IN (\(written));
            UPDATE geometry_columns_time SET last_insert = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                WHERE lower(f_table_name) = 'organizations' AND lower(f_geometry_column) = 'geom' AND EXISTS (\(newRows));
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
