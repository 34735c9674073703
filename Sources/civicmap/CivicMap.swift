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
        subcommands: [Serve.self, Initialise.self, Import.self, Export.self, Match.self, Report.self, Programmes.self, Token.self, Audit.self, Revert.self, Backup.self, Restore.self])
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

    /// Only `init` creates the file: a mistyped path must not give a command an empty database
    /// (a backup or an export of nothing that reports success).
    func openDatabase(_ configuration: CivicMapConfiguration, creating: Bool = false) throws -> CivicMapDatabase {
        let path = configuration.databasePath
        if creating {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        } else {
            try requireDatabase(configuration)
        }
        return try CivicMapDatabase(path: path)
    }

    func requireDatabase(_ configuration: CivicMapConfiguration) throws {
        let path = configuration.databasePath
        guard FileManager.default.fileExists(atPath: path) else {
            throw CommandFailure("no database at '\(path)': run `civicmap init --database \(path)` first, or give --database (or CIVICMAP_DATABASE)")
        }
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
    @Option(name: .customLong("remote-km"), help: "Default remoteness threshold, km [CIVICMAP_REMOTE_KM, default 50]") var remoteKm: String?
    @Option(name: .customLong("idle-timeout"), help: "Seconds before an idle connection is closed [CIVICMAP_IDLE_TIMEOUT, default 30]") var idleTimeout: String?
    @Option(name: .customLong("request-timeout"), help: "Seconds before a request's answer must begin [CIVICMAP_REQUEST_TIMEOUT, default 30]") var requestTimeout: String?

    func run() async throws {
        limitMallocArenas()
        let configuration = try common.resolve([
            "host": host, "port": port, "public-url": publicURL, "web-dir": webDirectory,
            "default-limit": defaultLimit, "max-limit": maxLimit, "tile-url": tileURL, "tile-attribution": tileAttribution,
            "tiles-dir": tilesDirectory, "frame-ancestors": frameAncestors, "leaflet-dir": leafletDirectory, "remote-km": remoteKm,
            "idle-timeout": idleTimeout, "request-timeout": requestTimeout,
        ])
        var logger = Logger(label: "civicmap")
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
        let database = try common.openDatabase(configuration)
        if try database.regionDirectory().regions.isEmpty {
            logger.warning("the database has no regions: run `civicmap init` to load the bundled data")
        } else if try !database.hasSettlements() {
            logger.warning("the database has no populated places (region reports count none): run `civicmap init --no-demo` to load them")
        }
        Task { [logger] in
            let start = ContinuousClock.now
            do {
                try await database.warmUp()
                logger.info("database warmed up", metadata: ["duration": "\(ContinuousClock.now - start)"])
            } catch {
                logger.warning("warming the database up failed", metadata: ["error": "\(error)"])
            }
        }
        let tiles = try MBTilesStore(directory: configuration.tilesDirectory)
        let app = buildApplication(configuration: configuration, source: database, editor: database, tiles: tiles, logger: logger)
        // SIGTERM and SIGINT stop accepting connections and let requests in flight finish.
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
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
        let database = try common.openDatabase(configuration, creating: true)
        let dir = configuration.dataDirectory
        let regions = try RegionReader.read(csvPath: "\(dir)/regions.csv", outlinesPath: "\(dir)/regions_ru.geojson")
        let changes = try database.loadRegions(regions, by: Import.actor)
        print("regions: \(regions.count) (\(regions.filter { $0.boundary != nil }.count) with outlines)")
        // A plain `init` after an edited regions.csv puts the bundled centres back: say so, loudly.
        for change in changes { FileHandle.standardError.write(Data("changed \(change.description) (logged in the audit log)\n".utf8)) }
        let settlements = try SettlementReader.read(path: "\(dir)/settlements_ru.csv")
        try database.loadSettlements(settlements)
        print("populated places: \(settlements.count)")
        // Once organisations are stored, the bundled ones would overwrite their edits.
        if demo, case let stored = try database.organisationCount(), stored > 0 {
            print("organisations: \(stored) stored; the bundled demo organisations are not imported again")
        } else if demo {
            let summary = try database.importFiles(["\(dir)/organizations.geojson"], actor: Import.actor)
            ImportReport.print(summary)
            if summary.rolledBack { throw ExitCode(1) }
        }
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import organisations from CSV or GeoJSON files (all-or-nothing unless --partial).",
        discussion: "CSV header: id,name,kind,region_iso,settlement,address,inn,ogrn,categories,founded_year,website,lat,lon (plus email, phone, description, source). Categories are separated by ';' or ','. Russian titles (as exports write them) and common variants are understood.")
    @OptionGroup var common: CommonOptions
    @Argument(help: "CSV or GeoJSON files") var files: [String]
    @Flag(help: "Import the valid rows even if some are rejected") var partial = false
    @Flag(name: .customLong("dry-run"), help: "Validate and count; write nothing") var dryRun = false
    @Option(help: "Write every rejected row, warning and change (old → new) to this CSV file") var report: String?
    @Flag(name: .customLong("keep-far-points"),
          help: "Keep a row's stated region with a warning even when its point lies over 50 km outside it (refused by default)")
    var keepFarPoints = false

    /// Who runs the CLI, for the audit log: the account (not `$USER`, which anyone sets), and
    /// under sudo the person who ran it.
    static var actor: String {
        let account = getpwuid(getuid()).map { String(cString: $0.pointee.pw_name) } ?? "uid \(getuid())"
        if account == "root", let person = ProcessInfo.processInfo.environment["SUDO_USER"], !person.isEmpty {
            return "cli:\(person) (sudo)"
        }
        return "cli:" + account
    }

    func run() async throws {
        let configuration = try common.resolve()
        // Checked before anything is written: a report that cannot be written after the import
        // committed would leave the operator unsure whether it did.
        if let report { try OutputPath.check(report, database: configuration, inputs: files) }
        let database = try common.openDatabase(configuration)
        let meter = ProgressMeter()
        var options = ImportOptions(partial: partial, dryRun: dryRun, listsChanges: report != nil)
        options.keepsFarPoints = keepFarPoints
        let summary = try database.importFiles(files, options: options, actor: Self.actor, progress: meter.update)
        meter.finish()
        ImportReport.print(summary, options: options)
        if let report { try ImportReport.write(summary, to: report) }
        // A dry run fails as the import would: when rows are rejected and nothing would be written.
        if summary.rolledBack && (!dryRun || (!partial && summary.rejected > 0)) { throw ExitCode(1) }
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
        let parameters = try NameValue.parse(filters)
        let dialectNames = Set(CSVDialect.parameters)
        let query = try FeatureQueryParser(kinds: kinds, regions: database.regionDirectory())
            .parse(parameters.filter { !dialectNames.contains($0.name) }, collectionKinds: collectionKinds, paged: false)
        let dialect = try CSVDialect.parse(NameValue.values(parameters.filter { dialectNames.contains($0.name) }))
        let out = try Output(path: output, configuration: configuration)
        let count: Int
        switch format {
        case "geojson":
            let chunks = try await database.featureChunks(matching: query, chunkSize: 2000)
            try await out.write(chunks, encoder: GeoJSONExport())
            count = chunks.count
        case "csv":
            let chunks = try await database.chunks(matching: query, chunkSize: 2000)
            let encoder = CSVExport(dialect: dialect, withDistance: query.near != nil)
            try await out.write(chunks, encoder: encoder)
            count = chunks.count
            if encoder.lostCharacters.count > 0 {
                FileHandle.standardError.write(Data("""
                    warning: \(encoder.lostCharacters.count) characters Windows-1251 lacks (such as ҕ, ү, ө, һ) were written as '?'; \
                    an import of this file refuses those rows; encoding=utf-8 keeps them

                    """.utf8))
            }
        default: throw ValidationError("unknown format '\(format)'; use geojson or csv")
        }
        try out.close()
        FileHandle.standardError.write(Data("exported \(counted(count, "organisation"))\n".utf8))
    }
}

/// API parameters given on the command line as `name=value`, so the CLI and the HTTP API
/// take the same names and values and validate them in the same code.
enum NameValue {
    static func parse(_ items: [String]) throws -> [(name: String, value: String)] {
        try items.map { item in
            guard let eq = item.firstIndex(of: "=") else { throw ValidationError("'\(item)' is not name=value") }
            return (String(item[..<eq]), String(item[item.index(after: eq)...]))
        }
    }

    static func values(_ pairs: [(name: String, value: String)], allowed: Set<String>? = nil) throws -> [String: String] {
        if let allowed { return try FeatureQueryParser.uniqueValues(pairs, allowed: allowed) }
        return Dictionary(pairs, uniquingKeysWith: { a, _ in a })
    }
}

/// Standard output, or a file given with `-o`.
struct Output {
    let handle: FileHandle
    let isFile: Bool

    init(path: String?, configuration: CivicMapConfiguration) throws {
        guard let path else { handle = .standardOutput; isFile = false; return }
        try OutputPath.check(path, database: configuration)
        guard FileManager.default.createFile(atPath: path, contents: nil) else { throw CommandFailure("cannot write '\(path)'") }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        isFile = true
    }

    func write(_ bytes: [UInt8]) throws { try handle.write(contentsOf: bytes) }

    /// Head, every chunk, tail.
    func write<Encoder: ExportEncoder>(_ chunks: Chunks<Encoder.Item>, encoder: Encoder) async throws {
        try write(encoder.head(count: chunks.count))
        var first = true
        for try await chunk in chunks {
            try write(encoder.encode(chunk, first: first))
            first = false
        }
        try write(encoder.tail())
    }
    func close() throws { if isFile { try handle.close() } }
}

/// A command that cannot go on for a reason of the machine (no database, a file it cannot
/// write), not of its arguments' syntax: printed without the usage, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// "1 organisation", "3 organisations".
func counted(_ n: Int, _ noun: String, _ plural: String? = nil) -> String { "\(n) \(n == 1 ? noun : plural ?? noun + "s")" }

/// Files a command writes: never the database or the command's own input, and refused before
/// any work when they cannot be written.
enum OutputPath {
    /// Checks that `path` names a file that can be written and is neither the database (with its
    /// WAL, shared-memory and journal files) nor one of `inputs`.
    static func check(_ path: String, database configuration: CivicMapConfiguration, inputs: [String] = []) throws {
        var isFolder: ObjCBool = false
        guard !path.isEmpty, !path.hasSuffix("/"), !(FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && isFolder.boolValue) else {
            throw CommandFailure("'\(path)' is no file name; name the file to write")
        }
        func identity(_ path: String) -> String { URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path }
        let databaseFiles = ["", "-wal", "-shm", "-journal"].map { configuration.databasePath + $0 }
        if databaseFiles.contains(where: { identity($0) == identity(path) }) {
            throw CommandFailure("'\(path)' is the database; choose another file")
        }
        if inputs.contains(where: { identity($0) == identity(path) }) {
            throw CommandFailure("'\(path)' is an input file; choose another file")
        }
        let manager = FileManager.default
        let directory = (path as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: directory.isEmpty ? "." : directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CommandFailure("cannot write '\(path)': the folder '\(directory)' does not exist")
        }
        let writable = manager.fileExists(atPath: path) ? manager.isWritableFile(atPath: path) : manager.isWritableFile(atPath: directory.isEmpty ? "." : directory)
        guard writable else { throw CommandFailure("cannot write '\(path)': permission denied") }
    }
}

/// `json` or `csv` (GeoJSON is JSON).
enum OutputFormat: String, ExpressibleByArgument {
    case json, geojson, csv
}

struct Match: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Match remote organisations with internship sites (geodesic distances).",
        discussion: """
            civicmap match nearest-sites organization=20 k=5 [same_region=true]
            civicmap match remote-organizations site=21 radius_km=200 threshold_km=50 [same_region=false] [kind=ngo]
            Add --format csv (and dialect=excel) for a spreadsheet.
            """)
    @OptionGroup var common: CommonOptions
    @Argument(help: "nearest-sites or remote-organizations") var question: String
    @Argument(help: "Parameters as name=value, as in /matching/<question>") var parameters: [String] = []
    @Option(help: "json or csv") var format: OutputFormat = .json
    @Option(name: .shortAndLong, help: "Output file (default: standard output)") var output: String?

    func run() async throws {
        let configuration = try common.resolve()
        let database = try common.openDatabase(configuration)
        let matching = Matching(source: database)
        let pairs = try NameValue.parse(parameters)
        let origin: Organisation, organisations: [Organisation], matched: Int
        switch question {
        case "nearest-sites":
            let values = try NameValue.values(pairs, allowed: Set(Matching.nearestSitesParameters + CSVDialect.parameters))
            origin = try await matching.organisation(values["organization"], parameter: "organization")
            let options = try Matching.nearestSitesOptions(values)
            (organisations, matched) = try await matching.nearestSites(to: origin, k: options.k, sameRegion: options.sameRegion)
        case "remote-organizations":
            let values = try NameValue.values(pairs, allowed: Set(Matching.remoteOrganisationsParameters + CSVDialect.parameters))
            origin = try await matching.organisation(values["site"], parameter: "site")
            let query = try await matching.remoteOrganisationsQuery(site: origin, values, defaultThresholdKm: configuration.remoteThresholdKm)
            var all: [Organisation] = []
            for try await chunk in try await database.chunks(matching: query, chunkSize: 2000) { all += chunk }
            (organisations, matched) = (all, all.count)
        default:
            throw ValidationError("unknown question '\(question)'; use nearest-sites or remote-organizations")
        }
        let out = try Output(path: output, configuration: configuration)
        if format == .csv {
            let all = Chunks(count: organisations.count) { $0 == 0 ? organisations : nil }
            try await out.write(all, encoder: CSVExport(dialect: try CSVDialect.parse(NameValue.values(pairs)), withDistance: true))
        } else {
            var w = JSONWriter()
            MatchingJSON.write(origin: origin, matches: organisations, matched: matched,
                               timeStamp: TimeStamp.string(), to: &w)
            try out.write(w.bytes + [0x0A])
        }
        try out.close()
        FileHandle.standardError.write(Data((counted(organisations.count, "organisation") + "\n").utf8))
    }
}

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A region's report: organisations by kind, remoteness, distances, coverage of populated places.",
        discussion: "civicmap report RU-PER threshold_km=50 coverage_radius_km=25 --format csv dialect=excel -o perm.csv")
    @OptionGroup var common: CommonOptions
    @Argument(help: "Region: ISO 3166-2 code (RU-PER) or two-digit code (59)") var region: String
    @Argument(help: "Parameters as name=value: threshold_km, coverage_radius_km, kind, top (and CSV dialect)") var parameters: [String] = []
    @Option(help: "json or csv") var format: OutputFormat = .json
    @Option(name: .shortAndLong, help: "Output file (default: standard output)") var output: String?

    func run() async throws {
        let configuration = try common.resolve()
        let database = try common.openDatabase(configuration)
        let values = try NameValue.values(try NameValue.parse(parameters), allowed: Set(RegionReportQuery.parameters + CSVDialect.parameters))
        guard let found = try database.regionDirectory().region(region) else { throw ValidationError("unknown region '\(region)'") }
        let query = try RegionReportQuery.parse(values, region: found, kinds: try database.kindInfos().map(\.kind),
                                                defaultThresholdKm: configuration.remoteThresholdKm)
        let report = try await database.regionReport(query)
        let generatedAt = TimeStamp.string()
        let out = try Output(path: output, configuration: configuration)
        if format == .csv {
            try out.write(RegionReportCSV.encode(report, generatedAt: generatedAt, dialect: try CSVDialect.parse(values)))
        } else {
            var w = JSONWriter()
            RegionReportJSON.write(report, generatedAt: generatedAt, to: &w)
            try out.write(w.bytes + [0x0A])
        }
        try out.close()
    }
}

struct Programmes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Internship programmes open to remote organisations, soonest first.",
        discussion: "civicmap programmes region_iso=RU-PER status=open,planned from=2026-12-01 --format csv dialect=excel")
    @OptionGroup var common: CommonOptions
    @Argument(help: "Parameters as name=value: region_iso, status, from, topics, near, limit, offset (and CSV dialect)") var parameters: [String] = []
    @Option(help: "json or csv") var format: OutputFormat = .csv
    @Option(name: .shortAndLong, help: "Output file (default: standard output)") var output: String?

    func run() async throws {
        let configuration = try common.resolve()
        let database = try common.openDatabase(configuration)
        let values = try NameValue.values(try NameValue.parse(parameters), allowed: Set(ProgrammeQuery.parameters + CSVDialect.parameters))
        var query = try ProgrammeQuery.parse(values, regions: database.regionDirectory(), today: TimeStamp.today(),
                                             maximumLimit: Int.max)
        if values["limit"] == nil { query.limit = Int.max }
        let page = try await database.programmes(matching: query)
        let out = try Output(path: output, configuration: configuration)
        if format == .csv {
            try out.write(ProgrammeListingEncoding.csv(page.listings, near: query.near, dialect: try CSVDialect.parse(values)))
        } else {
            var w = JSONWriter()
            w.beginObject()
            w.key("type"); w.string("FeatureCollection")
            w.key("numberMatched"); w.int(page.numberMatched)
            w.key("features"); w.beginArray()
            for l in page.listings {
                ProgrammeListingEncoding.writeFeature(l, distanceMetres: query.near.map { Geodesic.wgs84.distance(from: $0, to: l.site.location) }, to: &w)
            }
            w.endArray()
            w.endObject()
            try out.write(w.bytes + [0x0A])
        }
        try out.close()
        FileHandle.standardError.write(Data((counted(page.listings.count, "programme") + "\n").utf8))
    }
}

/// glibc gives busy threads malloc arenas of their own (up to 8 per core) and keeps what each
/// frees. Two arenas held the server's peak RSS through W1, W2, W5 and W4 at 174 MB instead of
/// 219 MB, with the same throughput (8-second wrk runs, 2026-12-03).
func limitMallocArenas() {
    #if os(Linux)
    _ = glibcMallopt(-8, 2)  // M_ARENA_MAX from <malloc.h>, which Swift's Glibc module leaves out
    #endif
}

#if os(Linux)
@_silgen_name("mallopt") private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
