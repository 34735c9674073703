import CivicMapCore
import GRDB
import GRDBSQLite

/// Per-connection set-up: SpatiaLite as a loadable extension (one SQLite in the process, no
/// per-connection cache to leak) and CivicMap's SQL functions.
enum SpatiaLite {
    static func prepare(_ db: Database) throws {
        try loadExtension(db)
        db.add(function: geodesicDistance)
    }

    private static func loadExtension(_ db: Database) throws {
        guard let connection = db.sqliteConnection else { throw CivicMapError.notReady("database connection is closed") }
        sqlite3_enable_load_extension(connection, 1)
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_load_extension(connection, "mod_spatialite", "sqlite3_modspatialite_init", &message)
        // Keep SQL's load_extension() forbidden: only this code may load extensions.
        sqlite3_enable_load_extension(connection, 0)
        guard rc == SQLITE_OK else {
            let reason = message.map { String(cString: $0) } ?? "error \(rc)"
            sqlite3_free(message)
            throw CivicMapError.notReady("cannot load SpatiaLite (mod_spatialite): \(reason); install libsqlite3-mod-spatialite")
        }
    }

    /// `geodesic_distance_m(lat1, lon1, lat2, lon2)`: metres on WGS84 by PROJ (Karney). The
    /// schema's triggers call it, so remoteness stays current whoever writes through CivicMap.
    static let geodesicDistance = DatabaseFunction("geodesic_distance_m", argumentCount: 4, pure: true) { values in
        let numbers = values.compactMap { Double.fromDatabaseValue($0) }
        guard numbers.count == 4 else { return nil }
        return Geodesic.wgs84.distance(
            from: Coordinate(trustedLatitude: numbers[0], longitude: numbers[1]),
            to: Coordinate(trustedLatitude: numbers[2], longitude: numbers[3]))
    }

    /// SpatiaLite signals many failures by returning 0 or NULL instead of an SQL error.
    static func expectOne(_ db: Database, _ sql: String) throws {
        let result = try Int.fetchOne(db, sql: sql)
        guard result == 1 else { throw CivicMapError.notReady("SpatiaLite call failed (returned \(result.map(String.init) ?? "NULL")): \(sql)") }
    }
}
