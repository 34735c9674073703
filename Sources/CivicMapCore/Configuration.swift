/// The service's settings, resolved once: command-line flag, else `CIVICMAP_…` environment
/// variable, else the default. The environment is passed in so tests can inject it.
public struct CivicMapConfiguration: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var databasePath = "var/civicmap.sqlite"
    /// Bundled reference data (regions, demo organisations).
    public var dataDirectory = "data"
    /// The map page and widget files.
    public var webDirectory = "web"
    /// Public base URL for links (`https://map.example.ru/civic`); nil: taken from each request.
    public var publicURL: String? = nil
    public var defaultLimit = 100
    public var maximumLimit = 10_000
    public var logLevel = "info"
    /// Basemap tile URL template and its attribution (OpenStreetMap's standard tiles by default).
    public var tileURL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    public var tileAttribution = "© участники OpenStreetMap (openstreetmap.org/copyright)"
    /// Folder of MBTiles files served at /tiles/{name}/{z}/{x}/{y}.
    public var tilesDirectory = "tiles"
    /// Origins allowed to embed the map (CSP frame-ancestors); `*` allows every site.
    public var frameAncestors = "*"
    /// Debian's libjs-leaflet and libjs-leaflet.markercluster files.
    public var leafletDirectory = "/usr/share/javascript/leaflet"
    /// Remote from this geodesic distance to the regional centre on, unless a request says
    /// otherwise (a Perm Krai programme counts 50 km and further from Perm).
    public var remoteThresholdKm = 50.0
    /// A connection that sends nothing for this long is closed (slow clients hold no workers).
    public var idleTimeoutSeconds = 30
    /// A request whose answer has not begun after this long gets a 503 (its queries are interrupted).
    public var requestTimeoutSeconds = 30

    /// Every key: flag name, environment variable, what it sets. README's table lists the same.
    public static let keys: [(flag: String, environment: String, help: String)] = [
        ("host", "CIVICMAP_HOST", "address to listen on"),
        ("port", "CIVICMAP_PORT", "TCP port"),
        ("database", "CIVICMAP_DATABASE", "SpatiaLite database file"),
        ("data-dir", "CIVICMAP_DATA_DIR", "bundled reference data"),
        ("web-dir", "CIVICMAP_WEB_DIR", "map page files"),
        ("public-url", "CIVICMAP_PUBLIC_URL", "base URL used in links"),
        ("default-limit", "CIVICMAP_DEFAULT_LIMIT", "items per page when no limit is given"),
        ("max-limit", "CIVICMAP_MAX_LIMIT", "largest page; larger limits are clamped"),
        ("log-level", "CIVICMAP_LOG_LEVEL", "trace, debug, info, notice, warning, error or critical"),
        ("tile-url", "CIVICMAP_TILE_URL", "basemap tile URL template"),
        ("tile-attribution", "CIVICMAP_TILE_ATTRIBUTION", "basemap attribution"),
        ("tiles-dir", "CIVICMAP_TILES_DIR", "folder of MBTiles basemaps"),
        ("frame-ancestors", "CIVICMAP_FRAME_ANCESTORS", "origins allowed to embed the map, space-separated, or *"),
        ("leaflet-dir", "CIVICMAP_LEAFLET_DIR", "Leaflet files (Debian libjs-leaflet)"),
        ("remote-km", "CIVICMAP_REMOTE_KM", "default remoteness threshold in km (map, reports, matching)"),
        ("idle-timeout", "CIVICMAP_IDLE_TIMEOUT", "seconds before an idle connection is closed"),
        ("request-timeout", "CIVICMAP_REQUEST_TIMEOUT", "seconds a request may take before its answer begins"),
    ]

    public init() {}

    /// - Parameters:
    ///   - flags: values given on the command line, by flag name (`port`), nil when absent.
    ///   - environment: the process environment.
    public static func resolve(flags: [String: String?], environment: [String: String]) throws(CivicMapError) -> CivicMapConfiguration {
        var c = CivicMapConfiguration()
        func value(_ flag: String) -> (String, String)? {
            if let v = flags[flag] ?? nil { return ("--\(flag)", v) }
            let env = keys.first { $0.flag == flag }!.environment
            if let v = environment[env], !v.isEmpty { return (env, v) }
            return nil
        }
        func integer(_ flag: String, _ range: ClosedRange<Int>) throws(CivicMapError) -> Int? {
            guard let (name, text) = value(flag) else { return nil }
            guard let n = Int(text), range.contains(n) else {
                throw .invalidParameter(name: name, reason: "'\(text)' is not an integer in \(range.lowerBound)…\(range.upperBound)")
            }
            return n
        }
        if let (_, v) = value("host") { c.host = v }
        if let n = try integer("port", 0...65_535) { c.port = n }
        if let (_, v) = value("database") { c.databasePath = v }
        if let (_, v) = value("data-dir") { c.dataDirectory = v }
        if let (_, v) = value("web-dir") { c.webDirectory = v }
        if let (name, v) = value("public-url") {
            guard v.hasPrefix("http://") || v.hasPrefix("https://") else {
                throw .invalidParameter(name: name, reason: "must be an http(s) URL")
            }
            c.publicURL = v.hasSuffix("/") ? String(v.dropLast()) : v
        }
        if let n = try integer("max-limit", 1...1_000_000) { c.maximumLimit = n }
        if let n = try integer("default-limit", 1...1_000_000) { c.defaultLimit = n }
        guard c.defaultLimit <= c.maximumLimit else {
            throw .invalidParameter(name: "default-limit", reason: "\(c.defaultLimit) exceeds the maximum limit \(c.maximumLimit)")
        }
        if let (name, v) = value("log-level") {
            guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(v) else {
                throw .invalidParameter(name: name, reason: "unknown log level '\(v)'")
            }
            c.logLevel = v
        }
        if let (name, v) = value("tile-url") {
            guard v.hasPrefix("https://") || v.hasPrefix("http://") || v.hasPrefix("/"), v.contains("{z}"), v.contains("{x}"), v.contains("{y}") else {
                throw .invalidParameter(name: name, reason: "must be an http(s) or /path URL template with {z}, {x} and {y}")
            }
            c.tileURL = v
        }
        if let (_, v) = value("tile-attribution") { c.tileAttribution = v }
        if let (_, v) = value("tiles-dir") { c.tilesDirectory = v }
        if let (name, v) = value("frame-ancestors") {
            let sources = v.split(separator: " ").map(String.init)
            guard !sources.isEmpty, sources.allSatisfy({ $0 == "*" || $0 == "'self'" || $0.hasPrefix("https://") || $0.hasPrefix("http://") }),
                !v.contains(";"), !v.contains(",")
            else {
                throw .invalidParameter(name: name, reason: "expected * or space-separated origins such as https://minsoc.example.ru")
            }
            c.frameAncestors = v
        }
        if let (_, v) = value("leaflet-dir") { c.leafletDirectory = v }
        if let (name, v) = value("remote-km") {
            guard let km = Double.decimal(v), (0...20_000).contains(km) else {
                throw .invalidParameter(name: name, reason: "'\(v)' is not a distance in km between 0 and 20000")
            }
            c.remoteThresholdKm = km
        }
        if let n = try integer("idle-timeout", 1...3600) { c.idleTimeoutSeconds = n }
        if let n = try integer("request-timeout", 1...3600) { c.requestTimeoutSeconds = n }
        return c
    }
}
