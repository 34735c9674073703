/// The region report and the programme listings as JSON and as CSV. The HTTP layer and the CLI
/// share these, so a file from the command line equals a download.
public enum RegionReportJSON {
    public static func write(_ r: RegionReport, generatedAt: String, to w: inout JSONWriter) {
        w.beginObject()
        w.key("region"); w.beginObject()
        w.key("code"); w.string(r.region.code)
        w.key("iso"); w.string(r.region.iso)
        w.key("name"); w.string(r.region.nameRU)
        w.key("name_en"); w.string(r.region.nameEN)
        w.key("centre_name"); w.string(r.region.centreNameRU)
        w.key("centre_name_en"); w.string(r.region.centreNameEN)
        w.key("centre"); w.beginObject()
        w.key("lon"); w.number(r.region.centre.longitude); w.key("lat"); w.number(r.region.centre.latitude)
        w.endObject()
        w.endObject()
        w.key("parameters"); w.beginObject()
        w.key("threshold_km"); w.number(r.query.thresholdKm, decimals: 3)
        w.key("coverage_radius_km"); w.number(r.query.coverageRadiusKm, decimals: 3)
        w.key("kinds"); w.strings(r.query.kinds.map(\.rawValue))
        w.key("top"); w.int(r.query.top)
        w.endObject()
        w.key("generated_at"); w.string(generatedAt)
        w.key("totals"); w.beginObject()
        writeCounts(organisations: r.organisations, remote: r.remote, to: &w)
        w.endObject()
        w.key("by_kind"); w.beginArray()
        for line in r.byKind {
            w.beginObject()
            w.key("kind"); w.string(line.kind.kind.rawValue)
            w.key("title_ru"); w.string(line.kind.titleRU)
            w.key("title_en"); w.string(line.kind.titleEN)
            writeCounts(organisations: line.organisations, remote: line.remote, to: &w)
            w.endObject()
        }
        w.endArray()
        let d = r.distances
        w.key("distances"); w.beginObject()
        w.key("bin_km"); w.number(d.binKm, decimals: 3)
        w.key("bins"); w.beginArray()
        for bin in d.bins {
            w.beginObject()
            w.key("from_km"); w.number(bin.fromKm, decimals: 3)
            w.key("to_km"); w.number(bin.toKm, decimals: 3)
            w.key("organizations"); w.int(bin.count)
            w.endObject()
        }
        w.endArray()
        w.key("median_km"); w.number(d.medianKm, decimals: 3)
        w.key("p90_km"); w.number(d.p90Km, decimals: 3)
        w.key("max_km"); w.number(d.maxKm, decimals: 3)
        w.key("mean_km"); w.number(d.meanKm, decimals: 3)
        w.endObject()
        w.key("most_remote"); w.beginArray()
        for o in r.mostRemote {
            w.beginObject()
            w.key("id"); w.int(o.id)
            w.key("name"); w.string(o.name)
            w.key("kind"); w.string(o.kind.rawValue)
            w.key("settlement"); w.string(o.settlement)
            w.key("distance_to_center_km"); w.number(o.distanceKm)
            w.key("lon"); w.number(o.location.longitude)
            w.key("lat"); w.number(o.location.latitude)
            w.endObject()
        }
        w.endArray()
        let c = r.coverage
        w.key("coverage"); w.beginObject()
        w.key("radius_km"); w.number(r.query.coverageRadiusKm, decimals: 3)
        w.key("settlements"); w.int(c.settlements)
        w.key("covered"); w.int(c.covered)
        w.key("uncovered"); w.int(c.settlements - c.covered)
        w.key("population"); w.int(c.population)
        w.key("uncovered_population"); w.int(c.uncoveredPopulation)
        w.key("uncovered_places"); w.beginArray()
        for p in c.uncovered {
            w.beginObject()
            w.key("name"); w.string(p.name)
            w.key("population"); w.int(p.population)
            w.key("lon"); w.number(p.location.longitude)
            w.key("lat"); w.number(p.location.latitude)
            w.key("nearest_km"); w.number(p.nearestKm, decimals: 3)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        w.endObject()
    }

    private static func writeCounts(organisations: Int, remote: Int, to w: inout JSONWriter) {
        w.key("organizations"); w.int(organisations)
        w.key("remote"); w.int(remote)
        w.key("remote_share")
        if organisations > 0 { w.number(Double(remote) / Double(organisations), decimals: 4) } else { w.null() }
    }
}

/// The report as one CSV file of titled sections separated by blank lines: how coordinators
/// paste reports into their own spreadsheets.
public enum RegionReportCSV {
    public static func encode(_ r: RegionReport, generatedAt: String, dialect: CSVDialect) -> [UInt8] {
        let ru = dialect.header == .ru
        var out: [UInt8] = []
        func km(_ v: Double?) -> String { v.map { CSV.fixed($0, decimals: 3) } ?? "" }
        func mixedKm(_ v: Double) -> String { dialect.decimal(km(v)) }
        func section(_ title: String, _ table: CSVTable, _ rows: [[String]]) {
            if !out.isEmpty { out += [0x0D, 0x0A] }
            dialect.appendRecord([title], to: &out)
            table.appendHeader(dialect, to: &out)
            for row in rows { table.appendRow(row, dialect, to: &out) }
        }
        let region = r.region
        let kindNames = Dictionary(r.byKind.map { ($0.kind.kind, ru ? $0.kind.titleRU : $0.kind.kind.rawValue) }, uniquingKeysWith: { a, _ in a })
        section(ru ? "Отчёт по региону" : "Region report", CSVTable([.init("parameter", "Параметр"), .init("value", "Значение")]), [
            [ru ? "Регион" : "region", ru ? region.nameRU : region.nameEN],
            [ru ? "Код ISO" : "iso", region.iso ?? ""],
            [ru ? "Административный центр" : "centre", ru ? region.centreNameRU : region.centreNameEN],
            [ru ? "Порог удалённости, км" : "threshold_km", mixedKm(r.query.thresholdKm)],
            [ru ? "Радиус охвата, км" : "coverage_radius_km", mixedKm(r.query.coverageRadiusKm)],
            [ru ? "Виды" : "kinds", r.query.kinds.map { kindNames[$0] ?? $0.rawValue }.joined(separator: ", ")],
            [ru ? "Сформирован" : "generated_at", generatedAt],
        ])
        let counts = CSVTable([
            .init("kind", "Вид"), .init("organizations", "Организаций"), .init("remote", "Удалённых"),
            .init("remote_share", "Доля удалённых", decimal: true),
        ])
        func share(_ remote: Int, _ all: Int) -> String { all > 0 ? CSV.fixed(Double(remote) / Double(all), decimals: 4) : "" }
        section(ru ? "По видам" : "By kind", counts,
            r.byKind.map { [kindNames[$0.kind.kind] ?? $0.kind.kind.rawValue, String($0.organisations), String($0.remote), share($0.remote, $0.organisations)] }
                + [[ru ? "Всего" : "total", String(r.organisations), String(r.remote), share(r.remote, r.organisations)]])
        let d = r.distances
        section(ru ? "Распределение расстояний до центра" : "Distances to the centre",
            CSVTable([.init("from_km", "От, км", decimal: true), .init("to_km", "До, км", decimal: true), .init("organizations", "Организаций")]),
            d.bins.map { [km($0.fromKm), km($0.toKm), String($0.count)] })
        section(ru ? "Статистика расстояний, км" : "Distance statistics, km",
            CSVTable([.init("statistic", "Показатель"), .init("km", "км", decimal: true)]), [
                [ru ? "медиана" : "median", km(d.medianKm)], [ru ? "90-й процентиль" : "p90", km(d.p90Km)],
                [ru ? "максимум" : "max", km(d.maxKm)], [ru ? "среднее" : "mean", km(d.meanKm)],
            ])
        section(ru ? "Самые удалённые" : "Most remote",
            CSVTable([
                .init("id", "ID"), .init("name", "Название"), .init("kind", "Вид"), .init("settlement", "Населённый пункт"),
                .init("distance_to_center_km", "Расстояние до центра, км", decimal: true), .init("lat", "Широта", decimal: true),
                .init("lon", "Долгота", decimal: true),
            ]),
            // The kind as «По видам» names it; the distance to the metre's thousandth, as exports and matching give it.
            r.mostRemote.map { [String($0.id), $0.name, kindNames[$0.kind] ?? $0.kind.rawValue, $0.settlement ?? "", CSV.fixed($0.distanceKm),
                                CSV.fixed($0.location.latitude), CSV.fixed($0.location.longitude)] })
        let c = r.coverage
        section(ru ? "Охват населённых пунктов" : "Coverage of populated places",
            CSVTable([.init("measure", "Показатель"), .init("value", "Значение")]), [
                [ru ? "населённых пунктов" : "settlements", String(c.settlements)], [ru ? "охвачено" : "covered", String(c.covered)],
                [ru ? "не охвачено" : "uncovered", String(c.settlements - c.covered)], [ru ? "население" : "population", String(c.population)],
                [ru ? "население без охвата" : "uncovered_population", String(c.uncoveredPopulation)],
            ])
        section(ru ? "Населённые пункты без организаций в радиусе" : "Places with no organisation within the radius",
            CSVTable([
                .init("name", "Название"), .init("population", "Население"), .init("lat", "Широта", decimal: true),
                .init("lon", "Долгота", decimal: true), .init("nearest_km", "Ближайшая организация, км", decimal: true),
            ]),
            c.uncovered.map { [$0.name, String($0.population), CSV.fixed($0.location.latitude),
                               CSV.fixed($0.location.longitude), km($0.nearestKm)] })
        return dialect.preamble + dialect.encode(out)
    }
}

/// Programme listings: GeoJSON features at their site's point, or CSV rows.
public enum ProgrammeListingEncoding {
    public static func writeFeature(_ l: ProgrammeListing, distanceMetres: Double?, to w: inout JSONWriter) {
        let p = l.programme, s = l.site
        w.beginObject()
        w.key("type"); w.string("Feature")
        w.key("id"); w.int(p.id ?? 0)
        w.key("geometry"); GeoJSON.writePoint(s.location, to: &w)
        w.key("properties"); w.beginObject()
        GeoJSON.writeProgrammeFields(p, to: &w)
        w.key("site_id"); w.int(s.id ?? 0)
        w.key("site_name"); w.string(s.name)
        w.key("region_iso"); w.string(s.regionISO)
        w.key("region_code"); w.string(s.regionCode)
        w.key("region_name"); w.string(s.regionName)
        w.key("settlement"); w.string(s.settlement)
        if let distanceMetres { w.key("distance_km"); w.number(distanceMetres / 1000) }
        w.endObject()
        w.endObject()
    }

    public static let table = CSVTable([
        .init("id", "ID"), .init("title", "Программа"), .init("topics", "Темы"), .init("length_days", "Дней"),
        .init("starts_on", "Начало"), .init("ends_on", "Окончание"), .init("capacity", "Мест"),
        .init("selection_status", "Отбор"), .init("site_id", "ID площадки"), .init("site_name", "Площадка"),
        .init("region_iso", "Код региона ISO"), .init("region_name", "Регион"), .init("settlement", "Населённый пункт"),
        .init("lat", "Широта", decimal: true), .init("lon", "Долгота", decimal: true), .init("distance_km", "Расстояние, км", decimal: true),
        .init("description", "Описание"),
    ])

    public static func csv(_ listings: [ProgrammeListing], near: Coordinate?, dialect: CSVDialect) -> [UInt8] {
        var out: [UInt8] = []
        table.appendHeader(dialect, to: &out)
        for l in listings {
            let p = l.programme, s = l.site
            let distance = near.map { CSV.fixed(Geodesic.wgs84.distance(from: $0, to: s.location) / 1000) } ?? ""
            table.appendRow([
                String(p.id ?? 0), p.title, p.topics.joined(separator: ";"), String(p.lengthDays), p.startsOn ?? "", p.endsOn ?? "",
                p.capacity.map(String.init) ?? "", dialect.header == .ru ? p.selectionStatus.russianName : p.selectionStatus.rawValue,
                String(s.id ?? 0), s.name, s.regionISO ?? "",
                s.regionName ?? "", s.settlement ?? "", CSV.fixed(s.location.latitude), CSV.fixed(s.location.longitude),
                distance, p.description ?? "",
            ], dialect, to: &out)
        }
        return dialect.preamble + dialect.encode(out)
    }
}
