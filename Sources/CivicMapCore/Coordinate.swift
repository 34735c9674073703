/// A WGS84 position. The validating initialiser is the only way user input becomes a coordinate.
public struct Coordinate: Sendable, Hashable {
    public let latitude: Double
    public let longitude: Double

    /// Validates ranges; `field` prefixes the names reported in errors (for example `lat`/`lon`).
    public init(latitude: Double, longitude: Double) throws(CoordinateError) {
        guard latitude.isFinite, (-90...90).contains(latitude) else { throw .latitudeOutOfRange(latitude) }
        guard longitude.isFinite, (-180...180).contains(longitude) else { throw .longitudeOutOfRange(longitude) }
        self.latitude = latitude
        self.longitude = longitude
    }

    /// For values that were validated before they were stored, or computed by PROJ.
    public init(trustedLatitude latitude: Double, longitude: Double) {
        self.latitude = latitude
        self.longitude = longitude
    }
}

public enum CoordinateError: Error, Equatable, Sendable {
    case latitudeOutOfRange(Double)
    case longitudeOutOfRange(Double)

    public var field: String {
        switch self {
        case .latitudeOutOfRange: "lat"
        case .longitudeOutOfRange: "lon"
        }
    }

    public var reason: String {
        switch self {
        case .latitudeOutOfRange(let v): "latitude \(v) is outside -90…90"
        case .longitudeOutOfRange(let v): "longitude \(v) is outside -180…180"
        }
    }
}

/// A CRS84 bounding box. `west > east` means the box crosses the antimeridian (RFC 7946 §5.2),
/// which matters for Chukotka.
public struct BoundingBox: Sendable, Hashable {
    public let west: Double
    public let south: Double
    public let east: Double
    public let north: Double

    public init(west: Double, south: Double, east: Double, north: Double) {
        self.west = west
        self.south = south
        self.east = east
        self.north = north
    }

    public var crossesAntimeridian: Bool { west > east }

    /// The smallest box holding every span: its longitudes go the short way round, so
    /// points on both sides of ±180° (Chukotka) give a box that crosses the antimeridian
    /// (west > east), not one around the world. Spans are `west <= east` within -180…180.
    public static func enclosing(_ spans: [(west: Double, east: Double)], south: Double, north: Double) -> BoundingBox? {
        let sorted = spans.sorted { $0.west < $1.west }
        guard let first = sorted.first else { return nil }
        // Merge overlapping spans; the widest gap between the merged ones (the one across
        // ±180° included) is what the box leaves out.
        var merged = [first]
        for span in sorted.dropFirst() {
            if span.west <= merged[merged.count - 1].east {
                merged[merged.count - 1].east = max(merged[merged.count - 1].east, span.east)
            } else {
                merged.append(span)
            }
        }
        var gapAfter = merged.count - 1
        var widest = merged[0].west + 360 - merged[gapAfter].east
        for i in 0..<(merged.count - 1) where merged[i + 1].west - merged[i].east > widest {
            widest = merged[i + 1].west - merged[i].east
            gapAfter = i
        }
        let west = merged[(gapAfter + 1) % merged.count].west, east = merged[gapAfter].east
        return BoundingBox(west: west, south: south, east: east, north: north)
    }

    /// Longitude ranges to test; two when the box crosses the antimeridian.
    public var longitudeRanges: [ClosedRange<Double>] {
        crossesAntimeridian ? [west...180, -180...east] : [west...east]
    }

    public func contains(_ c: Coordinate) -> Bool {
        (south...north).contains(c.latitude) && longitudeRanges.contains { $0.contains(c.longitude) }
    }

    /// Parses `minLon,minLat,maxLon,maxLat` (or the 6-number 3D form, heights ignored) as
    /// OGC API – Features defines `bbox`.
    public static func parse(_ text: String) throws(CivicMapError) -> BoundingBox {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 4 || parts.count == 6 else {
            throw .invalidParameter(name: "bbox", reason: "expected 4 numbers (minLon,minLat,maxLon,maxLat) or 6 with heights, got \(parts.count)")
        }
        var numbers: [Double] = []
        for part in parts {
            guard let value = Double.decimal(part.trimmingSpaces) else {
                throw .invalidParameter(name: "bbox", reason: "'\(part)' is not a number")
            }
            numbers.append(value)
        }
        let (w, s, e, n) = parts.count == 4
            ? (numbers[0], numbers[1], numbers[2], numbers[3])
            : (numbers[0], numbers[1], numbers[3], numbers[4])
        var (west, east) = (w, e)
        if !(-180...180).contains(w) || !(-180...180).contains(e) {
            // Leaflet's bounds run past ±180 on a map panned across the antimeridian or showing
            // the world's copies: 170…200 is 170…-160, and a box 360° wide is every longitude.
            guard (-540...540).contains(w), (-540...540).contains(e), w <= e else {
                throw .invalidParameter(name: "bbox", reason: "longitudes must lie within -180…180 (or, as maps give them past ±180, west ≤ east within -540…540)")
            }
            if e - w >= 360 {
                (west, east) = (-180, 180)
            } else {
                func wrapped(_ x: Double) -> Double {
                    guard !(-180...180).contains(x) else { return x }
                    let r = (x + 180).truncatingRemainder(dividingBy: 360)
                    return (r < 0 ? r + 360 : r) - 180
                }
                (west, east) = (wrapped(w), wrapped(e))
            }
        }
        guard (-90...90).contains(s), (-90...90).contains(n) else {
            throw .invalidParameter(name: "bbox", reason: "latitudes must lie within -90…90")
        }
        guard s <= n else {
            throw .invalidParameter(name: "bbox", reason: "the southern edge \(s) lies north of the northern edge \(n)")
        }
        return BoundingBox(west: west, south: s, east: east, north: n)
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while let f = s.first, f == " " { s.removeFirst() }
        while let l = s.last, l == " " { s.removeLast() }
        return s
    }
}

extension Double {
    /// A decimal number as people and GIS tools write it (`-40.5`, `.5`, `1e3`). Swift's own
    /// `Double(_:)` also reads hexadecimal (`0x10` as 16) and `nan`/`inf`, which no client means.
    public static func decimal(_ text: some StringProtocol) -> Double? {
        var digits = 0, seenPoint = false, seenExponent = false, previous: UInt8 = 0
        for (i, b) in text.utf8.enumerated() {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits += 1
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                guard i == 0 || previous == UInt8(ascii: "e") || previous == UInt8(ascii: "E") else { return nil }
            case UInt8(ascii: "."):
                guard !seenPoint, !seenExponent else { return nil }
                seenPoint = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                guard digits > 0, !seenExponent else { return nil }
                seenExponent = true
            default: return nil
            }
            previous = b
        }
        guard digits > 0, let value = Double(String(text)), value.isFinite else { return nil }
        return value
    }
}
