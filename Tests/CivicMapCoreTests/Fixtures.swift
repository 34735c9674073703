import Foundation

@testable import CivicMapCore

enum Fixtures {
    /// Two square regions side by side, with a hole in the first, and one without an outline:
    /// small enough to reason about in every test.
    static let squareRegions: RegionDirectory = {
        func c(_ lat: Double, _ lon: Double) -> Coordinate { Coordinate(trustedLatitude: lat, longitude: lon) }
        func square(_ w: Double, _ s: Double, _ e: Double, _ n: Double) -> [Coordinate] {
            [c(s, w), c(s, e), c(n, e), c(n, w), c(s, w)]
        }
        let a = Region(
            code: "01", iso: "RU-AAA", okato: nil, nameRU: "Область А", nameEN: "A", federalDistrictRU: "",
            centreNameRU: "Центр А", centreNameEN: "A", centre: c(55, 40), status: "undisputed",
            boundary: MultiPolygon(polygons: [[square(38, 54, 42, 56), square(39.9, 54.9, 40.1, 55.1)]]))
        let b = Region(
            code: "02", iso: "RU-BBB", okato: nil, nameRU: "Область Б", nameEN: "B", federalDistrictRU: "",
            centreNameRU: "Центр Б", centreNameEN: "B", centre: c(55, 44), status: "undisputed",
            boundary: MultiPolygon(polygons: [[square(42, 54, 46, 56)]]))
        let inner = Region(
            code: "03", iso: "RU-CCC", okato: nil, nameRU: "Город В", nameEN: "C", federalDistrictRU: "",
            centreNameRU: "В", centreNameEN: "C", centre: c(55, 40), status: "undisputed",
            boundary: MultiPolygon(polygons: [[square(39.9, 54.9, 40.1, 55.1)]]))
        let noOutline = Region(
            code: "91", iso: nil, okato: nil, nameRU: "Без контура", nameEN: "No outline", federalDistrictRU: "",
            centreNameRU: "Г", centreNameEN: "D", centre: c(45, 34), status: "internationally_disputed", boundary: nil)
        return RegionDirectory([a, b, inner, noOutline])
    }()

    /// The repository's bundled data directory.
    static var dataDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("data").path
    }
}
