import Foundation
import CProj

/// Geodesic computations on an ellipsoid with PROJ's implementation of Karney's algorithms
/// (`geodesic.h`). Accurate to nanometres, unlike haversine, which is off by up to 26 km in Russia.
public struct Geodesic: @unchecked Sendable {
    // Read-only after geod_init, so sharing it across threads is safe.
    private let ellipsoid: geod_geodesic

    /// The WGS84 ellipsoid (EPSG:7030), the datum of GeoJSON and of GPS coordinates.
    public static let wgs84 = Geodesic(equatorialRadius: 6_378_137, flattening: 1 / 298.257223563)

    public init(equatorialRadius: Double, flattening: Double) {
        var value = geod_geodesic()
        geod_init(&value, equatorialRadius, flattening)
        ellipsoid = value
    }

    /// The length in metres of the shortest path between two points on the ellipsoid.
    public func distance(from a: Coordinate, to b: Coordinate) -> Double {
        inverse(from: a, to: b).metres
    }

    /// Distance in metres and the forward azimuths (degrees clockwise from north) at both ends.
    public func inverse(from a: Coordinate, to b: Coordinate) -> (metres: Double, azimuthAtStart: Double, azimuthAtEnd: Double) {
        var metres = 0.0, azi1 = 0.0, azi2 = 0.0
        withUnsafePointer(to: ellipsoid) {
            geod_inverse($0, a.latitude, a.longitude, b.latitude, b.longitude, &metres, &azi1, &azi2)
        }
        return (metres, azi1, azi2)
    }

    /// The point reached from `start` after `metres` along the geodesic leaving at `azimuth` degrees.
    public func destination(from start: Coordinate, azimuth: Double, metres: Double) -> Coordinate {
        var lat = 0.0, lon = 0.0, azi2 = 0.0
        withUnsafePointer(to: ellipsoid) {
            geod_direct($0, start.latitude, start.longitude, azimuth, metres, &lat, &lon, &azi2)
        }
        return Coordinate(trustedLatitude: lat, longitude: lon)
    }

    /// A closed ring of points at `metres` from `centre` (a true geodesic circle, for map rings),
    /// clockwise from north, with longitudes continuous around the centre (past ±180° by Chukotka).
    public func circle(around centre: Coordinate, metres: Double, segments: Int = 128) -> [Coordinate] {
        let count = max(8, segments)
        var ring = (0..<count).map { n in circlePoint(around: centre, metres: metres, azimuth: Double(n) * 360 / Double(count)) }
        ring.append(ring[0])
        return ring
    }

    /// The circle as RFC 7946 has it: counterclockwise, and cut at the antimeridian (§3.1.9) into
    /// one ring per side with longitudes within -180…180. The cut points lie on the circle.
    public func circleParts(around centre: Coordinate, metres: Double, segments: Int = 128) -> [[Coordinate]] {
        let ring = circle(around: centre, metres: metres, segments: segments)
        let count = ring.count - 1, step = 360 / Double(count)
        guard let beyond = ring.first(where: { abs($0.longitude) > 180 }) else { return [ring.reversed()] }
        let meridian: Double = beyond.longitude > 0 ? 180 : -180
        func far(_ i: Int) -> Bool { abs(ring[i % count].longitude) > 180 }
        // Where the edge from vertex i crosses the meridian, by bisection on the azimuth.
        func crossing(after i: Int) -> Coordinate {
            var low = Double(i) * step, high = low + step
            let lowIsFar = far(i)
            for _ in 0..<50 {
                let middle = (low + high) / 2
                if (abs(circlePoint(around: centre, metres: metres, azimuth: middle).longitude) > 180) == lowIsFar { low = middle } else { high = middle }
            }
            return Coordinate(trustedLatitude: circlePoint(around: centre, metres: metres, azimuth: low).latitude, longitude: meridian)
        }
        // Start just after a crossing, so that each side's vertices run on unbroken.
        let start = (1...count).first { far($0) != far($0 - 1) }! % count
        var parts: [[Coordinate]] = []
        var part = [crossing(after: (start + count - 1) % count)]
        for j in 0..<count {
            let i = (start + j) % count
            part.append(ring[i])
            if far(i) != far(i + 1) {
                let cut = crossing(after: i)
                part += [cut, part[0]]
                // The far side's longitudes come back into -180…180.
                let shift = far(i) ? -360 * (meridian / 180) : 0
                parts.append(part.map { Coordinate(trustedLatitude: $0.latitude, longitude: $0.longitude + shift) }.reversed())
                part = [cut]
            }
        }
        return parts
    }

    /// The point at `metres` towards `azimuth`, its longitude kept within 180° of the centre's.
    private func circlePoint(around centre: Coordinate, metres: Double, azimuth: Double) -> Coordinate {
        let p = destination(from: centre, azimuth: azimuth, metres: metres)
        var lon = p.longitude
        while lon - centre.longitude > 180 { lon -= 360 }
        while lon - centre.longitude < -180 { lon += 360 }
        return Coordinate(trustedLatitude: p.latitude, longitude: lon)
    }

    /// A box holding every point within `metres` of `centre`: the prefilter for a spatial
    /// index before the exact distance. Spherical bounds widened by 1% cover the ellipsoid
    /// (its radii of curvature differ from the mean by under 0.6%).
    public func boundingBox(around centre: Coordinate, metres: Double) -> BoundingBox {
        let degrees = 180 / Double.pi
        let angle = min(Double.pi, metres / 6_371_008.8 * 1.01 + 1e-9)
        let north = centre.latitude + angle * degrees, south = centre.latitude - angle * degrees
        if north >= 90 || south <= -90 {
            return BoundingBox(west: -180, south: max(-90, south), east: 180, north: min(90, north))
        }
        let halfWidth = asin(min(1, sin(angle) / cos(centre.latitude / degrees))) * degrees
        guard halfWidth < 180 else { return BoundingBox(west: -180, south: south, east: 180, north: north) }
        var west = centre.longitude - halfWidth, east = centre.longitude + halfWidth
        if west < -180 { west += 360 }
        if east > 180 { east -= 360 }
        return BoundingBox(west: west, south: south, east: east, north: north)
    }
}
