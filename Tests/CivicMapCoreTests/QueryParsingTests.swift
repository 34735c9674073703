import Testing

@testable import CivicMapCore

@Suite("bbox and query parameters")
struct QueryParsingTests {
    let parser = FeatureQueryParser(
        kinds: [.ngo, .tos, .internshipSite], regions: Fixtures.squareRegions, defaultLimit: 100, maximumLimit: 1000)

    func parse(_ pairs: [(String, String)], kinds: [OrganisationKind] = [.ngo, .tos, .internshipSite]) throws -> FeatureQuery {
        try parser.parse(pairs.map { (name: $0.0, value: $0.1) }, collectionKinds: kinds)
    }

    func rejected(_ pairs: [(String, String)], parameter: String) {
        #expect {
            try parse(pairs)
        } throws: { error in
            guard case .invalidParameter(let name, let reason) = error as? CivicMapError else { return false }
            return name == parameter && !reason.isEmpty
        }
    }

    @Test func bboxForms() throws {
        let box = try BoundingBox.parse("37.5,55.5,37.9,55.9")
        #expect(box == BoundingBox(west: 37.5, south: 55.5, east: 37.9, north: 55.9))
        #expect(try BoundingBox.parse("1,2,0,3,4,10") == BoundingBox(west: 1, south: 2, east: 3, north: 4))
        let chukotka = try BoundingBox.parse("170,60,-170,70")
        #expect(chukotka.crossesAntimeridian)
        #expect(chukotka.contains(try Coordinate(latitude: 65, longitude: 179.5)))
        #expect(chukotka.contains(try Coordinate(latitude: 65, longitude: -175)))
        #expect(!chukotka.contains(try Coordinate(latitude: 65, longitude: 0)))
        // As Leaflet gives bounds past ±180: wrapped round the globe.
        #expect(try BoundingBox.parse("170,60,190,70") == BoundingBox(west: 170, south: 60, east: -170, north: 70))
        #expect(try BoundingBox.parse("-200,60,-170,70") == BoundingBox(west: 160, south: 60, east: -170, north: 70))
        #expect(try BoundingBox.parse("181,0,182,1") == BoundingBox(west: -179, south: 0, east: -178, north: 1))
        #expect(try BoundingBox.parse("-190,40,200,80") == BoundingBox(west: -180, south: 40, east: 180, north: 80))
    }

    @Test(arguments: ["1,2,3", "a,b,c,d", "0,91,1,92", "0,10,1,5", "190,0,170,1", "600,0,601,1", "1,2,3,4,5", "", "nan,1,2,3"])
    func badBbox(_ text: String) {
        rejected([("bbox", text)], parameter: "bbox")
    }

    @Test func defaultsAndClamping() throws {
        #expect(try parse([]).limit == 100)
        #expect(try parse([("limit", "5000")]).limit == 1000)  // above the maximum: clamped, not an error
        #expect(try parse([("limit", "7"), ("offset", "14")]).offset == 14)
    }

    @Test func badValuesNameTheParameter() {
        rejected([("limit", "0")], parameter: "limit")
        rejected([("limit", "unlimited")], parameter: "limit")
        rejected([("offset", "-1")], parameter: "offset")
        rejected([("kind", "church")], parameter: "kind")
        rejected([("region_iso", "RU-XX")], parameter: "region_iso")
        rejected([("min_distance_km", "far")], parameter: "min_distance_km")
        rejected([("min_distance_km", "-5")], parameter: "min_distance_km")
        rejected([("min_distance_km", "60"), ("max_distance_km", "50")], parameter: "max_distance_km")
        rejected([("sortby", "-population")], parameter: "sortby")
        rejected([("sortby", "name,-name")], parameter: "sortby")
        rejected([("bbox-crs", "EPSG:3857")], parameter: "bbox-crs")
        rejected([("q", "  ")], parameter: "q")
        rejected([("datetime", "yesterday")], parameter: "datetime")
        rejected([("datetime", "../..")], parameter: "datetime")
        rejected([("datetime", "2024-01-01/2023-01-01")], parameter: "datetime")
        // Decimal numbers only: Swift's Double(_:) would read hexadecimal, nan and inf.
        rejected([("bbox", "0x10,60,150,70")], parameter: "bbox")
        rejected([("min_distance_km", "0x10")], parameter: "min_distance_km")
        rejected([("min_distance_km", "nan")], parameter: "min_distance_km")
        rejected([("near", "56.2,inf")], parameter: "near")
        rejected([("colour", "red")], parameter: "colour")
        rejected([("limit", "1"), ("limit", "2")], parameter: "limit")
    }

    @Test func filters() throws {
        let q = try parse([
            ("kind", "ngo,tos"), ("region_iso", "RU-AAA,02"), ("categories", "экология"), ("q", " Проект "),
            ("min_distance_km", "50"), ("sortby", "-distance_to_center_km,name"),
        ])
        #expect(q.kinds == [.ngo, .tos])
        #expect(q.regionCodes == ["01", "02"])
        #expect(q.categories == ["экология"])
        #expect(q.text == "Проект")
        #expect(q.minDistanceKm == 50)
        #expect(q.sort == [SortKey(.distanceToCentreKm, descending: true), SortKey(.name)])
    }

    @Test func kindParameterNarrowsTheCollection() throws {
        #expect(try parse([("kind", "tos")], kinds: [.ngo]).kinds.isEmpty)
        #expect(try parse([("kind", "ngo")], kinds: [.ngo]).kinds == [.ngo])
    }

    @Test func decimalNumbersAreReadAsWritten() {
        #expect(Double.decimal("-40.5") == -40.5 && Double.decimal(".5") == 0.5 && Double.decimal("1e3") == 1000)
        #expect(Double.decimal("+7") == 7 && Double.decimal("2.5E-1") == 0.25)
        for text in ["0x10", "nan", "inf", "-", ".", "1e", "1.2.3", "1-2", "", " 1", "1_000", "٣"] { #expect(Double.decimal(text) == nil, "\(text)") }
    }

    @Test(arguments: ["2024-01-05", "2024-01-05T10:00:00Z", "2024-01-05T10:00:00.5+03:00", "../2024-01-05", "2024-01-01/2024-12-31",
                      "2024-01-02T00:30:00+03:00/2024-01-01T23:00:00Z"])
    func validDatetime(_ value: String) throws {
        _ = try parse([("datetime", value)])
    }

    @Test func exportsHaveNoLimitUnlessAsked() throws {
        let q = try parser.parse([], collectionKinds: [.ngo], paged: false)
        #expect(q.limit == nil)
        let limited = try parser.parse([(name: "limit", value: "50000")], collectionKinds: [.ngo], paged: false)
        #expect(limited.limit == 50000)
    }
}
