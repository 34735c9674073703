import CivicMapCore
import Foundation
import GRDB
import Synchronization

/// The one type that owns the SpatiaLite database: connection set-up, migrations and every
/// query. The HTTP layer sees it only as a `FeatureSource`.
public final class CivicMapDatabase: Sendable {
    let writer: any DatabaseWriter
    /// The async reads, counted (see `Reads`).
    let reads: Reads
    /// Parsing 89 outlines per request would be waste: cached, and reloaded when the regions'
    /// version (bumped by triggers, whichever process writes) differs.
    private let regionCache = VersionedCache<RegionDirectory>()
    private let categoryCache = VersionedCache<[String: [String]]>()
    /// Kinds change only by migration, so one read serves the process.
    private let kindCache = Mutex<[KindInfo]?>(nil)
    /// See `PointIndex`: kept at the newest snapshot any request has seen.
    private let pointIndexCache = Mutex<PointIndex?>(nil)

    /// Opens (creating if needed) the database file and migrates it. WAL lets readers run
    /// while an import writes.
    public convenience init(path: String, readers: Int = ProcessInfo.processInfo.activeProcessorCount * 2) throws {
        var config = Self.configuration
        config.maximumReaderCount = max(2, readers)
        try self.init(writer: Self.openPool(path: path, configuration: config))
    }

    /// A first big import holds the file locked with a rollback journal until it commits (see
    /// `withJournalForImport`), and the pool's switch to WAL on opening fails at once rather than
    /// wait for a lock; so opening retries, for as long as a write would wait (`busyMode`).
    static func openPool(path: String, configuration: Configuration, patience: TimeInterval = 30) throws -> DatabasePool {
        let deadline = Date().addingTimeInterval(patience)
        while true {
            do {
                return try DatabasePool(path: path, configuration: configuration)
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && Date() < deadline {
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
    }

    init(writer: any DatabaseWriter) throws {
        self.writer = writer
        reads = Reads(writer: writer)
        // Opening must not wait for the write lock (another process's import holds it for a
        // minute): migrate and refresh only when a read says there is something to do.
        let migrator = Migrations.migrator
        if try !writer.read(migrator.hasCompletedMigrations) { try migrator.migrate(writer) }
        // Databases from before the precomputed features, or another writer's leftovers.
        if try !writer.read(FeatureCache.isCurrent) { _ = try writer.write { db in try FeatureCache.refresh(db) } }
    }

    static var configuration: Configuration {
        var config = Configuration()
        config.foreignKeysEnabled = true
        // An import in another process holds the write lock for seconds; wait rather than fail.
        config.busyMode = .timeout(30)
        config.prepareDatabase { db in
            try SpatiaLite.prepare(db)
            // Staging tables and IN-lists stay in memory; SQLite refuses the setting inside a
            // transaction once a connection has used temporary storage, so it is made here.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        return config
    }

    /// All regions with centres and outlines, cached after the first read. For synchronous
    /// callers (the CLI, the import); async code must use `regions()`.
    public func regionDirectory() throws -> RegionDirectory {
        try writer.read { db in try cachedRegions(db) }
    }

    func cachedRegions(_ db: Database) throws -> RegionDirectory {
        try regionCache.value(version: try RegionRecord.version(db)) { RegionDirectory(try RegionRecord.fetchAll(db)) }
    }

    /// The stored spellings of each category by its folded name (`SearchText.normalise`), read
    /// again after a write (every write is in the audit log).
    func cachedCategorySpellings(_ db: Database) throws -> [String: [String]] {
        try categoryCache.value(version: try PointIndex.version(db).audit) {
            Dictionary(grouping: try String.fetchAll(db, sql: OrganisationSQL.distinctCategories), by: SearchText.normalise)
        }
    }

    /// The one way from a query to its SQL condition. Categories match whatever their case and
    /// ё: each asked for becomes the spellings stored for it.
    func filter(_ query: FeatureQuery, _ db: Database, spatialIndex: Bool = true) throws -> OrganisationSQL.Fragment {
        var q = query
        if !q.categories.isEmpty {
            let spellings = try cachedCategorySpellings(db)
            let stored = q.categories.flatMap { spellings[SearchText.normalise($0)] ?? [] }
            // None stored: the names as asked, which no row holds either (an empty list would filter nothing).
            if !stored.isEmpty { q.categories = stored }
        }
        return OrganisationSQL.filter(q, allKinds: try cachedKinds(db).map(\.kind), spatialIndex: spatialIndex)
    }

    /// Inserts or updates regions by code. Moving a centre recomputes the distances of every
    /// organisation in that region (a trigger does it, in the same transaction). What changed
    /// in regions already stored (names, centres) is one audit entry, and is returned.
    @discardableResult
    public func loadRegions(_ regions: [Region], by actor: String) throws -> [RegionChange] {
        try writer.write { db in
            let stored = try RegionRecord.identities(db)
            for region in regions { try RegionRecord.upsert(region, in: db) }
            let changes = try regions.compactMap { region in
                try stored[region.code].flatMap { try RegionRecord.change(from: $0, to: region, in: db) }
            }
            if !changes.isEmpty {
                try AuditSQL.append(db, actor: actor, action: .regions, organisationID: nil, before: nil, after: RegionChange.json(changes))
            }
            try FeatureCache.refresh(db)
            return changes
        }
    }

    /// For a server that has just started: builds the point index and reads the Features, each
    /// in one sequential pass, so the page cache holds both before requests read them at random.
    /// Once a build had pushed the file out of the cache, the first minute of requests had waited
    /// on random 4 KB reads (W1 at 2–16 req/s, requests past their 30 s limit, 0% CPU).
    public func warmUp() async throws {
        _ = try await reads.read { db in try self.pointIndex(db) }
        _ = try await reads.read { db in try Int.fetchOne(db, sql: "SELECT max(length(json)) FROM features") }
    }

    /// For synchronous callers; async code must use `kinds()`.
    public func kindInfos() throws -> [KindInfo] { try writer.read(cachedKinds) }

    func cachedKinds(_ db: Database) throws -> [KindInfo] {
        if let kinds = kindCache.withLock({ $0 }) { return kinds }
        let kinds = try Self.fetchKinds(db)
        kindCache.withLock { $0 = kinds }
        return kinds
    }

    static func fetchKinds(_ db: Database) throws -> [KindInfo] {
        try Row.fetchAll(db, sql: "SELECT code, title_ru, title_en FROM kinds ORDER BY position").map {
            KindInfo(kind: OrganisationKind(rawValue: $0[0]), titleRU: $0[1], titleEN: $0[2])
        }
    }
}

// Every read here goes through `reads`: GRDB's synchronous read on Swift's cooperative threads
// would deadlock once it waited for a pooled connection, so only `Reads` decides when one may run.
extension CivicMapDatabase: FeatureSource {
    public func kinds() async throws -> [KindInfo] {
        if let kinds = kindCache.withLock({ $0 }) { return kinds }
        return try await reads.read(quick: true) { db in try self.cachedKinds(db) }
    }

    public func regions() async throws -> RegionDirectory {
        try await reads.read(quick: true) { db in try self.cachedRegions(db) }
    }

    public func organisations(matching query: FeatureQuery) async throws -> OrganisationPage {
        try await reads.read { db in
            let filter = try self.filter(query, db)
            let matched = try Int.fetchOne(db, sql: "SELECT count(*) FROM organizations o WHERE \(filter.sql)", arguments: filter.arguments) ?? 0
            var organisations: [Organisation] = []
            if query.limit != 0 && query.offset < matched {
                let page = OrganisationSQL.page(query, filter: filter)
                organisations = try OrganisationSQL.fetch(db, sql: page.sql, arguments: page.arguments)
                try OrganisationSQL.attachProgrammes(db, to: &organisations)
                Self.measureDistances(from: query.near, in: &organisations)
            }
            return OrganisationPage(organisations: organisations, numberMatched: matched)
        }
    }

    public func organisation(id: Int64) async throws -> Organisation? {
        try await reads.read { db in
            var found = try OrganisationSQL.fetch(db, sql: OrganisationSQL.select + " WHERE o.id = ?", arguments: [id])
            try OrganisationSQL.attachProgrammes(db, to: &found)
            return found.first
        }
    }

    public func chunks(matching query: FeatureQuery, chunkSize: Int) async throws -> OrganisationChunks {
        let ids = try await exportOrder(query).ids
        let reads = self.reads
        return OrganisationChunks(count: ids.count) { index in
            let start = index * chunkSize
            guard start < ids.count else { return nil }
            let slice = Array(ids[start..<min(start + chunkSize, ids.count)])
            return try await reads.read { db in
                var rows = try OrganisationSQL.fetch(
                    db, sql: OrganisationSQL.select + " WHERE o.id IN (SELECT value FROM json_each(?))",
                    arguments: [OrganisationSQL.jsonArray(slice.map(String.init), numbers: true)])
                try OrganisationSQL.attachProgrammes(db, to: &rows)
                Self.measureDistances(from: query.near, in: &rows)
                let position = Dictionary(uniqueKeysWithValues: slice.enumerated().map { ($1, $0) })
                rows.sort { position[$0.id!]! < position[$1.id!]! }
                return rows
            }
        }
    }

    public func features(matching query: FeatureQuery) async throws -> EncodedPage {
        // Distances from a point differ per request: those pages are encoded on the fly.
        guard query.near == nil else { return EncodedPage(encoding: try await organisations(matching: query)) }
        // A page is at most max-limit Features: short enough to read on this thread.
        return try await reads.read(quick: true) { db in
            if PointIndex.answers(query), let index = try self.pointIndex(db) {
                let page = index.page(matching: query)
                let features = try FeatureCache.features(db, ids: page.points.map(\.id), keys: page.points.map(\.featureKey))
                return EncodedPage(features: features, numberMatched: page.matched, dataVersion: index.version.tag)
            }
            let version = try PointIndex.version(db).tag
            let filter = try self.filter(query, db)
            let matched = try Int.fetchOne(
                db.cachedStatement(sql: "SELECT count(*) FROM organizations o WHERE \(filter.sql)"), arguments: filter.arguments) ?? 0
            guard query.limit != 0 && query.offset < matched else { return EncodedPage(features: [], numberMatched: matched, dataVersion: version) }
            let order = OrganisationSQL.inOrder(query, filter: filter, columns: "o.id")
            let ids = try Int64.fetchAll(db.cachedStatement(sql: order.sql), arguments: order.arguments)
            return EncodedPage(features: try FeatureCache.features(db, ids: ids), numberMatched: matched, dataVersion: version)
        }
    }

    /// The point index at this read's snapshot: updated or loaded when the database is newer,
    /// nil when another request has already moved it past this snapshot (then SQL answers).
    func pointIndex(_ db: Database) throws -> PointIndex? {
        let version = try PointIndex.version(db)
        return try pointIndexCache.withLock { cached in
            if let index = cached, index.version == version { return index }
            if let index = cached, version.isOlder(than: index.version) { return nil }
            if var index = cached, try index.update(db, to: version) {
                cached = index
                return index
            }
            cached = try PointIndex.load(db, version: version)
            return cached
        }
    }

    public func feature(id: Int64) async throws -> EncodedFeature? {
        try await reads.read(quick: true) { db in
            try FeatureCache.features(db, ids: [id]).first
        }
    }

    public func featureChunks(matching query: FeatureQuery, chunkSize: Int) async throws -> FeatureChunks {
        guard query.near == nil else { return try await chunks(matching: query, chunkSize: chunkSize).encoded() }
        let order = try await exportOrder(query)
        let reads = self.reads
        return FeatureChunks(count: order.ids.count) { index in
            let start = index * chunkSize
            guard start < order.ids.count else { return nil }
            let range = start..<min(start + chunkSize, order.ids.count)
            return try await reads.read { db in
                try FeatureCache.features(db, ids: Array(order.ids[range]), keys: order.keys.map { Array($0[range]) })
            }
        }
    }

    /// Ids first (8 bytes each), then rows a chunk at a time: memory stays flat at any size,
    /// and each read is short, so writers are never starved. With no sortby (and no point to
    /// measure from), an export lists Features in storage order (`FeatureKey`), which reads
    /// each page once; in id order, the export of all 200,000 took 1.0–1.3 s instead of 0.65 s.
    private func exportOrder(_ query: FeatureQuery) async throws -> (ids: [Int64], keys: [Int64]?) {
        try await reads.read { db in
            if query.sort.isEmpty && query.near == nil {
                let keyed: [(id: Int64, key: Int64)]
                if PointIndex.answersOverview(query), let index = try self.pointIndex(db) {
                    keyed = index.keyedPoints(matching: query)
                } else {
                    let filter = try self.filter(query, db)
                    keyed = try Row.fetchAll(db, sql: "SELECT o.id, o.lon, o.lat FROM organizations o WHERE \(filter.sql)", arguments: filter.arguments)
                        .map { (id: $0[0], key: FeatureKey.of(id: $0[0], longitude: $0[1], latitude: $0[2])) }
                        .sorted { $0.key < $1.key }
                }
                // `limit` and `offset` cut the export as they cut a page (in this order).
                let cut = keyed.dropFirst(query.offset).prefix(query.limit ?? .max)
                return (cut.map(\.id), cut.map(\.key))
            }
            let filter = try self.filter(query, db)
            let order = OrganisationSQL.inOrder(query, filter: filter, columns: "o.id")
            return (try Int64.fetchAll(db, sql: order.sql, arguments: order.arguments), nil)
        }
    }

    /// From the point index (SQL took 0.2 s per collection at 200,000 rows); the same spans
    /// grouped by SQL while the index is being rebuilt.
    public func extent(of kinds: [OrganisationKind]) async throws -> BoundingBox? {
        try await reads.read { db in
            if let index = try self.pointIndex(db) { return index.extent(of: kinds) }
            let rows = try Row.fetchAll(db, sql: OrganisationSQL.extentSpans, arguments: [OrganisationSQL.jsonArray(kinds.map(\.rawValue))])
            guard let south = rows.compactMap({ $0[2] as Double? }).min(), let north = rows.compactMap({ $0[3] as Double? }).max() else { return nil }
            return BoundingBox.enclosing(rows.map { (west: $0[0], east: $0[1]) }, south: south, north: north)
        }
    }

    /// Counts per cell from the point index; categories and text group the rows live.
    public func overview(matching query: FeatureQuery, cellDegrees: Double) async throws -> Overview {
        try await reads.read { db in
            if PointIndex.answersOverview(query), let index = try self.pointIndex(db) {
                return Self.overview(merging: index.overviewParts(matching: query, cellDegrees: cellDegrees))
            }
            return Self.overview(merging: try self.groupedOverviewParts(db, query, cellDegrees: cellDegrees))
        }
    }

    /// The overview's parts grouped by SQL from the rows.
    func groupedOverviewParts(_ db: Database, _ query: FeatureQuery, cellDegrees: Double) throws -> [OverviewPart] {
        let filter = try self.filter(query, db, spatialIndex: false)
        let sql = OrganisationSQL.overview(query, filter: filter, cellDegrees: cellDegrees)
        return try Row.fetchAll(db, sql: sql.sql, arguments: sql.arguments).map { row in
            (row[0], row[1], OrganisationKind(rawValue: row[2]), row[3], row[4], row[5])
        }
    }

    private static func overview(merging parts: [OverviewPart]) -> Overview {
        var cells: [[Int]: (count: Int, lon: Double, lat: Double, byKind: [OrganisationKind: Int])] = [:]
        for part in parts {
            let key = [part.gx, part.gy]
            var cell = cells[key] ?? (0, 0, 0, [:])
            cell.count += part.count
            cell.lon += part.sumLon
            cell.lat += part.sumLat
            cell.byKind[part.kind, default: 0] += part.count
            cells[key] = cell
        }
        return Overview(cells: cells.keys.sorted { $0.lexicographicallyPrecedes($1) }.map { key in
            let c = cells[key]!
            return Overview.Cell(longitude: c.lon / Double(c.count), latitude: c.lat / Double(c.count), count: c.count, byKind: c.byKind)
        })
    }

    /// Categories by use. Spellings that differ only in case or ё are one category (as filters
    /// have them), named by the most used, counting each organisation once.
    public func categories() async throws -> [(name: String, count: Int)] {
        try await reads.read { db in
            let spellings = try Row.fetchAll(db, sql: OrganisationSQL.categories).map { (name: $0[0] as String, count: $0[1] as Int) }
            var groups: [String: [(name: String, count: Int)]] = [:]
            for spelling in spellings { groups[SearchText.normalise(spelling.name), default: []].append(spelling) }
            return try groups.values.map { group in
                guard group.count > 1 else { return group[0] }
                // Rows stored before spellings were folded may hold two of them.
                let count = try Int.fetchOne(db, sql: OrganisationSQL.organisationsInCategories,
                                             arguments: [OrganisationSQL.jsonArray(group.map(\.name))]) ?? 0
                return (name: group[0].name, count: count)  // the most used spelling first
            }.sorted { ($0.count, $1.name) > ($1.count, $0.name) }
        }
    }

    private static func measureDistances(from point: Coordinate?, in organisations: inout [Organisation]) {
        guard let point else { return }
        for i in organisations.indices {
            organisations[i].distanceToPointMetres = Geodesic.wgs84.distance(from: point, to: organisations[i].location)
        }
    }

    public func organisationCount() throws -> Int {
        try writer.read { db in try Int.fetchOne(db, sql: OrganisationSQL.count) ?? 0 }
    }

    public func checkHealth() async throws {
        _ = try await reads.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM regions") }
    }
}
