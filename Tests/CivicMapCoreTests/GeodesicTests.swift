import Foundation
import Testing

@testable import CivicMapCore

@Suite("Geodesic distances on WGS84 (PROJ, Karney)")
struct GeodesicTests {
    /// Reference values published with GeographicLib (Karney), independent of this code.
    @Test(arguments: [
        // JFK → LHR, GeographicLib documentation example.
        (40.6, -73.8, 51.6, -0.5, 5_551_759.400319),
        // Wellington → Salamanca, nearly antipodal: where Vincenty's iteration fails to converge.
        (-41.32, 174.81, 40.96, -5.50, 19_959_679.267353),
    ])
    func matchesPublishedReferenceValues(lat1: Double, lon1: Double, lat2: Double, lon2: Double, metres: Double) throws {
        let d = Geodesic.wgs84.distance(
            from: try Coordinate(latitude: lat1, longitude: lon1), to: try Coordinate(latitude: lat2, longitude: lon2))
        #expect(abs(d - metres) < 0.001, "got \(d)")
    }

    /// Vincenty's inverse formula, a different algorithm, agrees to well under a millimetre on
    /// points across Russia (where it converges).
    @Test func agreesWithVincentyAcrossRussia() throws {
        var generator = SystemRandomNumberGenerator()
        let perm = try Coordinate(latitude: 58.0105, longitude: 56.2502)
        for _ in 0..<500 {
            let p = try Coordinate(latitude: .random(in: 41...78, using: &generator), longitude: .random(in: 20...179, using: &generator))
            let karney = Geodesic.wgs84.distance(from: perm, to: p)
            let vincenty = try #require(Self.vincenty(perm, p))
            #expect(abs(karney - vincenty) < 0.0005, "at \(p): \(karney) vs \(vincenty)")
        }
    }

    @Test func haversineWouldBeWrongByKilometres() throws {
        // Guards against a spherical shortcut: Perm → Yakutsk differs from a sphere by > 1 km.
        let perm = try Coordinate(latitude: 58.0105, longitude: 56.2502)
        let yakutsk = try Coordinate(latitude: 62.0311, longitude: 129.7229)
        let karney = Geodesic.wgs84.distance(from: perm, to: yakutsk)
        let r = 6_371_008.8, rad = Double.pi / 180
        let a = pow(sin((yakutsk.latitude - perm.latitude) * rad / 2), 2)
            + cos(perm.latitude * rad) * cos(yakutsk.latitude * rad) * pow(sin((yakutsk.longitude - perm.longitude) * rad / 2), 2)
        let haversine = 2 * r * asin(sqrt(a))
        #expect(abs(karney - haversine) > 1000)
        #expect(abs(karney - Self.vincenty(perm, yakutsk)!) < 0.0005)
    }

    @Test func circleRingIsAtTheRadiusEverywhere() throws {
        let centre = try Coordinate(latitude: 58.0105, longitude: 56.2502)
        let ring = Geodesic.wgs84.circle(around: centre, metres: 50_000, segments: 64)
        #expect(ring.count == 65)
        #expect(ring.first == ring.last)
        for p in ring { #expect(abs(Geodesic.wgs84.distance(from: centre, to: p) - 50_000) < 0.001) }
    }

    /// RFC 7946: counterclockwise, and cut at the antimeridian into one ring per side. Anadyr's
    /// 500 km ring crosses it; every point, the cut points too, lies on the circle.
    @Test func circlePartsAreCutAtTheAntimeridian() throws {
        func signedArea(_ ring: [Coordinate]) -> Double {
            zip(ring, ring.dropFirst()).reduce(0) { $0 + ($1.0.longitude * $1.1.latitude - $1.1.longitude * $1.0.latitude) } / 2
        }
        let anadyr = try Coordinate(latitude: 64.7337, longitude: 177.4968)
        let parts = Geodesic.wgs84.circleParts(around: anadyr, metres: 500_000, segments: 64)
        #expect(parts.count == 2)
        for part in parts {
            #expect(part.first == part.last && part.count > 4)
            #expect(signedArea(part) > 0, "clockwise: \(part.prefix(3))")
            #expect(part.allSatisfy { (-180...180).contains($0.longitude) })
            #expect(part.filter { abs($0.longitude) == 180 }.count >= 2)  // the cut
            for p in part { #expect(abs(Geodesic.wgs84.distance(from: anadyr, to: p) - 500_000) < 0.01) }
        }
        #expect(Set(parts.map { $0[1].longitude > 0 }) == [true, false])  // one part each side
        let perm = try Coordinate(latitude: 58.0105, longitude: 56.2502)
        let whole = Geodesic.wgs84.circleParts(around: perm, metres: 50_000)
        #expect(whole.count == 1 && signedArea(whole[0]) > 0)
    }

    @Test func zeroDistanceToItself() throws {
        let p = try Coordinate(latitude: 62.0311, longitude: 129.7229)
        #expect(Geodesic.wgs84.distance(from: p, to: p) == 0)
    }

    /// T. Vincenty (1975), inverse problem on WGS84; nil if it does not converge.
    static func vincenty(_ p1: Coordinate, _ p2: Coordinate) -> Double? {
        let a = 6_378_137.0, f = 1 / 298.257223563, b = a * (1 - f), rad = Double.pi / 180
        let L = (p2.longitude - p1.longitude) * rad
        let U1 = atan((1 - f) * tan(p1.latitude * rad)), U2 = atan((1 - f) * tan(p2.latitude * rad))
        let sinU1 = sin(U1), cosU1 = cos(U1), sinU2 = sin(U2), cosU2 = cos(U2)
        var lambda = L, iterations = 0
        var sinSigma = 0.0, cosSigma = 0.0, sigma = 0.0, cosSqAlpha = 0.0, cos2SigmaM = 0.0
        repeat {
            let sinLambda = sin(lambda), cosLambda = cos(lambda)
            sinSigma = sqrt(pow(cosU2 * sinLambda, 2) + pow(cosU1 * sinU2 - sinU1 * cosU2 * cosLambda, 2))
            if sinSigma == 0 { return 0 }
            cosSigma = sinU1 * sinU2 + cosU1 * cosU2 * cosLambda
            sigma = atan2(sinSigma, cosSigma)
            let sinAlpha = cosU1 * cosU2 * sinLambda / sinSigma
            cosSqAlpha = 1 - sinAlpha * sinAlpha
            cos2SigmaM = cosSqAlpha == 0 ? 0 : cosSigma - 2 * sinU1 * sinU2 / cosSqAlpha
            let C = f / 16 * cosSqAlpha * (4 + f * (4 - 3 * cosSqAlpha))
            let previous = lambda
            lambda = L + (1 - C) * f * sinAlpha * (sigma + C * sinSigma * (cos2SigmaM + C * cosSigma * (-1 + 2 * cos2SigmaM * cos2SigmaM)))
            iterations += 1
            if abs(lambda - previous) < 1e-13 { break }
        } while iterations < 200
        guard iterations < 200 else { return nil }
        let uSq = cosSqAlpha * (a * a - b * b) / (b * b)
        let A = 1 + uSq / 16384 * (4096 + uSq * (-768 + uSq * (320 - 175 * uSq)))
        let B = uSq / 1024 * (256 + uSq * (-128 + uSq * (74 - 47 * uSq)))
        let deltaSigma = B * sinSigma * (cos2SigmaM + B / 4 * (cosSigma * (-1 + 2 * cos2SigmaM * cos2SigmaM)
            - B / 6 * cos2SigmaM * (-3 + 4 * sinSigma * sinSigma) * (-3 + 4 * cos2SigmaM * cos2SigmaM)))
        return b * A * (sigma - deltaSigma)
    }
}

@Suite("Search boxes around geodesic circles")
struct GeodesicBoxTests {
    /// Every point on the circle (just inside it) must lie in the box, wherever the centre is:
    /// at the equator, in the Arctic, across the antimeridian (Chukotka), near the pole.
    @Test(arguments: [(0.0, 30.0, 500.0), (58.0, 56.25, 150.0), (66.0, 179.9, 300.0), (69.7, 170.3, 1000.0), (88.5, 10.0, 300.0), (-60.0, -179.0, 50.0)])
    func boxHoldsTheCircle(lat: Double, lon: Double, km: Double) {
        let centre = Coordinate(trustedLatitude: lat, longitude: lon)
        let box = Geodesic.wgs84.boundingBox(around: centre, metres: km * 1000)
        for azimuth in stride(from: 0.0, to: 360, by: 2.5) {
            let p = Geodesic.wgs84.destination(from: centre, azimuth: azimuth, metres: km * 999)
            #expect(box.contains(p), "azimuth \(azimuth): \(p) outside \(box)")
        }
        // And it is not the whole world for small circles away from the poles.
        if abs(lat) < 80 { #expect(box.north - box.south < 2.1 * km / 111 + 0.1) }
    }
}

@Suite("Extents the short way round")
struct EnclosingBoxTests {
    @Test func spansOnBothSidesOfTheAntimeridianGiveACrossingBox() throws {
        // Chukotka: Anadyr at 177.5° E, Uelen at 169.8° W.
        let chukotka = try #require(BoundingBox.enclosing([(177.5, 177.6), (-169.8, -169.8), (172.0, 175.0)], south: 64, north: 66.2))
        #expect(chukotka == BoundingBox(west: 172, south: 64, east: -169.8, north: 66.2))
        #expect(chukotka.crossesAntimeridian)
        // With Moscow too, the gap left out is the one across Europe's west and the Atlantic.
        let russia = try #require(BoundingBox.enclosing([(37.6, 37.6), (177.5, 177.6), (-169.8, -169.8)], south: 55, north: 66))
        #expect(russia.west == 37.6 && russia.east == -169.8)
        // Without points across ±180°, the plain box; overlapping and nested spans merge.
        #expect(BoundingBox.enclosing([(50, 60), (30, 40), (35, 55), (36, 37)], south: 1, north: 2) == BoundingBox(west: 30, south: 1, east: 60, north: 2))
        #expect(BoundingBox.enclosing([(-10, -10)], south: 0, north: 0) == BoundingBox(west: -10, south: 0, east: -10, north: 0))
        #expect(BoundingBox.enclosing([], south: 0, north: 0) == nil)
    }
}
