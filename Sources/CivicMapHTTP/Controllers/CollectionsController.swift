import CivicMapCore
import Foundation
import Hummingbird

/// `/collections…`: the catalogue, one collection, its items and single features.
struct CollectionsController {
    let source: any FeatureSource
    let baseURL: BaseURL
    let configuration: CivicMapConfiguration

    func addRoutes(to router: RouteTable) {
        router.get("/collections", use: collections)
        router.get("/collections/:collectionId", use: collection)
        router.get("/collections/:collectionId/queryables", use: queryables)
        router.get("/collections/:collectionId/schema", use: schema)
        router.get("/collections/:collectionId/items", use: items)
        router.get("/collections/:collectionId/items/:featureId", use: item)
    }

    private func catalog() async throws -> Catalog { Catalog(kinds: try await source.kinds()) }


    @Sendable func collections(_ request: Request, context: BasicRequestContext) async throws -> Response {
        try QueryParameters.requireOnlyFormat(request, ignoringItemParameters: true)
        let base = baseURL(request)
        var w = JSONWriter()
        w.beginObject()
        w.key("links"); w.beginArray()
        Responses.link(&w, href: "\(base)/collections", rel: "self", type: Responses.json)
        w.endArray()
        w.key("collections"); w.beginArray()
        for c in try await catalog().collections { try await writeCollection(c, base: base, to: &w) }
        w.endArray()
        w.endObject()
        return Responses.json(w)
    }

    @Sendable func collection(_ request: Request, context: BasicRequestContext) async throws -> Response {
        try QueryParameters.requireOnlyFormat(request, ignoringItemParameters: true)
        let c = try await catalog().collection(context.parameters.get("collectionId") ?? "")
        var w = JSONWriter()
        try await writeCollection(c, base: baseURL(request), to: &w)
        return Responses.json(w)
    }

    private func writeCollection(_ c: Catalog.Collection, base: String, to w: inout JSONWriter) async throws {
        let url = "\(base)/collections/\(c.id)"
        w.beginObject()
        w.key("id"); w.string(c.id)
        w.key("title"); w.string(c.title)
        w.key("description"); w.string(c.description)
        w.key("itemType"); w.string("feature")
        w.key("crs"); w.strings([FeatureQueryParser.crs84])
        let extent: BoundingBox?
        if let kinds = c.kinds { extent = try await source.extent(of: kinds) } else { extent = try await regionsExtent() }
        if let e = extent {
            w.key("extent"); w.beginObject()
            w.key("spatial"); w.beginObject()
            w.key("bbox"); w.beginArray(); w.beginArray()
            for v in [e.west, e.south, e.east, e.north] { w.number(v) }
            w.endArray(); w.endArray()
            w.key("crs"); w.string(FeatureQueryParser.crs84)
            w.endObject()
            w.endObject()
        }
        w.key("links"); w.beginArray()
        Responses.link(&w, href: url, rel: "self", type: Responses.json, title: c.title)
        Responses.link(&w, href: "\(url)/items?f=json", rel: "items", type: Responses.geoJSON, title: "Items")
        Responses.link(&w, href: "\(url)/queryables", rel: "http://www.opengis.net/def/rel/ogc/1.0/queryables", type: "application/schema+json", title: "Queryables")
        if c.kinds != nil {
            // The standard relation, and the spelling GDAL (3.6) looks for.
            for rel in ["describedby", "describedBy", "http://www.opengis.net/def/rel/ogc/1.0/schema"] {
                Responses.link(&w, href: "\(url)/schema", rel: rel, type: "application/schema+json", title: "Schema of a Feature")
            }
            Responses.link(&w, href: "\(base)/export/\(c.id).geojson", rel: "enclosure", type: Responses.geoJSON, title: "Everything as GeoJSON")
            Responses.link(&w, href: "\(base)/export/\(c.id).csv", rel: "enclosure", type: "text/csv", title: "Everything as CSV")
        }
        w.endArray()
        w.endObject()
    }

    /// The outlines' polygons' bounds, the short way round the antimeridian (Chukotka's
    /// outline is split at ±180°: as one box it would span the world).
    private func regionsExtent() async throws -> BoundingBox? {
        let bounds = try await source.regions().regions.flatMap { $0.boundary?.polygonBounds ?? [] }
        guard let south = bounds.map(\.south).min(), let north = bounds.map(\.north).max() else { return nil }
        return BoundingBox.enclosing(bounds.map { (west: $0.west, east: $0.east) }, south: south, north: north)
    }

    /// Properties clients may filter on as `name=value` (GDAL reads this for server-side filters).
    @Sendable func queryables(_ request: Request, context: BasicRequestContext) async throws -> Response {
        try QueryParameters.requireOnlyFormat(request, ignoringItemParameters: true)
        let c = try await catalog().collection(context.parameters.get("collectionId") ?? "")
        var w = JSONWriter()
        w.beginObject()
        w.key("$schema"); w.string("https://json-schema.org/draft/2019-09/schema")
        w.key("$id"); w.string("\(baseURL(request))/collections/\(c.id)/queryables")
        w.key("type"); w.string("object")
        w.key("title"); w.string(c.title)
        w.key("properties"); w.beginObject()
        if let kinds = c.kinds {
            // With their values, so that QGIS and other clients can offer them in a list.
            let isoCodes = try await source.regions().regions.compactMap(\.iso).sorted()
            for (name, title, values) in [("kind", "Вид", kinds.map(\.rawValue)), ("region_iso", "Регион (ISO 3166-2)", isoCodes), ("categories", "Категория", [])] {
                w.key(name); w.beginObject()
                w.key("title"); w.string(title)
                w.key("type"); w.string("string")
                if !values.isEmpty { w.key("enum"); w.strings(values) }
                w.endObject()
            }
        }
        w.endObject()
        w.endObject()
        return Responses.json(w, contentType: "application/schema+json")
    }

    /// A Feature of the collection as JSON Schema (OGC API – Features Part 5), linked as the
    /// collection's `describedby`: GDAL and QGIS take their field types from it. One type per
    /// property (GDAL reads no type lists); any value but the name, kind and region may be null.
    @Sendable func schema(_ request: Request, context: BasicRequestContext) async throws -> Response {
        try QueryParameters.requireOnlyFormat(request, ignoringItemParameters: true)
        let c = try await catalog().collection(context.parameters.get("collectionId") ?? "")
        guard let kinds = c.kinds else { throw CivicMapError.notFound("schema of collection '\(c.id)' (organisation collections have one)") }
        /// `{"type": name, "format": format, …body}`
        func type(_ w: inout JSONWriter, _ name: String, format: String? = nil, _ body: (inout JSONWriter) -> Void = { _ in }) {
            w.beginObject()
            w.key("type"); w.string(name)
            if let format { w.key("format"); w.string(format) }
            body(&w)
            w.endObject()
        }
        var w = JSONWriter(capacity: 4096)
        w.beginObject()
        w.key("$schema"); w.string("https://json-schema.org/draft/2020-12/schema")
        w.key("$id"); w.string("\(baseURL(request))/collections/\(c.id)/schema")
        w.key("title"); w.string(c.title)
        w.key("type"); w.string("object")
        w.key("required"); w.strings(["type", "id", "geometry", "properties"])
        w.key("properties"); w.beginObject()
        w.key("type"); type(&w, "string") { $0.key("enum"); $0.strings(["Feature"]) }
        w.key("id"); type(&w, "integer")
        w.key("geometry"); type(&w, "object") { w in
            w.key("properties"); w.beginObject()
            w.key("type"); type(&w, "string") { $0.key("enum"); $0.strings(["Point"]) }
            w.key("coordinates"); type(&w, "array") { w in
                w.key("minItems"); w.int(2); w.key("maxItems"); w.int(2)
                w.key("items"); type(&w, "number")
            }
            w.endObject()
        }
        w.key("properties"); type(&w, "object") { w in
            w.key("required"); w.strings(["name", "kind", "region_iso", "region_code"])
            w.key("properties"); w.beginObject()
            for p in GeoJSON.propertyTypes {
                w.key(p.name)
                switch p.name {
                case "kind": type(&w, "string") { $0.key("enum"); $0.strings(kinds.map(\.rawValue)) }
                case "categories": type(&w, "array") { $0.key("items"); type(&$0, "string") }
                default: type(&w, p.type, format: p.format)
                }
            }
            w.key("distance_km"); type(&w, "number") { $0.key("description"); $0.string("From near=lon,lat, in km: only when the request gives near") }
            if kinds.contains(.internshipSite) {
                w.key("programmes"); type(&w, "array") { $0.key("items"); type(&$0, "object") }
            }
            w.endObject()
        }
        w.endObject()
        w.endObject()
        return Responses.json(w, contentType: "application/schema+json")
    }

    @Sendable func items(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let catalog = try await catalog()
        let c = try catalog.collection(context.parameters.get("collectionId") ?? "")
        let parameters = try QueryParameters.parse(request)
        _ = try Format.negotiate(request, parameters: parameters, csvElsewhere: c.kinds == nil ? nil : "/export/\(c.id).csv takes the same filters")
        let requested = Date()
        let base = baseURL(request)
        let itemsURL = "\(base)/collections/\(c.id)/items"
        guard c.kinds != nil else { return try await regionItems(request, parameters: parameters, itemsURL: itemsURL) }

        let query = try await FeatureRequest(source: source, configuration: configuration)
            .query(request, collection: c, kinds: catalog.collections[0].kinds ?? [], paged: true)
        let page = try await source.features(matching: query)
        // A page read again at the same data version says the same (only its timeStamp moves):
        // a client on a slow line revalidates it, and a 304 spares it the features.
        let tag = page.dataVersion.map { EntityTag.of(Array("\(Self.processTag) \($0) \(base)\(request.uri)".utf8)) }
        if let tag, let known = request.headers[.ifNoneMatch], EntityTag.ifNoneMatch(known, matches: tag) {
            return Response(status: .notModified, headers: [.eTag: "W/" + tag, .cacheControl: "no-cache"])
        }
        var w = JSONWriter(capacity: 1024 + page.features.reduce(0) { $0 + $1.bytes.count + 1 })
        w.beginObject()
        w.key("type"); w.string("FeatureCollection")
        w.key("numberMatched"); w.int(page.numberMatched)
        w.key("numberReturned"); w.int(page.features.count)
        w.key("timeStamp"); w.string(Responses.timeStamp(requested))
        Responses.pagingLinks(&w, url: itemsURL, parameters: parameters, limit: query.limit ?? 0, offset: query.offset,
                         returned: page.features.count, matched: page.numberMatched)
        w.key("features"); w.beginArray()
        for f in page.features { w.encoded(f.bytes) }
        w.endArray()
        w.endObject()
        var response = Responses.json(w, contentType: Responses.geoJSON)
        if let tag {
            response.headers[.eTag] = "W/" + tag
            response.headers[.cacheControl] = "no-cache"
        }
        return response
    }

    /// Pages' entity tags hold it: another process (a new version, say) may encode otherwise.
    private static let processTag = String(UInt64.random(in: 0...UInt64.max), radix: 36)

    /// The regions collection: 89 rows, filtered in memory (bbox on outline or centre).
    private func regionItems(_ request: Request, parameters: [(name: String, value: String)], itemsURL: String) async throws -> Response {
        _ = try FeatureQueryParser.uniqueValues(parameters, allowed: ["f", "bbox", "bbox-crs", "limit", "offset", "datetime"])
        let parser = FeatureQueryParser(kinds: [], regions: RegionDirectory([]), defaultLimit: configuration.defaultLimit, maximumLimit: configuration.maximumLimit)
        let query = try parser.parse(parameters.filter { $0.name != "f" }, collectionKinds: [], paged: true)
        var regions = try await source.regions().regions
        if let box = query.bbox {
            regions = regions.filter { r in r.boundary?.boundsIntersect(box) ?? box.contains(r.centre) }
        }
        let limit = query.limit ?? configuration.defaultLimit
        let page = regions.dropFirst(query.offset).prefix(limit)
        var w = JSONWriter(capacity: 1 << 20)
        w.beginObject()
        w.key("type"); w.string("FeatureCollection")
        w.key("numberMatched"); w.int(regions.count)
        w.key("numberReturned"); w.int(page.count)
        w.key("timeStamp"); w.string(Responses.timeStamp())
        Responses.pagingLinks(&w, url: itemsURL, parameters: parameters, limit: limit, offset: query.offset, returned: page.count, matched: regions.count)
        w.key("features")
        let featuresStart = w.bytes.count
        w.beginArray()
        for r in page { GeoJSON.writeFeature(r, to: &w) }
        w.endArray()
        w.endObject()
        // The outlines are 2.25 MB (0.9 MB gzipped) that every map load asks for and that change
        // only with a region's centre: a browser revalidates its copy and gets a 304. The tag
        // covers the features and the URL (which make the links and counts), not the timeStamp.
        let tag = "W/" + EntityTag.of(Array(w.bytes[featuresStart...]) + Array("\(itemsURL) \(request.uri)".utf8))
        if let known = request.headers[.ifNoneMatch], EntityTag.ifNoneMatch(known, matches: String(tag.dropFirst(2))) {
            return Response(status: .notModified, headers: [.eTag: tag, .cacheControl: "no-cache"])
        }
        var response = Responses.json(w, contentType: Responses.geoJSON)
        response.headers[.eTag] = tag
        response.headers[.cacheControl] = "no-cache"
        return response
    }

    @Sendable func item(_ request: Request, context: BasicRequestContext) async throws -> Response {
        try QueryParameters.requireOnlyFormat(request)
        let c = try await catalog().collection(context.parameters.get("collectionId") ?? "")
        let featureID = context.parameters.get("featureId") ?? ""
        let base = baseURL(request)
        if c.kinds == nil {
            // A region's id is its two-digit code; its ISO 3166-2 code names it too, as everywhere else
            // (the one-digit form the directory also reads, `5`, is no id).
            guard featureID.count > 1, let region = try await source.regions().region(featureID) else {
                throw CivicMapError.notFound("feature '\(featureID)' in collection '\(c.id)' (a region's id is its two-digit code or ISO code, 59 or RU-PER)")
            }
            var w = JSONWriter(capacity: 2048)
            GeoJSON.writeFeature(region, to: &w)
            if let known = request.headers[.ifNoneMatch], EntityTag.ifNoneMatch(known, matches: EntityTag.of(w.bytes)) {
                return Response(status: .notModified, headers: [.eTag: EntityTag.of(w.bytes)])
            }
            return Responses.feature(w.bytes, base: base, collection: c.id, id: region.code)
        }
        // Only the canonical form of an id names a feature (`+1` and `01` do not).
        guard let id = Int64(featureID), id > 0, String(id) == featureID, let feature = try await source.feature(id: id),
            c.kinds!.contains(feature.kind)
        else {
            throw CivicMapError.notFound("feature '\(featureID)' in collection '\(c.id)'")
        }
        // The entity tag is the stored Feature's, what a change must name in If-Match.
        let tag = EntityTag.of(feature.bytes)
        if let known = request.headers[.ifNoneMatch], EntityTag.ifNoneMatch(known, matches: tag) {
            return Response(status: .notModified, headers: [.eTag: tag])
        }
        return Responses.feature(feature.bytes, base: base, collection: c.id, id: featureID)
    }
}
