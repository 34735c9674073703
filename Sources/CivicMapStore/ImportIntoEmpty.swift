import CivicMapCore
import GRDB

extension ImportSQL {
    /// The first big import, into an empty table. Every row is new: its id comes from the input
    /// or is numbered after the highest one, no row resolves to a stored one, and no ОГРН can
    /// clash with a stored one (repeats within the input are refused before). So the rows skip
    /// the staging table, the resolution and the upsert: what the INSERT's SQL would compute
    /// (distance, search text, Feature) is computed here, on one thread while SQLite inserts the
    /// rows prepared before on this one, and the rows go straight into `organizations` in id
    /// order, as a `BulkLoad`. `BulkLoadTests` check that it leaves exactly what the row-by-row
    /// path leaves.
    static func writeIntoEmpty(
        _ rows: [StagedRow], in db: Database, regions: RegionDirectory, changesOf entry: Int64?, clock: inout PhaseClock
    ) throws -> Counts {
        let ids = try numberedIDs(rows, in: db)
        let stamp = TimeStamp.string()
        let inIDOrder = rows.indices.sorted { ids[$0] < ids[$1] }
        let chunks = stride(from: 0, to: inIDOrder.count, by: chunkSize).map { inIDOrder[$0..<min($0 + chunkSize, inIDOrder.count)] }
        var features: [FeatureCache.Entry] = []
        var known = BulkLoad.KnownRows()
        known.points.reserveCapacity(rows.count)
        try BulkLoad.run(db, newRows: "SELECT id FROM organizations", clock: &clock) {
            var insert = try RowWriter(db, sql: """
                INSERT INTO organizations (\(insertedColumns))
                VALUES (?, \(contentColumns.map { _ in "?" }.joined(separator: ", ")), ?, MakePoint(?, ?, 4326), ?, ?, ?)
                """)
            var programmes = try RowWriter(db, sql: insertProgrammes(from: "(SELECT ? AS id, ? AS programmes)"))
            // Chunks are prepared on one thread while SQLite inserts on this one: preparing on
            // every core would leave SQLite, the slower of the two, a share of a core.
            try Parallel.pipeline(chunks.count) { chunk in
                chunks[chunk].map { index in
                    PreparedRow(rows[index], index: index, id: ids[index], regions: regions, stamp: stamp)
                }
            } consume: { prepared in
                for p in prepared {
                    let row = rows[p.index], o = row.organisation
                    guard let distance = p.distance else {
                        throw CivicMapError.invalidRecords([row.problem("region_iso", "unknown region")])
                    }
                    insert.bind(p.id)
                    bindContent(o, categories: p.texts.categories, to: &insert)
                    insert.bind(p.texts.searchText)
                    insert.bind(o.location.longitude); insert.bind(o.location.latitude)
                    insert.bind(distance); insert.bind(stamp); insert.bind(stamp)
                    try insert.step()
                    if let json = p.texts.programmes, !o.programmes.isEmpty {
                        programmes.bind(p.id); programmes.bind(json)
                        try programmes.step()
                    }
                    known.points.append(PackedRTree.Point(id: p.id, longitude: o.location.longitude, latitude: o.location.latitude))
                    if let feature = p.feature { features.append(feature) } else { known.withoutFeature.append(p.id) }
                }
            }
            try FeatureCache.store(features, in: db)
            if let entry { try recordAdded(inIDOrder.lazy.map { ids[$0] }, by: entry, in: db) }
            return known
        }
        return Counts(added: rows.count)
    }

    /// Every row is new: `import_changes` lists their ids, in order, without a Feature before.
    private static func recordAdded(_ ids: some Sequence<Int64>, by entry: Int64, in db: Database) throws {
        var insert = try RowWriter(db, sql: "INSERT INTO import_changes (entry_id, organization_id) VALUES (?, ?)")
        for id in ids {
            insert.bind(entry); insert.bind(id)
            try insert.step()
        }
    }

    /// Rows prepared per pipeline step: the first step's wait is short (about 0.1 s), and a
    /// step is long enough that handing it over costs nothing.
    private static let chunkSize = 8192

    /// The rows' ids: their own, or for rows without one the next after the highest id of the
    /// input and of the audit log, in input order (as the staged path numbers them).
    private static func numberedIDs(_ rows: [StagedRow], in db: Database) throws -> [Int64] {
        var next = max(rows.lazy.compactMap(\.organisation.id).max() ?? 0, try Int64.fetchOne(db, sql: highestRetiredID) ?? 0)
        return rows.map { row in
            if let id = row.organisation.id { return id }
            next += 1
            return next
        }
    }

    /// One row with everything derived from it.
    private struct PreparedRow: Sendable {
        /// In the input.
        var index: Int
        var id: Int64
        var texts: DerivedTexts
        /// nil when the region is unknown (the validator lets no such row through).
        var distance: Double?
        /// Rows that state programmes get theirs from FeatureCache.refresh, as on the staged path.
        var feature: FeatureCache.Entry?

        init(_ row: StagedRow, index: Int, id: Int64, regions: RegionDirectory, stamp: String) {
            let o = row.organisation
            self.index = index
            self.id = id
            texts = DerivedTexts(row)
            guard let region = regions.region(o.regionCode) else { return }
            let distance = Geodesic.wgs84.distance(from: o.location, to: region.centre)
            self.distance = distance
            feature = row.statesProgrammes ? nil : newFeature(o, id: id, region: region, distance: distance, stamp: stamp)
        }
    }
}
