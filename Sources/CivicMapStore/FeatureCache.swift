import CivicMapCore
import GRDB
import GRDBSQLite

/// The precomputed GeoJSON Features in `features`, stored in space order (`FeatureKey`).
/// Triggers delete an organisation's Feature and queue its id in `stale_features` whenever what
/// it shows changes; `refresh` encodes the queued ones with the same encoder the API uses on
/// the fly, so a precomputed answer equals a computed one byte for byte. (A bulk import queues
/// updated rows without deleting their Features; it overwrites or refreshes them before its
/// transaction ends, so no reader sees an outdated one.)
enum FeatureCache {
    /// Bump when `GeoJSON.writeFeature` changes what it writes: every stored Feature is redone.
    static let format = 1

    /// True when every stored Feature is in the current format and none is stale.
    static func isCurrent(_ db: Database) throws -> Bool {
        try Int.fetchOne(db, sql: "SELECT format FROM feature_cache") == format
            && !(try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM stale_features)") ?? false)
    }

    /// Encodes every stale organisation; returns how many. Call inside the writing transaction.
    @discardableResult
    static func refresh(_ db: Database) throws -> Int {
        if try Int.fetchOne(db, sql: "SELECT format FROM feature_cache") != format {
            try db.execute(sql: """
                DELETE FROM features;
                INSERT OR IGNORE INTO stale_features (id) SELECT id FROM organizations;
                UPDATE feature_cache SET format = \(format);
                """)
        }
        var done = 0
        while true {
            let ids = try Int64.fetchAll(db, sql: "SELECT id FROM stale_features ORDER BY id LIMIT \(refreshBatch)")
            guard !ids.isEmpty else { return done }
            let list = OrganisationSQL.jsonArray(ids.map(String.init), numbers: true)
            try store(Parallel.map(try organisations(db, ids: list), Entry.init), in: db)
            // Ids whose organisation is gone leave the queue too.
            try db.execute(sql: "DELETE FROM stale_features WHERE id IN (SELECT value FROM json_each(?))", arguments: [list])
            done += ids.count
        }
    }

    /// Stale organisations encoded per batch: on every core, then stored in key order, so the
    /// writes to `features` follow its pages. One at a time and in id order, refreshing
    /// 200,000 Features took 7.7 s.
    static let refreshBatch = 20_000

    /// One row of `features`: an organisation's Feature, encoded.
    struct Entry: Sendable {
        var key: Int64, id: Int64, kind: String, json: [UInt8]

        init(_ o: Organisation) {
            var w = JSONWriter(capacity: 1024)
            GeoJSON.writeFeature(o, to: &w)
            (key, id, kind, json) = (FeatureCache.key(o), o.id ?? 0, o.kind.rawValue, w.bytes)
        }
    }

    /// Written in key order, so the table's pages are filled one after another (new Features
    /// of a first import land at its end). Staged through a temporary table keyed by Hilbert
    /// key (inserted in random order, then copied), this took 5.3 s of a 200,000-row import.
    static func store(_ entries: [Entry], in db: Database) throws {
        // A Feature still stored (a bulk import queues updated rows without deleting theirs) is
        // overwritten in place; under another key (the organisation moved), its key moves too.
        var insert = try RowWriter(db, sql: """
            INSERT INTO features (key, id, kind, json) VALUES (?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, json = excluded.json
            ON CONFLICT (id) DO UPDATE SET key = excluded.key, kind = excluded.kind, json = excluded.json
            """)
        for f in entries.sorted(by: { $0.key < $1.key }) {
            insert.bind(f.key); insert.bind(f.id); insert.bind(f.kind); insert.bind(blob: f.json)
            try insert.step()
        }
    }

    static func key(_ o: Organisation) -> Int64 {
        FeatureKey.of(id: o.id ?? 0, longitude: o.location.longitude, latitude: o.location.latitude)
    }

    /// The Features of these organisations, in the order of `ids` (missing ones left out). With
    /// their `FeatureKey`s SQLite reads the table in its own order, each page once; without, it
    /// looks the keys up by id first (the same order, one index lookup more per Feature).
    static func features(_ db: Database, ids: [Int64], keys: [Int64]? = nil) throws -> [EncodedFeature] {
        guard !ids.isEmpty else { return [] }  // a page past the end
        let found: [EncodedFeature]
        if let keys {
            found = try stored(db, sql: "SELECT id, kind, json FROM features WHERE key IN (SELECT value FROM json_each(?))",
                               arguments: [OrganisationSQL.jsonArray(keys.sorted().map(String.init), numbers: true)])
        } else if ids.count == 1 {
            found = try stored(db, sql: "SELECT id, kind, json FROM features WHERE id = ?", arguments: [ids[0]])
        } else {
            found = try stored(
                db, sql: "SELECT id, kind, json FROM features WHERE key IN (SELECT key FROM features WHERE id IN (SELECT value FROM json_each(?)))",
                arguments: [OrganisationSQL.jsonArray(ids.map(String.init), numbers: true)])
        }
        if found.count == ids.count && zip(found, ids).allSatisfy({ $0.id == $1 }) { return found }
        var byID = Dictionary(found.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        // Stale ones (another writer has not refreshed yet) are encoded from their rows, so a
        // read is never wrong, only slower.
        let missing = ids.filter { byID[$0] == nil }
        if !missing.isEmpty {
            for o in try organisations(db, ids: OrganisationSQL.jsonArray(missing.map(String.init), numbers: true)) {
                byID[o.id ?? 0] = EncodedFeature(o)
            }
        }
        return ids.compactMap { byID[$0] }
    }

    /// `id, kind, json` rows as Features. The hottest loop of every read: a cached statement,
    /// and each blob copied once straight from SQLite.
    private static func stored(_ db: Database, sql: String, arguments: StatementArguments) throws -> [EncodedFeature] {
        var features: [EncodedFeature] = []
        let statement = try db.cachedStatement(sql: sql)
        let cursor = try Row.fetchCursor(statement, arguments: arguments)
        let sqlite = statement.sqliteStatement
        while let row = try cursor.next() {
            let length = Int(sqlite3_column_bytes(sqlite, 2))
            let bytes = [UInt8](UnsafeRawBufferPointer(start: sqlite3_column_blob(sqlite, 2), count: length))
            features.append(EncodedFeature(id: row[0], kind: OrganisationKind(rawValue: row[1]), bytes: bytes))
        }
        return features
    }

    /// The organisations of a JSON array of ids, with their programmes.
    private static func organisations(_ db: Database, ids: String) throws -> [Organisation] {
        var rows = try OrganisationSQL.fetch(db, sql: OrganisationSQL.select + " WHERE o.id IN (SELECT value FROM json_each(?))", arguments: [ids])
        try OrganisationSQL.attachProgrammes(db, to: &rows)
        return rows
    }
}

import Foundation
