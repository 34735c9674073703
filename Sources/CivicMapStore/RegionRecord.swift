import CivicMapCore
import Foundation
import GRDB

/// The `regions` table ↔ `Region`. Outlines travel as GeoJSON through SpatiaLite's
/// GeomFromGeoJSON/AsGeoJSON, so the stored geometry is a real MULTIPOLYGON that GIS tools read.
enum RegionRecord {
    /// Bumped by triggers on every change of regions, whichever process writes.
    static func version(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT version FROM regions_version")) ?? 0
    }

    static func fetchAll(_ db: Database) throws -> [Region] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT code, iso, okato, name_ru, name_en, federal_district_ru, centre_name_ru, centre_name_en,
                   centre_lat, centre_lon, status, AsGeoJSON(boundary, 6)
            FROM regions ORDER BY code
            """)
        return rows.map { row in
            let boundary = (row[11] as String?)
                .flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                .flatMap(GeoJSON.multiPolygon(from:))
            return Region(
                code: row[0], iso: row[1], okato: row[2], nameRU: row[3], nameEN: row[4], federalDistrictRU: row[5],
                centreNameRU: row[6], centreNameEN: row[7],
                centre: Coordinate(trustedLatitude: row[8], longitude: row[9]), status: row[10], boundary: boundary)
        }
    }

    static func upsert(_ r: Region, in db: Database) throws {
        var boundaryJSON: String?
        if let boundary = r.boundary {
            var w = JSONWriter()
            GeoJSON.writeMultiPolygon(boundary, to: &w)
            boundaryJSON = String(decoding: w.bytes, as: UTF8.self)
        }
        try db.execute(
            sql: """
                INSERT INTO regions (code, iso, okato, name_ru, name_en, federal_district_ru, centre_name_ru, centre_name_en,
                                     centre_lat, centre_lon, status, centre, boundary)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, MakePoint(?, ?, 4326),
                        CastToMultiPolygon(SetSRID(GeomFromGeoJSON(?), 4326)))
                ON CONFLICT (code) DO UPDATE SET
                    iso = excluded.iso, okato = excluded.okato, name_ru = excluded.name_ru, name_en = excluded.name_en,
                    federal_district_ru = excluded.federal_district_ru, centre_name_ru = excluded.centre_name_ru,
                    centre_name_en = excluded.centre_name_en, centre_lat = excluded.centre_lat,
                    centre_lon = excluded.centre_lon, status = excluded.status, centre = excluded.centre,
                    boundary = excluded.boundary
                """,
            arguments: [
                r.code, r.iso, r.okato, r.nameRU, r.nameEN, r.federalDistrictRU, r.centreNameRU, r.centreNameEN,
                r.centre.latitude, r.centre.longitude, r.status, r.centre.longitude, r.centre.latitude, boundaryJSON,
            ])
        if boundaryJSON != nil {
            let stored = try Bool.fetchOne(db, sql: "SELECT boundary IS NOT NULL FROM regions WHERE code = ?", arguments: [r.code])
            guard stored == true else { throw CivicMapError.notReady("SpatiaLite could not read the outline of region \(r.code)") }
        }
    }
}
