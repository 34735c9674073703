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

    /// A closed ring of points at `metres` from `centre` (a true geodesic circle, for map rings).
    public func circle(around centre: Coordinate, metres: Double, segments: Int = 128) -> [Coordinate] {
        let count = max(8, segments)
        var ring = (0..<count).map { n -> Coordinate in
            let p = destination(from: centre, azimuth: Double(n) * 360 / Double(count), metres: metres)
            // Keep longitudes continuous around the centre (Chukotka straddles ±180°).
            var lon = p.longitude
            while lon - centre.longitude > 180 { lon -= 360 }
            while lon - centre.longitude < -180 { lon += 360 }
            return Coordinate(trustedLatitude: p.latitude, longitude: lon)
        }
        ring.append(ring[0])
        return ring
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
