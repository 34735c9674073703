import ArgumentParser
import CivicMapCore
import CivicMapHTTP
import CivicMapStore
import Foundation
import Hummingbird
import Logging

@main
struct CivicMap: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "civicmap",
        abstract: "Map and geodata service for civic initiatives: НКО, ТОС and internship sites.",
        subcommands: [Serve.self, Initialise.self, Import.self, Export.self])
}

/// Options every command shares; resolved with the environment into one configuration.
struct CommonOptions: ParsableArguments {
    @Option(name: .customLong("database"), help: "SpatiaLite database file [CIVICMAP_DATABASE, default var/civicmap.sqlite]")
    var database: String?
    @Option(name: .customLong("data-dir"), help: "Bundled reference data [CIVICMAP_DATA_DIR, default data]")
    var dataDirectory: String?
    @Option(name: .customLong("log-level"), help: "Log level [CIVICMAP_LOG_LEVEL, default info]")
    var logLevel: String?

    var flags: [String: String?] { ["database": database, "data-dir": dataDirectory, "log-level": logLevel] }

    func resolve(_ extra: [String: String?] = [:]) throws -> CivicMapConfiguration {
        try CivicMapConfiguration.resolve(flags: flags.merging(extra) { $1 }, environment: ProcessInfo.processInfo.environment)
    }

    func openDatabase(_ configuration: CivicMapConfiguration) throws -> CivicMapDatabase {
        let directory = (configuration.databasePath as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        return try CivicMapDatabase(path: configuration.databasePath)
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the map and the OGC API – Features.")
    @OptionGroup var common: CommonOptions
    @Option(help: "Address to listen on [CIVICMAP_HOST, default 127.0.0.1]") var host: String?
    @Option(help: "TCP port [CIVICMAP_PORT, default 8080]") var port: String?
    @Option(name: .customLong("public-url"), help: "Base URL for links [CIVICMAP_PUBLIC_URL]") var publicURL: String?
    @Option(name: .customLong("web-dir"), help: "Map page files [CIVICMAP_WEB_DIR, default web]") var webDirectory: String?
    @Option(name: .customLong("default-limit"), help: "Items per page [CIVICMAP_DEFAULT_LIMIT, default 100]") var defaultLimit: String?
    @Option(name: .customLong("max-limit"), help: "Largest page [CIVICMAP_MAX_LIMIT, default 10000]") var maxLimit: String?
    @Option(name: .customLong("tile-url"), help: "Basemap tile URL template [CIVICMAP_TILE_URL, default OpenStreetMap]") var tileURL: String?
    @Option(name: .customLong("tile-attribution"), help: "Basemap attribution [CIVICMAP_TILE_ATTRIBUTION]") var tileAttribution: String?
    @Option(name: .customLong("tiles-dir"), help: "MBTiles basemaps [CIVICMAP_TILES_DIR, default tiles]") var tilesDirectory: String?
    @Option(name: .customLong("frame-ancestors"), help: "Origins allowed to embed the map [CIVICMAP_FRAME_ANCESTORS, default *]") var frameAncestors: String?
    @Option(name: .customLong("leaflet-dir"), help: "Leaflet files [CIVICMAP_LEAFLET_DIR, default /usr/share/javascript/leaflet]") var leafletDirectory: String?

    func run() async throws {
        let configuration = try common.resolve([
            "host": host, "port": port, "public-url": publicURL, "web-dir": webDirectory,
            "default-limit": defaultLimit, "max-limit": maxLimit, "tile-url": tileURL, "tile-attribution": tileAttribution,
            "tiles-dir": tilesDirectory, "frame-ancestors": frameAncestors, "leaflet-dir": leafletDirectory,
        ])
        var logger = Logger(label: "civicmap")
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
        let database = try common.openDatabase(configuration)
        if try database.regionDirectory().regions.isEmpty {
            logger.warning("the database has no regions: run `civicmap init` to load the bundled data")
        }
        let tiles = try MBTilesStore(directory: configuration.tilesDirectory)
        let app = buildApplication(configuration: configuration, source: database, tiles: tiles, logger: logger)
        try await app.runService()
    }
}

struct Initialise: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create the database, load the regions and (unless --no-demo) the bundled organisations.")
    @OptionGroup var common: CommonOptions
    @Flag(name: .customLong("demo"), inversion: .prefixedNo, help: "Also import data/organizations.geojson")
    var demo = true

    func run() async throws {
        let configuration = try common.resolve()
        let database = try common.openDatabase(configuration)
        let dir = configuration.dataDirectory
        let regions = try RegionReader.read(csvPath: "\(dir)/regions.csv", outlinesPath: "\(dir)/regions_ru.geojson")
        try database.loadRegions(regions)
        print("regions: \(regions.count) (\(regions.filter { $0.boundary != nil }.count) with outlines)")
        if demo {
            let summary = try database.importFiles(["\(dir)/organizations.geojson"], currentYear: Import.currentYear)
            ImportReport.print(summary)
            if summary.rolledBack { throw ExitCode(1) }
        }
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import organisations from CSV or GeoJSON files (all-or-nothing unless --partial).",
        discussion: "CSV header: id,name,kind,region_iso,settlement,address,inn,ogrn,categories,founded_year,website,lat,lon (plus email, phone, description, source). Categories are separated by ';'.")
    @OptionGroup var common: CommonOptions
    @Argument(help: "CSV or GeoJSON files") var files: [String]
    @Flag(help: "Import the valid rows even if some are rejected") var partial = false
    @Flag(name: .customLong("dry-run"), help: "Validate and count; write nothing") var dryRun = false
    @Option(help: "Write every rejected row and warning to this CSV file") var report: String?

    static var currentYear: Int { Calendar(identifier: .gregorian).component(.year, from: Date()) }

    func run() async throws {
        let configuration = try common.resolve()
        let database = try common.openDatabase(configuration)
        let meter = ProgressMeter()
        let summary = try database.importFiles(
            files, options: ImportOptions(partial: partial, dryRun: dryRun), currentYear: Self.currentYear,
            progress: meter.update)
        meter.finish()
        ImportReport.print(summary)
        if let report { try ImportReport.write(summary, to: report) }
        if summary.rolledBack && !dryRun { throw ExitCode(1) }
    }
}

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export organisations as GeoJSON or CSV, with the same filters as the API.",
        discussion: "Filters are API parameters: civicmap export --format csv region_iso=RU-PER min_distance_km=50")
    @OptionGroup var common: CommonOptions
    @Option(help: "geojson or csv") var format = "geojson"
    @Option(help: "Collection: organizations, ngo, tos or internship_site") var collection = "organizations"
    @Option(name: .shortAndLong, help: "Output file (default: standard output)") var output: String?
    @Argument(help: "Filters as name=value (kind, region_iso, categories, q, min_distance_km, max_distance_km, bbox, sortby, limit, offset)")
    var filters: [String] = []

    func run() async throws {
        let configuration = try common.resolve()
        let database = try common.openDatabase(configuration)
        let kinds = try database.kindInfos().map(\.kind)
        let collectionKinds = collection == "organizations" ? kinds : kinds.filter { $0.rawValue == collection }
        guard !collectionKinds.isEmpty else { throw ValidationError("unknown collection '\(collection)'") }
        let parameters = try filters.map { item -> (name: String, value: String) in
            guard let eq = item.firstIndex(of: "=") else { throw ValidationError("filter '\(item)' is not name=value") }
            return (String(item[..<eq]), String(item[item.index(after: eq)...]))
        }
        let query = try FeatureQueryParser(kinds: kinds, regions: database.regionDirectory())
            .parse(parameters, collectionKinds: collectionKinds, paged: false)
        let encoder: any ExportEncoder
        switch format {
        case "geojson": encoder = GeoJSONExport()
        case "csv": encoder = CSVExport()
        default: throw ValidationError("unknown format '\(format)'; use geojson or csv")
        }
        let out: FileHandle
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: nil) else { throw ValidationError("cannot write '\(output)'") }
            out = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        } else {
            out = FileHandle.standardOutput
        }
        let chunks = try await database.chunks(matching: query, chunkSize: 2000)
        try out.write(contentsOf: encoder.head(count: chunks.count))
        var first = true
        for try await chunk in chunks {
            try out.write(contentsOf: encoder.encode(chunk, first: first))
            first = false
        }
        try out.write(contentsOf: encoder.tail())
        if output != nil { try out.close() }
        FileHandle.standardError.write(Data("exported \(chunks.count) organisations\n".utf8))
    }
}
