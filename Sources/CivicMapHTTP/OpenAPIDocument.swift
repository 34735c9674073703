import CivicMapCore
import Foundation

/// The OpenAPI 3.0 definition, declared the way the OGC test suite, GDAL and OWSLib read it:
/// `limit` and `bbox` with form style and bounds, `datetime` declared, every error as problem+json.
enum OpenAPIDocument {
    /// A day or a UTC time to the second, as `/audit` reads them.
    static let auditTime = #"^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)?$"#
    static var etagHeader: [String: Any] { ["description": "Entity tag of the stored Feature; send it as If-Match to change it.", "schema": ["type": "string"]] }

    /// The write API (OGC API – Features Part 4): every operation needs a bearer token, and
    /// changes to an existing Feature its ETag.
    static func writeOperations(
        organisationCollectionID: [String: Any], kinds: [String], problem: [String: Any], id: [String: Any], f: [String: Any]
    ) -> [String: [String: Any]] {
        let featureID: [String: Any] = ["name": "featureId", "in": "path", "required": true, "schema": id, "example": 1]
        let ifMatch: [String: Any] = ["name": "If-Match", "in": "header", "required": true,
                                      "description": "The ETag of the Feature as read; a change since is refused (412).", "schema": ["type": "string"]]
        let point: [String: Any] = ["type": "object", "required": ["type", "coordinates"], "properties": [
            "type": ["type": "string", "enum": ["Point"]],
            "coordinates": ["type": "array", "minItems": 2, "maxItems": 2, "items": ["type": "number"]],
        ]]
        let properties: [String: Any] = ["type": "object", "properties": [
            "name": ["type": "string", "minLength": 1, "maxLength": 500], "kind": ["type": "string", "enum": kinds],
            "region_iso": ["type": "string"], "settlement": ["type": "string"], "address": ["type": "string"],
            "inn": ["type": "string", "pattern": "^[0-9]{10}([0-9]{2})?$"], "ogrn": ["type": "string", "pattern": "^[0-9]{13}([0-9]{2})?$"],
            "categories": ["type": "array", "items": ["type": "string"]], "founded_year": ["type": "integer"],
            "website": ["type": "string"], "email": ["type": "string"], "phone": ["type": "string"], "description": ["type": "string"],
            "source": ["type": "string"], "programmes": ["type": "array", "items": ["type": "object"]],
        ] as [String: Any]]
        let feature: [String: Any] = ["type": "object", "required": ["type", "geometry", "properties"], "properties": [
            "type": ["type": "string", "enum": ["Feature"]], "geometry": point, "properties": properties,
        ] as [String: Any]]
        let example: [String: Any] = ["type": "Feature", "geometry": ["type": "Point", "coordinates": [56.2502, 58.0105]],
                                      "properties": ["name": "АНО «Пример»", "kind": "ngo", "settlement": "Пермь", "categories": ["экология"]]]
        let featureBody: [String: Any] = ["required": true, "content": [
            "application/geo+json": ["schema": feature, "example": example], "application/json": ["schema": feature, "example": example]]]
        let patchBody: [String: Any] = ["required": true, "content": ["application/merge-patch+json": ["schema": ["type": "object"]]]]
        let featureContent: [String: Any] = ["application/geo+json": ["schema": ["type": "object"]]]
        func operation(_ summary: String, _ operationID: String, _ parameters: [[String: Any]], body: [String: Any]?,
                       success: (String, [String: Any]),
                       errors: [String] = ["400", "401", "403", "404", "405", "409", "412", "413", "415", "422", "428", "500", "503"]) -> [String: Any] {
            var responses: [String: Any] = [success.0: success.1]
            for code in errors { responses[code] = problem }
            var op: [String: Any] = ["summary": summary, "operationId": operationID, "parameters": parameters,
                                     "security": [["bearer": [String]()]], "responses": responses]
            if let body { op["requestBody"] = body }
            return op
        }
        let count: [String: Any] = ["type": "integer", "minimum": 0]
        let problems: [String: Any] = ["type": "array", "items": ["type": "object", "properties": [
            "line": ["type": "integer"], "field": ["type": "string"], "reason": ["type": "string"]]]]
        let importReport: [String: Any] = [
            "written": ["type": "boolean"], "dry_run": ["type": "boolean"], "would_write": ["type": "boolean"],
            "audit_entry": ["type": "integer", "description": "The import's audit entry (when it wrote): POST /audit/{entryId}/revert undoes it"],
            "added": count, "updated": count, "unchanged": count, "rejected": count,
            "read_as": ["type": "string", "nullable": true], "ignored_columns": ["type": "array", "items": ["type": "string"]],
            "errors": problems, "warnings": problems, "changes": problems,
            "errors_total": count, "warnings_total": count, "changes_total": count,
        ]
        let revertReport: [String: Any] = [
            "reverted": ["type": "object", "properties": [
                "id": ["type": "integer"], "at": ["type": "string"], "actor": ["type": "string"], "action": ["type": "string"],
                "organization_id": ["type": "integer", "nullable": true]]],
            "revert_entry": ["type": "integer"], "removed": count, "restored": count, "revived": count,
        ]
        let changed: (String, [String: Any]) = ("200", ["description": "The Feature as stored", "content": featureContent, "headers": ["ETag": etagHeader]])
        return [
            "/collections/{collectionId}/items": ["post": operation(
                "Add an organisation (its id is assigned)", "createFeature", [organisationCollectionID, f], body: featureBody,
                success: ("201", ["description": "Created", "content": featureContent,
                                  "headers": ["ETag": etagHeader, "Location": ["description": "The new Feature", "schema": ["type": "string"]]]]))],
            "/collections/{collectionId}/items/{featureId}": [
                "put": operation("Replace an organisation", "replaceFeature", [organisationCollectionID, featureID, ifMatch, f], body: featureBody, success: changed),
                "patch": operation("Change some fields (JSON Merge Patch, RFC 7396)", "updateFeature", [organisationCollectionID, featureID, ifMatch, f],
                                   body: patchBody, success: changed),
                "delete": operation("Delete an organisation", "deleteFeature", [organisationCollectionID, featureID, ifMatch, f], body: nil,
                                    success: ("204", ["description": "Deleted"])),
            ],
            "/import": ["post": operation(
                "Import a CSV or GeoJSON file of organisations (all or nothing unless partial; a scoped token: its region only)", "importOrganisations", [
                    ["name": "partial", "in": "query", "required": false, "description": "Write the valid rows even if others are refused",
                     "schema": ["type": "boolean", "default": false]],
                    ["name": "dry_run", "in": "query", "required": false, "description": "Validate and count; write nothing",
                     "schema": ["type": "boolean", "default": false]],
                    ["name": "changes", "in": "query", "required": false, "description": "List what each updated organisation's row changes, old → new",
                     "schema": ["type": "boolean", "default": false]], f,
                ], body: ["required": true, "content": [
                    "text/csv": ["schema": ["type": "string"],
                                 "example": "name,kind,region_iso,settlement,lat,lon\nАНО «Пример»,ngo,RU-PER,Пермь,58.0105,56.2502\n"],
                    "application/geo+json": ["schema": ["type": "object"]], "application/json": ["schema": ["type": "object"]],
                ] as [String: Any]],
                success: ("200", ["description": "What the import did (or, with dry_run, would do): counts, errors, warnings, changes",
                                  "content": ["application/json": ["schema": ["type": "object", "required": ["written", "added", "updated", "unchanged", "rejected"],
                                                                              "properties": importReport]]]]),
                // A refused all-or-nothing import's 422 carries the same report as members of its problem.
                errors: ["400", "401", "403", "413", "415", "422", "500", "503"])],
            "/audit": ["get": operation("Every change: who, when, the Feature before and after (admins; other tokens see their own entries)", "getAudit", [
                ["name": "organization", "in": "query", "required": false, "schema": id],
                ["name": "actor", "in": "query", "required": false, "schema": ["type": "string", "minLength": 1, "maxLength": 100]],
                ["name": "action", "in": "query", "required": false, "schema": ["type": "string", "enum": AuditAction.allCases.map(\.rawValue)]],
                ["name": "since", "in": "query", "required": false, "description": "From this day (YYYY-MM-DD) or UTC time (YYYY-MM-DDThh:mm:ssZ) on",
                 "schema": ["type": "string", "pattern": auditTime]],
                ["name": "until", "in": "query", "required": false, "description": "Up to this day (all of it) or UTC time",
                 "schema": ["type": "string", "pattern": auditTime]],
                ["name": "limit", "in": "query", "required": false, "schema": ["type": "integer", "minimum": 1, "maximum": 1000, "default": 100]],
                ["name": "offset", "in": "query", "required": false, "schema": ["type": "integer", "minimum": 0, "default": 0]], f,
            ], body: nil, success: ("200", ["description": "Audit entries, newest first", "content": ["application/json": ["schema": ["type": "object"]]]]))],
            "/audit/{entryId}/revert": ["post": operation(
                "Undo an audit entry: one change, or a whole import (admins: any entry; other tokens: their own)", "revertAuditEntry", [
                    ["name": "entryId", "in": "path", "required": true, "schema": id], f,
                ], body: nil,
                success: ("200", ["description": "The entry undone, the revert's own entry, and the organisations removed, restored and revived",
                                  "content": ["application/json": ["schema": ["type": "object",
                                                                              "required": ["reverted", "revert_entry", "removed", "restored", "revived"],
                                                                              "properties": revertReport]]]]),
                // 409: a later entry changed what it wrote (revert that first), or a restore came after it.
                errors: ["400", "401", "403", "404", "409", "500", "503"])],
        ]
    }

    static func build(serverURL: String, collectionIDs: [String], kinds: [String], defaultLimit: Int, maximumLimit: Int) -> [UInt8] {
        let problem: [String: Any] = ["$ref": "#/components/responses/Problem"]
        func query(_ name: String, _ description: String, _ schema: [String: Any], explode: Bool = false) -> [String: Any] {
            ["name": name, "in": "query", "required": false, "style": "form", "explode": explode, "description": description, "schema": schema]
        }
        let f = query("f", "Response format (json). Without it the Accept header decides.", ["type": "string", "enum": ["json"]])
        let landingF = query("f", "json, or html for the map page. Without it the Accept header decides.", ["type": "string", "enum": ["json", "html"]])
        let collectionID: [String: Any] = ["name": "collectionId", "in": "path", "required": true, "schema": ["type": "string", "enum": collectionIDs]]
        let organisationCollectionID: [String: Any] = ["name": "collectionId", "in": "path", "required": true,
            "schema": ["type": "string", "enum": collectionIDs.filter { $0 != Catalog.regionsID }]]
        let itemParameters: [[String: Any]] = [
            query("limit", "Items per page; larger values are clamped to the maximum.", ["type": "integer", "minimum": 1, "maximum": maximumLimit, "default": defaultLimit]),
            query("offset", "Items to skip (the next link sets it).", ["type": "integer", "minimum": 0, "default": 0]),
            query("bbox", "minLon,minLat,maxLon,maxLat in CRS84 (west > east crosses the antimeridian).",
                  ["type": "array", "minItems": 4, "maxItems": 6, "items": ["type": "number"]]),
            query("bbox-crs", "CRS of bbox; only CRS84.", ["type": "string", "enum": [FeatureQueryParser.crs84]]),
            query("datetime", "RFC 3339 instant or interval. Organisations have no time of validity, so any valid value selects all.", ["type": "string"]),
            query("kind", "Kinds, comma-separated.", ["type": "array", "items": ["type": "string", "enum": kinds]]),
            query("region_iso", "Regions as ISO 3166-2 codes (RU-PER) or two-digit codes (59), comma-separated.", ["type": "array", "items": ["type": "string", "pattern": "^(RU-[A-Z]{2,3}|[0-9]{1,2})$"]]),
            query("categories", "Social areas, comma-separated; any of them matches, whatever its case and ё/е.", ["type": "array", "items": ["type": "string", "minLength": 1]]),
            query("q", "Words searched in name, settlement and address, each on its own and in any order (case-insensitive, ё = е; quotes and commas separate words).", ["type": "string", "minLength": 1, "maxLength": 200]),
            query("min_distance_km", "Remote organisations: at least this geodesic distance (WGS84) to the regional centre.", ["type": "number", "minimum": 0, "maximum": 20100]),
            query("max_distance_km", "At most this geodesic distance to the regional centre.", ["type": "number", "minimum": 0, "maximum": 20100]),
            query("near", "lon,lat: order by geodesic distance from this point first (adds distance_km).",
                  ["type": "array", "minItems": 2, "maxItems": 2, "items": ["type": "number"]]),
            query("radius_km", "With near: only organisations within this geodesic distance of the point.", ["type": "number", "minimum": 0, "maximum": 20100]),
            query("sortby", "Sort keys, comma-separated, '-' for descending; distance_km (from near) needs near.",
                  ["type": "array", "items": ["type": "string", "pattern": "^[+-]?(id|name|kind|region_iso|founded_year|distance_to_center_km|distance_km)$"]]),
        ]
        let geoJSONContent: [String: Any] = ["application/geo+json": ["schema": ["type": "object"]]]
        let jsonContent: [String: Any] = ["application/json": ["schema": ["type": "object"]]]
        func get(_ summary: String, _ operationID: String, _ parameters: [[String: Any]], _ content: [String: Any]) -> [String: Any] {
            ["get": [
                "summary": summary, "operationId": operationID, "parameters": parameters,
                "responses": ["200": ["description": summary, "content": content], "400": problem, "404": problem, "500": problem, "503": problem],
            ] as [String: Any]]
        }
        let exportParameters = Array(itemParameters.filter { ($0["name"] as? String).map { !["limit", "offset"].contains($0) } ?? true })
            + [query("limit", "At most this many features (default: all).", ["type": "integer", "minimum": 1]),
               query("offset", "Features to skip.", ["type": "integer", "minimum": 0, "default": 0])]
        let filterParameters = itemParameters.filter { ["bbox", "bbox-crs", "datetime", "kind", "region_iso", "categories", "q", "min_distance_km", "max_distance_km"].contains($0["name"] as? String ?? "") }
        let dialect: [[String: Any]] = [
            query("dialect", "CSV for spreadsheets: excel = ';', decimal comma, UTF-8 BOM, Russian headers.", ["type": "string", "enum": ["standard", "excel"]]),
            query("delimiter", "CSV delimiter.", ["type": "string", "enum": ["comma", "semicolon", "tab"]]),
            query("decimal", "Decimal separator of CSV numbers (comma needs another delimiter).", ["type": "string", "enum": ["point", "comma"]]),
            query("encoding", "CSV encoding.", ["type": "string", "enum": ["utf-8", "utf-8-bom", "windows-1251"]]),
            query("header", "Language of the CSV column titles.", ["type": "string", "enum": ["en", "ru"]]),
        ]
        let fCSV = query("f", "json or csv. Without it the Accept header decides.", ["type": "string", "enum": ["json", "csv"]])
        let csvContent: [String: Any] = ["text/csv": ["schema": ["type": "string"]]]
        let htmlContent: [String: Any] = ["text/html": ["schema": ["type": "string"]]]
        let id: [String: Any] = ["type": "integer", "minimum": 1, "maximum": 9_007_199_254_740_991]
        func required(_ name: String, _ description: String, _ schema: [String: Any]) -> [String: Any] {
            ["name": name, "in": "query", "required": true, "description": description, "schema": schema]
        }
        let sameRegion = query("same_region", "Only the origin's region.", ["type": "boolean"])
        var paths: [String: Any] = [
            "/matching/nearest-sites": get("The internship sites nearest to an organisation (geodesic), with their programmes", "getNearestSites", [
                required("organization", "Id of the organisation.", id),
                query("k", "How many sites.", ["type": "integer", "minimum": 1, "maximum": Matching.maximumK, "default": 5]), sameRegion, fCSV,
            ] + dialect, geoJSONContent.merging(csvContent) { a, _ in a }),
            "/matching/remote-organizations": get("Remote organisations within reach of an internship site, nearest first", "getRemoteOrganizations", [
                required("site", "Id of the internship site.", id),
                query("radius_km", "Reach from the site.", ["type": "number", "minimum": 0, "maximum": 20100, "default": 150]),
                query("threshold_km", "Remote from this distance to the regional centre on.", ["type": "number", "minimum": 0, "maximum": 20100]),
                query("same_region", "Only the site's region (default true).", ["type": "boolean"]),
                query("kind", "Kinds, comma-separated (default all but internship sites).", ["type": "array", "items": ["type": "string", "enum": kinds]]),
                query("limit", "Per page (CSV: all unless given).", ["type": "integer", "minimum": 1]),
                query("offset", "Organisations to skip.", ["type": "integer", "minimum": 0, "default": 0]), fCSV,
            ] + dialect, geoJSONContent.merging(csvContent) { a, _ in a }),
            "/programmes": get("Internship programmes open to remote organisations, soonest first", "getProgrammes", [
                query("region_iso", "Regions of the host sites, comma-separated.", ["type": "array", "items": ["type": "string", "pattern": "^(RU-[A-Z]{2,3}|[0-9]{1,2})$"]]),
                query("status", "Selection statuses (default open,planned).", ["type": "array", "items": ["type": "string", "enum": SelectionStatus.allCases.map(\.rawValue)]]),
                query("from", "Programmes not ended before this date (default today).", ["type": "string", "format": "date"]),
                query("topics", "Any of these topics.", ["type": "array", "items": ["type": "string", "minLength": 1]]),
                query("near", "lon,lat: adds distance_km.", ["type": "array", "minItems": 2, "maxItems": 2, "items": ["type": "number"]]),
                query("limit", "Per page.", ["type": "integer", "minimum": 1, "maximum": maximumLimit]),
                query("offset", "Programmes to skip.", ["type": "integer", "minimum": 0, "default": 0]), fCSV,
            ] + dialect, geoJSONContent.merging(csvContent) { a, _ in a }),
            "/reports/regions/{region}": get("A region's organisations by kind and remoteness, distances, the most remote, coverage of populated places", "getRegionReport", [
                ["name": "region", "in": "path", "required": true, "schema": ["type": "string", "pattern": "^(RU-[A-Z]{2,3}|[0-9]{1,2})$"]],
                query("threshold_km", "Remote from this distance to the regional centre on.", ["type": "number", "minimum": 0, "maximum": 20100]),
                query("coverage_radius_km", "A place is covered with an organisation this near.", ["type": "number", "exclusiveMinimum": true, "minimum": 0, "maximum": 500, "default": 25]),
                query("kind", "Kinds, comma-separated (default all).", ["type": "array", "items": ["type": "string", "enum": kinds]]),
                query("top", "How many of the most remote to list.", ["type": "integer", "minimum": 0, "maximum": 1000, "default": 10]),
                query("f", "json, csv, or html for the printable page. Without it the Accept header decides.", ["type": "string", "enum": ["json", "csv", "html"]]),
            ] + dialect, jsonContent.merging(csvContent) { a, _ in a }.merging(htmlContent) { a, _ in a }),
            "/overview": get("Counts of matching organisations on a grid (the map's low zooms)", "getOverview",
                [f, query("zoom", "Map zoom; cells are about 64 px wide.", ["type": "integer", "minimum": 0, "maximum": 22, "default": 4])] + filterParameters, jsonContent),
            "/categories": get("Categories in use, most used first (spellings differing only in case or ё/е counted as one)", "getCategories", [f], jsonContent),
            "/rings": get("Geodesic circle around a region's administrative centre", "getRing", [
                ["name": "region_iso", "in": "query", "required": true, "schema": ["type": "string"]],
                query("km", "Radius in km.", ["type": "number", "exclusiveMinimum": true, "minimum": 0, "maximum": 3000, "default": 50]), f,
            ], geoJSONContent),
            "/map-config.json": get("Settings of the map page", "getMapConfig", [], jsonContent),
            "/": get("Landing page (the map page for browsers)", "getLandingPage",
                     [landingF] + WebFiles.mapPageParameters.map { query($0, "Read by the map page (web/app.js); the JSON document ignores it.", ["type": "string"]) },
                     jsonContent.merging(htmlContent) { a, _ in a }),
            "/conformance": get("Conformance classes", "getConformance", [f], jsonContent),
            "/api": get("This API definition", "getAPI", [f], ["application/vnd.oai.openapi+json;version=3.0": ["schema": ["type": "object"]]]),
            "/health": get("Liveness and database check", "getHealth", [f], jsonContent),
            "/collections": get("Collections", "getCollections", [f], jsonContent),
            "/collections/{collectionId}": get("One collection", "describeCollection", [collectionID, f], jsonContent),
            "/collections/{collectionId}/queryables": get("Queryable properties", "getQueryables", [collectionID, f], ["application/schema+json": ["schema": ["type": "object"]]]),
            "/collections/{collectionId}/schema": get("A Feature's schema: its properties' types (organisation collections)", "getSchema", [collectionID, f],
                                                      ["application/schema+json": ["schema": ["type": "object"]]]),
            "/collections/{collectionId}/items": get("Features of a collection of organisations", "getFeatures", [organisationCollectionID, f] + itemParameters, geoJSONContent),
            "/collections/regions/items": get("Regions with their administrative centres and outlines", "getRegions",
                [f] + itemParameters.filter { ["limit", "offset", "bbox", "bbox-crs", "datetime"].contains($0["name"] as? String ?? "") }, geoJSONContent),
            "/collections/{collectionId}/items/{featureId}": get("One feature", "getFeature",
                [collectionID, ["name": "featureId", "in": "path", "required": true, "schema": ["type": "string"], "example": "1"], f], geoJSONContent),
            "/export/{collectionId}.geojson": get("Every matching feature as one GeoJSON document (streamed; in sortby order, else neighbours together)", "exportGeoJSON",
                [["name": "collectionId", "in": "path", "required": true, "schema": ["type": "string", "enum": collectionIDs.filter { $0 != Catalog.regionsID }]]] + exportParameters, geoJSONContent),
            "/export/{collectionId}.csv": get("Every matching feature as CSV (streamed; in sortby order, else neighbours together)", "exportCSV",
                [["name": "collectionId", "in": "path", "required": true, "schema": ["type": "string", "enum": collectionIDs.filter { $0 != Catalog.regionsID }]]] + exportParameters + dialect,
                csvContent),
        ]
        for (path, operations) in writeOperations(organisationCollectionID: organisationCollectionID, kinds: kinds, problem: problem, id: id, f: f) {
            paths[path] = (paths[path] as? [String: Any] ?? [:]).merging(operations) { a, _ in a }
        }
        paths["/metrics"] = ["get": [
            "summary": "Requests, latencies and errors in Prometheus' text format", "operationId": "getMetrics",
            "responses": ["200": ["description": "Prometheus exposition format 0.0.4", "content": ["text/plain": ["schema": ["type": "string"]]]],
                          "400": problem],
        ] as [String: Any]]
        var itemGet = (paths["/collections/{collectionId}/items/{featureId}"] as! [String: Any])["get"] as! [String: Any]
        itemGet["parameters"] = (itemGet["parameters"] as! [[String: Any]]) + [
            ["name": "If-None-Match", "in": "header", "required": false, "description": "An ETag: 304 when the Feature still has it.", "schema": ["type": "string"]]]
        var itemResponses = itemGet["responses"] as! [String: Any]
        itemResponses["200"] = ["description": "The Feature", "content": geoJSONContent, "headers": ["ETag": etagHeader]]
        itemResponses["304"] = ["description": "Not modified since the ETag given", "headers": ["ETag": etagHeader]]
        itemGet["responses"] = itemResponses
        paths["/collections/{collectionId}/items/{featureId}"] = (paths["/collections/{collectionId}/items/{featureId}"] as! [String: Any]).merging(["get": itemGet]) { _, b in b }
        let document: [String: Any] = [
            "openapi": "3.0.3",
            "info": [
                "title": "CivicMap", "version": "1.0.0",
                "description": "Карта гражданских инициатив: НКО, ТОС и стажировочные площадки с геодезическим расстоянием до административного центра региона. OGC API – Features Part 1.",
                "license": ["name": "Data: GeoNames CC BY 4.0; outlines: DCW-GMT LGPL-3.0-or-later"],
            ] as [String: Any],
            "servers": [["url": serverURL]],
            "paths": paths,
            "components": ["securitySchemes": ["bearer": ["type": "http", "scheme": "bearer", "description": "A token made with `civicmap token create`."]],
                           "responses": ["Problem": [
                "description": "RFC 9457 problem details",
                "content": ["application/problem+json": ["schema": [
                    "type": "object", "required": ["type", "title", "status"],
                    "properties": ["type": ["type": "string"], "title": ["type": "string"], "status": ["type": "integer"],
                                   "detail": ["type": "string"], "instance": ["type": "string"], "parameter": ["type": "string"],
                                   "reason": ["type": "string"], "errors": ["type": "array", "items": ["type": "object"]],
                                   "invalid-params": ["type": "array", "items": ["type": "object"]]],
                ] as [String: Any]]],
            ] as [String: Any]]],
        ]
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return [UInt8](data)
    }
}
