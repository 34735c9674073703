import CivicMapCore
import GRDB
import GRDBSQLite

/// The precomputed GeoJSON Features in `organizations.feature_json`. Triggers mark a row stale
/// (NULL) when anything its Feature shows changes; `refresh` encodes the stale rows with the same
/// encoder the API uses on the fly, so a precomputed answer equals a computed one byte for byte.
enum FeatureCache {
    /// Bump when `GeoJSON.writeFeature` changes what it writes: every stored Feature is redone.
    static let format = 1

    /// True when every stored Feature is in the current format and none is stale.
    static func isCurrent(_ db: Database) throws -> Bool {
        try Int.fetchOne(db, sql: "SELECT format FROM feature_cache") == format
            && !(try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM organizations WHERE feature_json IS NULL)") ?? false)
    }

    /// Encodes every stale row; returns how many. Call inside the writing transaction.
    @discardableResult
    static func refresh(_ db: Database) throws -> Int {
        if try Int.fetchOne(db, sql: "SELECT format FROM feature_cache") != format {
            try db.execute(sql: "UPDATE organizations SET feature_json = NULL")
            try db.execute(sql: "UPDATE feature_cache SET format = ?", arguments: [format])
        }
        let update = try db.makeStatement(sql: "UPDATE organizations SET feature_json = ? WHERE id = ?")
        var done = 0
        while true {
            var stale = try OrganisationSQL.fetch(
                db, sql: OrganisationSQL.select + " WHERE o.feature_json IS NULL ORDER BY o.id LIMIT 5000", arguments: [])
            guard !stale.isEmpty else { return done }
            try OrganisationSQL.attachProgrammes(db, to: &stale)
            var w = JSONWriter(capacity: 2048)
            for o in stale {
                w.reset()
                GeoJSON.writeFeature(o, to: &w)
                try update.execute(arguments: [Data(w.bytes), o.id])
            }
            done += stale.count
        }
    }

    /// The Features of these organisations, in the order of `ids` (missing ones left out).
    static func features(_ db: Database, ids: [Int64]) throws -> [EncodedFeature] {
        guard !ids.isEmpty else { return [] }  // a page past the end
        let features = try Self.features(
            db, sql: "SELECT id, kind, feature_json FROM organizations WHERE id IN (SELECT value FROM json_each(?))",
            arguments: [OrganisationSQL.jsonArray(ids.map(String.init), numbers: true)])
        // SQLite walks json_each in its order, so the rows come back in the order asked.
        if features.count == ids.count && zip(features, ids).allSatisfy({ $0.id == $1 }) { return features }
        let byID = Dictionary(features.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return ids.compactMap { byID[$0] }
    }

    /// `id, kind, feature_json` rows as Features; stale ones (another writer has not refreshed
    /// yet) are encoded from their rows, so a read is never wrong, only slower. The hottest loop
    /// of every read: a cached statement, and each blob copied once straight from SQLite.
    static func features(_ db: Database, sql: String, arguments: StatementArguments) throws -> [EncodedFeature] {
        var features: [EncodedFeature] = []
        var stale: [Int] = []
        let statement = try db.cachedStatement(sql: sql)
        let cursor = try Row.fetchCursor(statement, arguments: arguments)
        let sqlite = statement.sqliteStatement
        while let row = try cursor.next() {
            let length = Int(sqlite3_column_bytes(sqlite, 2))
            let bytes = length == 0 ? [] : [UInt8](UnsafeRawBufferPointer(start: sqlite3_column_blob(sqlite, 2), count: length))
            if bytes.isEmpty { stale.append(features.count) }
            features.append(EncodedFeature(id: row[0], kind: OrganisationKind(rawValue: row[1]), bytes: bytes))
        }
        guard !stale.isEmpty else { return features }
        var rows = try OrganisationSQL.fetch(
            db, sql: OrganisationSQL.select + " WHERE o.id IN (SELECT value FROM json_each(?))",
            arguments: [OrganisationSQL.jsonArray(stale.map { String(features[$0].id) }, numbers: true)])
        try OrganisationSQL.attachProgrammes(db, to: &rows)
        let encoded = Dictionary(uniqueKeysWithValues: rows.map { ($0.id ?? 0, EncodedFeature($0)) })
        for i in stale { if let f = encoded[features[i].id] { features[i] = f } }
        return features
    }
}

import Foundation
