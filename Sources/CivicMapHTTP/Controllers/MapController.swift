import CivicMapCore
import Hummingbird

/// What the map page needs beyond OGC API – Features: its settings, server-side aggregation
/// for low zooms, the categories in use, and geodesic remoteness rings.
struct MapController {
    let source: any FeatureSource
    let tiles: any TileSource
    let configuration: CivicMapConfiguration
    /// Above this many matches in view the page shows aggregated cells instead of features.
    static let detailLimit = 2000

    func addRoutes(to router: RouteTable) {
        router.get("/map-config.json", use: mapConfig)
        router.get("/overview", use: overview)
        router.get("/categories", use: categories)
        router.get("/rings", use: ring)
    }

    @Sendable func mapConfig(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try FeatureQueryParser.uniqueValues(try QueryParameters.parse(request), allowed: [])
        var w = JSONWriter()
        w.beginObject()
        w.key("tiles"); w.beginObject()
        w.key("url"); w.string(configuration.tileURL)
        w.key("attribution"); w.string(configuration.tileAttribution)
        w.key("maxZoom"); w.int(19)
        w.endObject()
        w.key("localTiles"); w.beginArray()
        for set in tiles.tilesets() {
            w.beginObject()
            w.key("name"); w.string(set.name)
            w.key("url"); w.string("/tiles/\(set.name)/{z}/{x}/{y}.\(set.format)")
            w.key("minZoom"); w.int(set.minZoom)
            w.key("maxZoom"); w.int(set.maxZoom)
            w.key("attribution"); w.string(set.attribution)
            w.endObject()
        }
        w.endArray()
        w.key("remoteThresholdKm"); w.number(configuration.remoteThresholdKm, decimals: 3)
        w.key("detailLimit"); w.int(Self.detailLimit)
        w.key("kinds"); w.beginArray()
        for k in try await source.kinds() {
            w.beginObject()
            w.key("id"); w.string(k.kind.rawValue); w.key("title_ru"); w.string(k.titleRU); w.key("title_en"); w.string(k.titleEN)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return Responses.json(w)
    }

    /// `/overview?bbox=…&zoom=…&<filters>`: counts on a grid about 64 screen pixels wide.
    @Sendable func overview(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let parameters = try QueryParameters.parse(request)
        for name in ["limit", "offset", "sortby", "near"] where parameters.contains(where: { $0.name == name }) {
            throw CivicMapError.invalidParameter(name: name, reason: "not used by /overview")
        }
        var zoom = 4
        if let text = parameters.first(where: { $0.name == "zoom" })?.value {
            guard let z = Int(text), (0...22).contains(z) else { throw CivicMapError.invalidParameter(name: "zoom", reason: "must be an integer 0…22") }
            zoom = z
        }
        let kinds = try await source.kinds().map(\.kind)
        let collection = Catalog.Collection(id: Catalog.organisationsID, title: "", description: "", kinds: kinds)
        let query = try await FeatureRequest(source: source, configuration: configuration)
            .query(request, collection: collection, kinds: kinds, paged: false, alsoAllowed: ["zoom", "f"])
        _ = try Format.negotiate(request, parameters: parameters)
        let cellDegrees = 360 / Double(1 << zoom) / 4
        // Cap the answer's size: a fine grid needs a small box.
        let box = query.bbox ?? BoundingBox(west: -180, south: -90, east: 180, north: 90)
        let width = box.longitudeRanges.reduce(0) { $0 + $1.upperBound - $1.lowerBound }
        let cells = (width / cellDegrees).rounded(.up) * ((box.north - box.south) / cellDegrees).rounded(.up)
        guard cells <= 65_536 else {
            throw CivicMapError.invalidParameter(name: query.bbox == nil ? "bbox" : "zoom", reason: "zoom \(zoom) over this area makes \(Int(cells)) cells (at most 65536); give a smaller bbox or a lower zoom")
        }
        let result = try await source.overview(matching: query, cellDegrees: cellDegrees)
        var w = JSONWriter(capacity: 256 + result.cells.count * 120)
        w.beginObject()
        w.key("numberMatched"); w.int(result.numberMatched)
        w.key("cellDegrees"); w.number(cellDegrees, decimals: 9)
        w.key("byKind"); writeCounts(result.byKind, kinds: kinds, to: &w)
        w.key("cells"); w.beginArray()
        for cell in result.cells {
            w.beginObject()
            w.key("lon"); w.number(cell.longitude)
            w.key("lat"); w.number(cell.latitude)
            w.key("count"); w.int(cell.count)
            w.key("byKind"); writeCounts(cell.byKind, kinds: kinds, to: &w)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return Responses.json(w)
    }

    private func writeCounts(_ counts: [OrganisationKind: Int], kinds: [OrganisationKind], to w: inout JSONWriter) {
        w.beginObject()
        for k in kinds { w.key(k.rawValue); w.int(counts[k] ?? 0) }
        w.endObject()
    }

    @Sendable func categories(_ request: Request, context: BasicRequestContext) async throws -> Response {
        try QueryParameters.requireOnlyFormat(request)
        var w = JSONWriter()
        w.beginObject()
        w.key("categories"); w.beginArray()
        for c in try await source.categories() {
            w.beginObject(); w.key("name"); w.string(c.name); w.key("count"); w.int(c.count); w.endObject()
        }
        w.endArray()
        w.endObject()
        return Responses.json(w)
    }

    /// `/rings?region_iso=RU-PER&km=50`: the geodesic circle of that radius around the region's
    /// administrative centre, as a GeoJSON Feature.
    @Sendable func ring(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let parameters = try QueryParameters.parse(request)
        let values = try FeatureQueryParser.uniqueValues(parameters, allowed: ["region_iso", "km", "f"])
        _ = try Format.negotiate(request, parameters: parameters)
        guard let key = values["region_iso"] else { throw CivicMapError.invalidParameter(name: "region_iso", reason: "is required") }
        guard let region = try await source.regions().region(key) else {
            throw CivicMapError.invalidParameter(name: "region_iso", reason: "unknown region '\(key)'")
        }
        let kmText = values["km"] ?? "50"
        guard let km = Double.decimal(kmText), km > 0, km <= 3000 else {
            throw CivicMapError.invalidParameter(name: "km", reason: "must be a number of kilometres in (0, 3000]")
        }
        // A circle around the pole is no ring on a Web Mercator map: stay short of it.
        let pole = Coordinate(trustedLatitude: region.centre.latitude >= 0 ? 90 : -90, longitude: region.centre.longitude)
        let toPoleKm = Geodesic.wgs84.distance(from: region.centre, to: pole) / 1000
        guard km < toPoleKm - 100 else {
            throw CivicMapError.invalidParameter(name: "km", reason: "must be less than \(Int(toPoleKm - 100)) km here: a larger ring would enclose the pole")
        }
        let ring = Geodesic.wgs84.circleParts(around: region.centre, metres: km * 1000)
        var w = JSONWriter(capacity: 8192)
        GeoJSON.writeRing(ring, properties: { w in
            w.key("region_iso"); w.string(region.iso ?? region.code)
            w.key("km"); w.number(km)
            w.key("centre_name"); w.string(region.centreNameRU)
            w.key("centre_lat"); w.number(region.centre.latitude)
            w.key("centre_lon"); w.number(region.centre.longitude)
        }, to: &w)
        return Responses.json(w, contentType: Responses.geoJSON)
    }
}
