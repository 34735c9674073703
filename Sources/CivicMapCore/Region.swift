/// A federal subject of Russia with its administrative centre and, where known, its outline.
public struct Region: Sendable, Equatable {
    /// Two-digit subject code (tax service, address register); filled for all 89 subjects.
    public var code: String
    /// ISO 3166-2:RU code; nil for the six subjects ISO files under Ukraine.
    public var iso: String?
    public var okato: String?
    public var nameRU: String
    public var nameEN: String
    public var federalDistrictRU: String
    public var centreNameRU: String
    public var centreNameEN: String
    public var centre: Coordinate
    /// `undisputed` or `internationally_disputed`.
    public var status: String
    public var boundary: MultiPolygon?

    public init(
        code: String, iso: String?, okato: String?, nameRU: String, nameEN: String,
        federalDistrictRU: String, centreNameRU: String, centreNameEN: String, centre: Coordinate,
        status: String, boundary: MultiPolygon? = nil
    ) {
        self.code = code
        self.iso = iso
        self.okato = okato
        self.nameRU = nameRU
        self.nameEN = nameEN
        self.federalDistrictRU = federalDistrictRU
        self.centreNameRU = centreNameRU
        self.centreNameEN = centreNameEN
        self.centre = centre
        self.status = status
        self.boundary = boundary
    }
}

/// Polygons → rings (outer first, then holes) → positions, as in GeoJSON.
public struct MultiPolygon: Sendable, Equatable {
    public var polygons: [[[Coordinate]]]
    public let bounds: BoundingBox

    public init(polygons: [[[Coordinate]]]) {
        self.polygons = polygons
        let all = polygons.lazy.flatMap { $0.first ?? [] }
        bounds = BoundingBox(
            west: all.map(\.longitude).min() ?? 0, south: all.map(\.latitude).min() ?? 0,
            east: all.map(\.longitude).max() ?? 0, north: all.map(\.latitude).max() ?? 0)
    }

    /// Even-odd ray casting, polygon by polygon: inside an outer ring and in none of its holes.
    public func contains(_ point: Coordinate) -> Bool {
        guard bounds.contains(point) else { return false }
        return polygons.contains { rings in
            guard let outer = rings.first, Self.ring(outer, contains: point) else { return false }
            return !rings.dropFirst().contains { Self.ring($0, contains: point) }
        }
    }

    /// Approximate distance in km from a point outside to the nearest edge (local equirectangular
    /// projection; good to a few per cent, which is all a tolerance check needs).
    public func approximateDistanceKm(to point: Coordinate) -> Double {
        let kmPerDegree = 111.195
        let scale = cos(point.latitude * .pi / 180)
        var best = Double.infinity
        for rings in polygons {
            for ring in rings {
                for (a, b) in zip(ring, ring.dropFirst()) {
                    let ax = (a.longitude - point.longitude) * scale, ay = a.latitude - point.latitude
                    let bx = (b.longitude - point.longitude) * scale, by = b.latitude - point.latitude
                    let dx = bx - ax, dy = by - ay
                    let lengthSquared = dx * dx + dy * dy
                    let t = lengthSquared == 0 ? 0 : max(0, min(1, -(ax * dx + ay * dy) / lengthSquared))
                    let px = ax + t * dx, py = ay + t * dy
                    best = min(best, (px * px + py * py).squareRoot())
                }
            }
        }
        return best * kmPerDegree
    }

    private static func ring(_ ring: [Coordinate], contains p: Coordinate) -> Bool {
        var inside = false
        var j = ring.count - 1
        for i in 0..<ring.count {
            let a = ring[i], b = ring[j]
            if (a.latitude > p.latitude) != (b.latitude > p.latitude) {
                let x = (b.longitude - a.longitude) * (p.latitude - a.latitude) / (b.latitude - a.latitude) + a.longitude
                if p.longitude < x { inside.toggle() }
            }
            j = i
        }
        return inside
    }
}

/// All regions, indexed for look-ups by code or ISO code and for point-in-polygon.
public struct RegionDirectory: Sendable {
    public let regions: [Region]
    private let byCode: [String: Int]
    private let byISO: [String: Int]

    public init(_ regions: [Region]) {
        self.regions = regions
        var byCode: [String: Int] = [:], byISO: [String: Int] = [:]
        for (i, r) in regions.enumerated() {
            byCode[r.code] = i
            if let iso = r.iso { byISO[iso.uppercased()] = i }
        }
        self.byCode = byCode
        self.byISO = byISO
    }

    /// Finds a region by ISO 3166-2 code (`RU-PER`, any case) or two-digit code (`59`).
    public func region(_ key: String) -> Region? {
        if let i = byISO[key.uppercased()] ?? byCode[key] { return regions[i] }
        if key.count == 1, let i = byCode["0" + key] { return regions[i] }
        return nil
    }

    /// The region whose polygon contains the point, if any.
    public func region(containing point: Coordinate) -> Region? {
        regions.first { $0.boundary?.contains(point) ?? false }
    }

    /// The region with a polygon nearest to a point outside them all, and how far it is.
    public func nearestRegion(to point: Coordinate) -> (region: Region, km: Double)? {
        regions.compactMap { r in r.boundary.map { (r, $0.approximateDistanceKm(to: point)) } }
            .min { $0.1 < $1.1 }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
