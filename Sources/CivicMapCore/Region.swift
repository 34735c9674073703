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

    /// As messages name it: `RU-PER Пермский край`.
    public var label: String { "\(iso ?? code) \(nameRU)" }

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
    public let polygons: [[[Coordinate]]]
    public let bounds: BoundingBox
    /// Each polygon's own bounds.
    public var polygonBounds: [BoundingBox] { index.map(\.bounds) }
    /// Per polygon: its bounds and its rings' edges bucketed by latitude band, so a point-in-
    /// polygon test reads only the edges its ray can cross (coastal regions have tens of
    /// thousands of vertices and hundreds of islands).
    private let index: [(bounds: BoundingBox, rings: [RingIndex])]

    public init(polygons: [[[Coordinate]]]) {
        self.polygons = polygons
        index = polygons.map { rings in (Self.bounds(of: rings.first ?? []), rings.map(RingIndex.init)) }
        bounds = Self.bounds(of: polygons.flatMap { $0.first ?? [] })
    }

    public static func == (a: MultiPolygon, b: MultiPolygon) -> Bool { a.polygons == b.polygons }

    /// Whether any polygon's own bounds meet the box (a region split at ±180° spans the whole
    /// longitude range overall, but none of its parts does).
    public func boundsIntersect(_ box: BoundingBox) -> Bool {
        index.contains { polygon in
            let b = polygon.bounds
            return box.south <= b.north && box.north >= b.south
                && box.longitudeRanges.contains { $0.lowerBound <= b.east && $0.upperBound >= b.west }
        }
    }

    /// Even-odd ray casting, polygon by polygon: inside an outer ring and in none of its holes.
    public func contains(_ point: Coordinate) -> Bool {
        guard bounds.contains(point) else { return false }
        return index.contains { polygon in
            guard polygon.bounds.contains(point), let outer = polygon.rings.first, outer.contains(point) else { return false }
            return !polygon.rings.dropFirst().contains { $0.contains(point) }
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

    /// A lower bound of the distance in km from a point to these bounds (0 inside), to skip
    /// far regions before measuring edges.
    func boundsDistanceKm(to p: Coordinate) -> Double {
        let dLat = max(0, bounds.south - p.latitude, p.latitude - bounds.north)
        let dLon = max(0, bounds.west - p.longitude, p.longitude - bounds.east)
        let scale = cos(min(89, max(abs(p.latitude), abs(bounds.south), abs(bounds.north))) * .pi / 180)
        return (dLat * dLat + dLon * scale * dLon * scale).squareRoot() * 111.195
    }

    private static func bounds(of ring: [Coordinate]) -> BoundingBox {
        BoundingBox(
            west: ring.map(\.longitude).min() ?? 0, south: ring.map(\.latitude).min() ?? 0,
            east: ring.map(\.longitude).max() ?? 0, north: ring.map(\.latitude).max() ?? 0)
    }
}

/// One ring's vertices with its edges bucketed into latitude bands.
struct RingIndex: Sendable {
    private let lats: [Double]
    private let lons: [Double]
    private let south: Double
    private let north: Double
    private let bandHeight: Double
    /// Edge k joins vertex k and k + 1.
    private let bands: [[Int32]]

    init(_ ring: [Coordinate]) {
        var points = ring
        if let first = points.first, first != points.last { points.append(first) }
        lats = points.map(\.latitude)
        lons = points.map(\.longitude)
        let edges = max(0, points.count - 1)
        south = lats.min() ?? 0
        north = lats.max() ?? 0
        let count = max(1, min(4096, edges / 4))
        bandHeight = max((north - south) / Double(count), 1e-12)
        var bands = [[Int32]](repeating: [], count: count)
        for k in 0..<edges {
            let lo = min(lats[k], lats[k + 1]), hi = max(lats[k], lats[k + 1])
            let first = max(0, min(count - 1, Int((lo - south) / bandHeight)))
            let last = max(0, min(count - 1, Int((hi - south) / bandHeight)))
            for band in first...last { bands[band].append(Int32(k)) }
        }
        self.bands = bands
    }

    func contains(_ p: Coordinate) -> Bool {
        guard p.latitude >= south, p.latitude <= north else { return false }
        var inside = false
        for k32 in bands[min(Int((p.latitude - south) / bandHeight), bands.count - 1)] {
            let k = Int(k32)
            let aLat = lats[k], bLat = lats[k + 1]
            if (aLat > p.latitude) != (bLat > p.latitude) {
                let x = (lons[k + 1] - lons[k]) * (p.latitude - aLat) / (bLat - aLat) + lons[k]
                if p.longitude < x { inside.toggle() }
            }
        }
        return inside
    }
}

/// All regions, indexed for look-ups by code or ISO code and for point-in-polygon.
public struct RegionDirectory: Sendable {
    public let regions: [Region]
    private let byCode: [String: Int]
    private let byISO: [String: Int]
    private let byName: [String: Int]

    /// Built once per version of the regions (the store caches it); hashing the names per
    /// request cost W1 6–8% when the HTTP layer still made a directory for each.
    public init(_ regions: [Region]) {
        self.regions = regions
        var byCode: [String: Int] = [:], byISO: [String: Int] = [:], byName: [String: Int] = [:]
        for (i, r) in regions.enumerated() {
            byCode[r.code] = i
            if let iso = r.iso { byISO[iso.uppercased()] = i }
            for name in Self.spellings(of: r) { byName[name] = i }
        }
        self.byCode = byCode
        self.byISO = byISO
        self.byName = byName
    }

    /// Finds a region by its Russian or English name as exports write it (any case, ё as е, any
    /// spacing), or as people shorten it: «Башкортостан», «Якутия», «Саха», «Москва».
    public func region(named name: String) -> Region? {
        byName[ImportColumns.normalise(name)].map { regions[$0] }
    }

    /// A region's names, normalised: Russian and English; without «Республика» or «г.» before
    /// them; each part of «Саха (Якутия)» and «Кемеровская область — Кузбасс»; a federal city
    /// with «г.».
    static func spellings(of r: Region) -> Set<String> {
        var names: Set<String> = []
        func add(_ name: String) {
            let n = ImportColumns.normalise(name)
            guard !n.isEmpty, names.insert(n).inserted else { return }
            for word in ["республика ", "republic of ", "г. ", "город "] where n.hasPrefix(word) { add(String(n.dropFirst(word.count))) }
            for separator in [" — ", " - "] where n.contains(separator) { n.split(separator: separator).map(String.init).forEach(add) }
            if let open = n.firstIndex(of: "("), n.hasSuffix(")") {
                add(String(n[..<open]))
                add(String(n[n.index(after: open)..<n.index(before: n.endIndex)]))
            }
        }
        add(r.nameRU)
        add(r.nameEN)
        if !r.nameRU.contains(" ") { add("г. " + r.nameRU); add("город " + r.nameRU) }
        return names
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
        var best: (region: Region, km: Double)?
        let candidates = regions.compactMap { r in r.boundary.map { (r, $0, $0.boundsDistanceKm(to: point)) } }
            .sorted { $0.2 < $1.2 }
        for (region, boundary, lowerBound) in candidates {
            if let best, lowerBound >= best.km { break }
            let km = boundary.approximateDistanceKm(to: point)
            if km < best?.km ?? .infinity { best = (region, km) }
        }
        return best
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
