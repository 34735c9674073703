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

    /// What a person names a stored region by, and where its centre is (no outline: cheap to read).
    static func identities(_ db: Database) throws -> [String: RegionChange.Identity] {
        let rows = try Row.fetchAll(db, sql: "SELECT code, iso, name_ru, name_en, centre_name_ru, centre_lat, centre_lon FROM regions")
        return Dictionary(uniqueKeysWithValues: rows.map { row in
            (row[0], RegionChange.Identity(iso: row[1], nameRU: row[2], nameEN: row[3], centreNameRU: row[4],
                                           centre: Coordinate(trustedLatitude: row[5], longitude: row[6])))
        })
    }

    /// How `region` differs from what was stored, or nil; with the organisations a moved centre moved.
    static func change(from stored: RegionChange.Identity, to region: Region, in db: Database) throws -> RegionChange? {
        let now = RegionChange.Identity(iso: region.iso, nameRU: region.nameRU, nameEN: region.nameEN,
                                        centreNameRU: region.centreNameRU, centre: region.centre)
        guard now != stored else { return nil }
        let moved = now.centre != stored.centre
        let organisations = moved ? try Int.fetchOne(db, sql: "SELECT count(*) FROM organizations WHERE region_code = ?", arguments: [region.code]) ?? 0 : 0
        return RegionChange(code: region.code, before: stored, after: now, recomputedDistances: organisations)
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

/// A stored region that `init` changed: a name, or a centre (which moves every distance in it).
public struct RegionChange: Sendable, Equatable {
    public struct Identity: Sendable, Equatable {
        public var iso: String?
        public var nameRU: String
        public var nameEN: String
        public var centreNameRU: String
        public var centre: Coordinate
    }
    public var code: String
    public var before: Identity
    public var after: Identity
    /// Organisations whose distance to the centre was computed again.
    public var recomputedDistances: Int

    /// For the operator: `59 Пермский край: centre Пермь (58.01046, 56.25017) → Кунгур (57.4286, 56.9439), 1 234 distances recomputed`.
    public var description: String {
        func place(_ i: Identity) -> String { "\(i.centreNameRU) (\(i.centre.latitude), \(i.centre.longitude))" }
        var parts: [String] = []
        if before.iso != after.iso { parts.append("ISO \(before.iso ?? "none") → \(after.iso ?? "none")") }
        if before.nameRU != after.nameRU || before.nameEN != after.nameEN {
            parts.append("name \(before.nameRU) / \(before.nameEN) → \(after.nameRU) / \(after.nameEN)")
        }
        if before.centreNameRU != after.centreNameRU || before.centre != after.centre {
            parts.append("centre \(place(before)) → \(place(after))")
        }
        if recomputedDistances > 0 { parts.append("distances of \(recomputedDistances) organisations recomputed") }
        return "region \(code) \(after.nameRU): " + parts.joined(separator: "; ")
    }

    /// The audit entry's summary: each changed region, before and after.
    static func json(_ changes: [RegionChange]) -> [UInt8] {
        func write(_ i: Identity, _ w: inout JSONWriter) {
            w.beginObject()
            w.key("iso"); w.string(i.iso)
            w.key("name_ru"); w.string(i.nameRU)
            w.key("name_en"); w.string(i.nameEN)
            w.key("centre_name_ru"); w.string(i.centreNameRU)
            w.key("centre"); w.beginArray(); w.number(i.centre.longitude); w.number(i.centre.latitude); w.endArray()
            w.endObject()
        }
        var w = JSONWriter()
        w.beginObject()
        w.key("regions"); w.beginArray()
        for change in changes {
            w.beginObject()
            w.key("code"); w.string(change.code)
            w.key("before"); write(change.before, &w)
            w.key("after"); write(change.after, &w)
            w.key("recomputed_distances"); w.int(change.recomputedDistances)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }
}
