import Foundation

/// Reads the bundled reference data: `regions.csv` (89 subjects with centres) joined by
/// ISO code with `regions_ru.geojson` (outlines of the 83 subjects that have one).
public enum RegionReader {
    public static func read(csvPath: String, outlinesPath: String?) throws(CivicMapError) -> [Region] {
        guard let csvData = FileManager.default.contents(atPath: csvPath) else {
            throw .notReady("cannot read regions file '\(csvPath)'")
        }
        let rows = try CSV.parse([UInt8](csvData))
        guard let header = rows.first?.fields else { throw .notReady("'\(csvPath)' is empty") }
        let outlines = try outlinesPath.map { path throws(CivicMapError) in try readOutlines(path) } ?? [:]
        return try rows.dropFirst().map { row throws(CivicMapError) in
            let f = Dictionary(zip(header, row.fields), uniquingKeysWith: { a, _ in a })
            func value(_ name: String) -> String? { f[name].flatMap { $0.isEmpty ? nil : $0 } }
            guard let code = value("code"), let lat = value("center_lat").flatMap(Double.init),
                let lon = value("center_lon").flatMap(Double.init), let centre = try? Coordinate(latitude: lat, longitude: lon)
            else { throw .notReady("\(csvPath) line \(row.line): code or centre coordinates missing") }
            let iso = value("iso_3166_2")
            return Region(
                code: code, iso: iso, okato: value("okato_code"), nameRU: value("name_ru") ?? code,
                nameEN: value("name_en") ?? code, federalDistrictRU: value("federal_district_ru") ?? "",
                centreNameRU: value("center_name_ru") ?? "", centreNameEN: value("center_name_en") ?? "",
                centre: centre, status: value("status") ?? "undisputed", boundary: iso.flatMap { outlines[$0] })
        }
    }

    static func readOutlines(_ path: String) throws(CivicMapError) -> [String: MultiPolygon] {
        guard let data = FileManager.default.contents(atPath: path),
            let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let features = root["features"] as? [[String: Any]]
        else { throw .notReady("cannot read region outlines '\(path)'") }
        var outlines: [String: MultiPolygon] = [:]
        for feature in features {
            guard let iso = (feature["properties"] as? [String: Any])?["iso_3166_2"] as? String,
                let geometry = feature["geometry"] as? [String: Any], let shape = GeoJSON.multiPolygon(from: geometry)
            else { continue }
            outlines[iso] = shape
        }
        return outlines
    }
}
