/// RFC 7946 encodings of the domain values. Coordinates are written as (lon, lat) with 6
/// decimals (~0.1 m); the remoteness in km with 6 decimals (1 mm).
public enum GeoJSON {
    public static let mediaType = "application/geo+json"

    public static func writeFeature(_ o: Organisation, to w: inout JSONWriter) {
        w.beginObject()
        w.key("type"); w.string("Feature")
        w.key("id"); w.int(o.id ?? 0)
        w.key("geometry"); writePoint(o.location, to: &w)
        w.key("properties"); w.beginObject()
        w.key("name"); w.string(o.name)
        w.key("kind"); w.string(o.kind.rawValue)
        w.key("region_iso"); w.string(o.regionISO)
        w.key("region_code"); w.string(o.regionCode)
        w.key("region_name"); w.string(o.regionName)
        w.key("settlement"); w.string(o.settlement)
        w.key("address"); w.string(o.address)
        w.key("inn"); w.string(o.inn)
        w.key("ogrn"); w.string(o.ogrn)
        w.key("categories"); w.strings(o.categories)
        w.key("founded_year"); w.int(o.foundedYear)
        w.key("website"); w.string(o.website)
        w.key("email"); w.string(o.email)
        w.key("phone"); w.string(o.phone)
        w.key("description"); w.string(o.description)
        w.key("source"); w.string(o.source)
        w.key("distance_to_center_km"); w.number(o.distanceToCentreMetres.map { $0 / 1000 }, decimals: 6)
        if let metres = o.distanceToPointMetres { w.key("distance_km"); w.number(metres / 1000, decimals: 6) }
        w.key("created_at"); w.string(o.createdAt)
        w.key("updated_at"); w.string(o.updatedAt)
        if o.kind == .internshipSite {
            w.key("programmes"); w.beginArray()
            for p in o.programmes { writeProgramme(p, to: &w) }
            w.endArray()
        }
        w.endObject()
        w.endObject()
    }

    /// What `writeFeature` writes in `properties`, as JSON Schema types and formats: the
    /// collections' `/schema`, from which GDAL takes field types instead of guessing them from a
    /// first page (where a distance of 0 made the column Integer and cut 158.116359 to 158).
    /// Without `distance_km` (only with `near=`) and `programmes` (internship sites only).
    public static let propertyTypes: [(name: String, type: String, format: String?)] = [
        ("name", "string", nil), ("kind", "string", nil), ("region_iso", "string", nil), ("region_code", "string", nil),
        ("region_name", "string", nil), ("settlement", "string", nil), ("address", "string", nil), ("inn", "string", nil),
        ("ogrn", "string", nil), ("categories", "array", nil), ("founded_year", "integer", nil), ("website", "string", "uri"),
        ("email", "string", "email"), ("phone", "string", nil), ("description", "string", nil), ("source", "string", nil),
        ("distance_to_center_km", "number", nil), ("created_at", "string", "date-time"), ("updated_at", "string", "date-time"),
    ]

    /// Without the id, this is the canonical form the import compares stored programmes by.
    public static func writeProgramme(_ p: Programme, includingID: Bool = true, to w: inout JSONWriter) {
        w.beginObject()
        if includingID { w.key("id"); w.int(p.id ?? 0) }
        writeProgrammeFields(p, to: &w)
        w.endObject()
    }

    /// A programme's members without braces (programme listings add their site's).
    public static func writeProgrammeFields(_ p: Programme, to w: inout JSONWriter) {
        w.key("title"); w.string(p.title)
        w.key("topics"); w.strings(p.topics)
        w.key("length_days"); w.int(p.lengthDays)
        w.key("starts_on"); w.string(p.startsOn)
        w.key("ends_on"); w.string(p.endsOn)
        w.key("capacity"); w.int(p.capacity)
        w.key("selection_status"); w.string(p.selectionStatus.rawValue)
        w.key("description"); w.string(p.description)
    }

    public static func writeFeature(_ r: Region, to w: inout JSONWriter) {
        w.beginObject()
        w.key("type"); w.string("Feature")
        w.key("id"); w.string(r.code)
        w.key("geometry")
        if let boundary = r.boundary { writeMultiPolygon(boundary, to: &w) } else { w.null() }
        w.key("properties"); w.beginObject()
        w.key("code"); w.string(r.code)
        w.key("iso"); w.string(r.iso)
        w.key("okato"); w.string(r.okato)
        w.key("name"); w.string(r.nameRU)
        w.key("name_en"); w.string(r.nameEN)
        w.key("federal_district"); w.string(r.federalDistrictRU)
        w.key("centre_name"); w.string(r.centreNameRU)
        w.key("centre_name_en"); w.string(r.centreNameEN)
        w.key("centre_lat"); w.number(r.centre.latitude)
        w.key("centre_lon"); w.number(r.centre.longitude)
        w.key("status"); w.string(r.status)
        w.endObject()
        w.endObject()
    }

    /// A ring (`Geodesic.circleParts`) as a Feature: a Polygon, or a MultiPolygon of its two
    /// sides where it crosses the antimeridian.
    public static func writeRing(_ parts: [[Coordinate]], properties: (inout JSONWriter) -> Void, to w: inout JSONWriter) {
        w.beginObject()
        w.key("type"); w.string("Feature")
        w.key("geometry"); w.beginObject()
        w.key("type"); w.string(parts.count == 1 ? "Polygon" : "MultiPolygon")
        w.key("coordinates"); w.beginArray()
        for part in parts {
            if parts.count > 1 { w.beginArray() }
            w.beginArray()
            for c in part { writePosition(c, to: &w) }
            w.endArray()
            if parts.count > 1 { w.endArray() }
        }
        w.endArray()
        w.endObject()
        w.key("properties"); w.beginObject(); properties(&w); w.endObject()
        w.endObject()
    }

    public static func writePoint(_ c: Coordinate, to w: inout JSONWriter) {
        w.beginObject()
        w.key("type"); w.string("Point")
        w.key("coordinates"); writePosition(c, to: &w)
        w.endObject()
    }

    public static func writeMultiPolygon(_ m: MultiPolygon, to w: inout JSONWriter) {
        w.beginObject()
        w.key("type"); w.string("MultiPolygon")
        w.key("coordinates"); w.beginArray()
        for polygon in m.polygons {
            w.beginArray()
            for ring in polygon {
                w.beginArray()
                for c in ring { writePosition(c, to: &w) }
                w.endArray()
            }
            w.endArray()
        }
        w.endArray()
        w.endObject()
    }

    static func writePosition(_ c: Coordinate, to w: inout JSONWriter) {
        w.beginArray(); w.number(c.longitude); w.number(c.latitude); w.endArray()
    }

    /// Parses a GeoJSON (Multi)Polygon geometry object into a `MultiPolygon`.
    public static func multiPolygon(from geometry: [String: Any]) -> MultiPolygon? {
        func ring(_ any: Any) -> [Coordinate]? {
            guard let positions = any as? [[Double]] else {
                guard let raw = any as? [[Any]] else { return nil }
                return raw.compactMap { p in
                    guard p.count >= 2, let lon = (p[0] as? NSNumber)?.doubleValue, let lat = (p[1] as? NSNumber)?.doubleValue else { return nil }
                    return Coordinate(trustedLatitude: lat, longitude: lon)
                }
            }
            return positions.compactMap { $0.count >= 2 ? Coordinate(trustedLatitude: $0[1], longitude: $0[0]) : nil }
        }
        func polygon(_ any: Any) -> [[Coordinate]]? { (any as? [Any])?.compactMap(ring) }
        switch geometry["type"] as? String {
        case "Polygon":
            guard let rings = polygon(geometry["coordinates"] as Any) else { return nil }
            return MultiPolygon(polygons: [rings])
        case "MultiPolygon":
            guard let items = geometry["coordinates"] as? [Any] else { return nil }
            let polygons: [[[Coordinate]]] = items.compactMap { polygon($0) }
            return MultiPolygon(polygons: polygons)
        default: return nil
        }
    }
}

/// The CSV form of organisations: the benchmark's columns first, then CivicMap's. An exported
/// file imports back unchanged (in any dialect: the import detects it).
public enum OrganisationCSV {
    public static let table = CSVTable([
        .init("id", "ID"), .init("name", "Название"), .init("kind", "Вид"), .init("region_iso", "Код региона ISO"),
        .init("settlement", "Населённый пункт"), .init("address", "Адрес"), .init("inn", "ИНН", identifier: true), .init("ogrn", "ОГРН", identifier: true),
        .init("categories", "Направления"), .init("founded_year", "Год основания"), .init("website", "Сайт"),
        .init("lat", "Широта", decimal: true), .init("lon", "Долгота", decimal: true), .init("region_code", "Код региона", identifier: true),
        .init("region_name", "Регион"), .init("email", "Эл. почта"), .init("phone", "Телефон", identifier: true),
        .init("description", "Описание"), .init("source", "Источник"),
        .init("distance_to_center_km", "Расстояние до центра региона, км", decimal: true),
        // The stored version a row was copied from: an import refuses to undo later changes with it.
        .init("updated_at", "Изменено", identifier: true),
    ])
    /// Added when a query measures from a point (`near`, matching).
    public static let distanceColumn = CSVTable.Column("distance_km", "Расстояние, км", decimal: true)

    /// `russian`: kinds as spreadsheets write them (with Russian headers), not as codes.
    public static func row(_ o: Organisation, russian: Bool = false) -> [String] {
        [
            o.id.map(String.init) ?? "", o.name, russian ? o.kind.russianName : o.kind.rawValue, o.regionISO ?? "", o.settlement ?? "", o.address ?? "",
            o.inn ?? "", o.ogrn ?? "", o.categories.joined(separator: ";"), o.foundedYear.map(String.init) ?? "",
            o.website ?? "", CSV.fixed(o.location.latitude), CSV.fixed(o.location.longitude), o.regionCode,
            o.regionName ?? "", o.email ?? "", o.phone ?? "", o.description ?? "", o.source ?? "",
            o.distanceToCentreMetres.map { CSV.fixed($0 / 1000) } ?? "", o.updatedAt ?? "",
        ]
    }
}

import Foundation
