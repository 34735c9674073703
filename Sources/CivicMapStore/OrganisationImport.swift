import CivicMapCore
import Foundation
import GRDB

/// Progress of a long import: which phase, rows done of the total.
public struct ImportProgress: Sendable {
    public enum Phase: String, Sendable { case reading, validating, writing, done }
    public var phase: Phase
    public var rowsDone: Int
    public var rowsTotal: Int
}

extension CivicMapDatabase {
    /// Reads, validates and writes organisations from CSV or GeoJSON files in one transaction.
    /// Re-importing the same file changes nothing: rows are matched by `id`, else by ОГРН,
    /// else by kind + region + name + settlement.
    /// `actor` names who imports in the audit log (one entry per import, with its counts).
    public func importFiles(
        _ paths: [String], options: ImportOptions = ImportOptions(), currentYear: Int = TimeStamp.currentYear, actor: String = "cli",
        progress: (ImportProgress) -> Void = { _ in }
    ) throws -> ImportSummary {
        try importInputs(paths.map { ImportInput(name: $0) }, options: options, currentYear: currentYear, actor: actor, progress: progress)
    }

    /// `importFiles` for inputs that may be bytes already received (the API's `POST /import`).
    public func importInputs(
        _ inputs: [ImportInput], options: ImportOptions = ImportOptions(), currentYear: Int = TimeStamp.currentYear, actor: String = "cli",
        progress: (ImportProgress) -> Void = { _ in }
    ) throws -> ImportSummary {
        let paths = inputs.map(\.name)
        var summary = ImportSummary()
        var clock = PhaseClock()
        var records: [ImportRecord] = []
        var rowsUnread = 0
        var ignored: Set<String> = []
        // Problems name their file when there are several; `fileOfRecord` says whose a record is.
        func file(_ path: String) -> String? { paths.count > 1 ? path : nil }
        var fileOfRecord: [String?] = []
        // What validation needs from the database, loaded while the files are read (0.3 s).
        let checks = Parallel.start { [self] in
            var validator = OrganisationValidator(kinds: Set(try kindInfos().map(\.kind)), regions: try regionDirectory(), currentYear: currentYear)
            validator.keepsFarPoints = options.keepsFarPoints
            validator.settlements = SettlementDirectory(try settlements())
            return validator
        }
        for input in inputs {
            let path = input.name
            progress(ImportProgress(phase: .reading, rowsDone: records.count, rowsTotal: 0))
            let read = try Self.read(input, naming: file(path))
            records += read.records
            fileOfRecord += repeatElement(file(path), count: read.records.count)
            rowsUnread += read.rejectedRows
            summary.problems += read.problems.map { $0.inFile(file(path)) }
            ignored.formUnion(read.ignoredFields)
            if let dialect = read.dialect { summary.csvDialects.append((path, dialect)) }
        }
        summary.ignoredFields = ignored.sorted()
        clock.lap("read")

        let validator = try checks.value()
        let directory = validator.regions
        guard !directory.regions.isEmpty else {
            throw CivicMapError.notReady("the database has no regions; run `civicmap init` first")
        }
        var accepted: [StagedRow] = []
        accepted.reserveCapacity(records.count)
        progress(ImportProgress(phase: .validating, rowsDone: 0, rowsTotal: records.count))
        for ((record, outcome), file) in zip(zip(records, validator.validate(records)), fileOfRecord) {
            switch outcome {
            case .accepted(let organisation, let warnings):
                if let only = options.onlyRegion, let why = Self.outsideScope(organisation, only: only, regions: directory) {
                    summary.problems.append(FieldProblem(line: record.line, field: "region_iso", reason: why).inFile(file))
                    summary.warnings += warnings.map { $0.inFile(file) }  // a swap they tell of explains the refusal
                    continue
                }
                let copiedAt = record.text("updated_at")
                if let copiedAt, !TimeStamp.isValid(copiedAt) {
                    summary.problems.append(FieldProblem(line: record.line, field: "updated_at", reason: """
                        '\(copiedAt)' is not a time as exports write it (2026-12-07T15:00:00Z); it says which stored \
                        version the row was copied from: export again, or empty the cell to overwrite what is stored
                        """).inFile(file))
                    continue
                }
                accepted.append(StagedRow(line: record.line, file: file, organisation: organisation,
                                          statesProgrammes: record.lists["programmes"] != nil, stated: record.stated, copiedAt: copiedAt))
                summary.warnings += warnings.map { $0.inFile(file) }
            case .rejected(let problems):
                summary.problems += problems.map { $0.inFile(file) }
            }
        }
        if options.assignsIDs { summary.problems += try unknownIDs(in: &accepted) }
        let validated = accepted.count
        summary.problems += StagedRow.duplicates(in: &accepted)
        // Rows the reader could not use, rows that failed validation, repeated rows.
        var rejectedRows = rowsUnread + (records.count - validated) + (validated - accepted.count)
        // The records' dictionaries are done with: freed now, their memory serves the writing
        // (fresh pages cost the kernel a fault and a clear each, a fifth of a big import's CPU).
        let recordCount = records.count
        records = []
        clock.lap("validate")
        progress(ImportProgress(phase: .writing, rowsDone: recordCount, rowsTotal: recordCount))

        // A dry run goes on to the write (rolled back) so that it reports the problems found
        // there too (an ОГРН that belongs to a stored organisation), not only the first ones.
        if !summary.problems.isEmpty && !options.partial && !options.dryRun {
            summary.rejected = rejectedRows
            summary.rolledBack = true
            summary.seconds = clock.laps
            return summary
        }
        do {
            try withJournalForImport(rows: accepted.count, options: options) {
                try writer.write { db in
                    // The entry first: what the import writes is recorded under its id (`import_changes`).
                    let entry = try AuditSQL.append(db, actor: actor, action: .import, organisationID: nil, before: nil, after: nil)
                    // The regions as this transaction sees them: the Features encoded from memory
                    // must show what the rows' distances (computed in SQL) are measured from. A dry
                    // run counts as a partial import: a row refused here does not stop the counting.
                    let counts = try ImportSQL.write(&accepted, in: db, regions: try cachedRegions(db),
                                                     partial: options.partial || options.dryRun,
                                                     bulkThreshold: options.bulkThreshold, listsChanges: options.listsChanges,
                                                     onlyRegion: options.onlyRegion, changesOf: options.dryRun ? nil : entry, clock: &clock)
                    summary.problems += counts.problems
                    summary.warnings += counts.warnings
                    summary.changes = counts.changes
                    summary.added = counts.added
                    summary.updated = counts.updated
                    summary.unchanged = counts.unchanged
                    rejectedRows += counts.refused
                    if options.dryRun || (!counts.problems.isEmpty && !options.partial) { throw RollBack() }
                    try FeatureCache.refresh(db)
                    try AuditSQL.setAfter(db, entry: entry, Self.auditSummary(paths, counts))
                    summary.auditEntry = entry
                    clock.lap("features")
                }
            }
        } catch is RollBack {
            summary.rolledBack = true
        }
        clock.lap("commit")
        summary.seconds = clock.laps
        summary.rejected = rejectedRows
        progress(ImportProgress(phase: .done, rowsDone: recordCount, rowsTotal: recordCount))
        return summary
    }

    private struct RollBack: Error {}

    /// Rows whose id names no stored organisation, taken out: where the server gives the ids.
    private func unknownIDs(in rows: inout [StagedRow]) throws -> [FieldProblem] {
        let stored = try writer.read { db in try Set(Int64.fetchAll(db, sql: "SELECT id FROM organizations")) }
        var problems: [FieldProblem] = []
        rows.removeAll { row in
            guard let id = row.organisation.id, !stored.contains(id) else { return false }
            problems.append(row.problem("id", "\(id) names no organisation here; leave it empty to add a new one (the server gives its id)"))
            return true
        }
        return problems
    }

    /// Why a token scoped to region `only` may not write this organisation: it is of another
    /// region. (A point far outside its stated region the validator refuses for every writer.)
    static func outsideScope(_ o: Organisation, only: String, regions: RegionDirectory) -> String? {
        guard o.regionCode != only else { return nil }
        let scope = regions.region(only).map { $0.iso ?? $0.code } ?? only
        return "is \(regions.region(o.regionCode).map { $0.iso ?? $0.code } ?? o.regionCode); this token may import organisations of \(scope) only"
    }

    /// Reads one input; a file that cannot be read at all says which it is (`name`).
    private static func read(_ input: ImportInput, naming name: String?) throws -> ImportReader.Result {
        do throws(CivicMapError) {
            if let bytes = input.bytes { return try ImportReader.read(bytes: bytes, name: input.name) }
            return try ImportReader.read(path: input.name)
        } catch {
            guard case .invalidRecords(let problems) = error, let name else { throw error }
            throw CivicMapError.invalidRecords(problems.map { $0.inFile(name) })
        }
    }

    /// A first big import into an empty table writes nearly every page of the file. In WAL mode
    /// each page is written twice, to the log and again by the checkpoint (2.5 s of a 12 s import
    /// of 200,000 rows); a rollback journal keeps only the pages that existed before, and the new
    /// ones reach the file once (0.3–0.6 s). It is as durable, and a failed or killed import is
    /// undone all the same (by the journal, when the file is next opened). Imports into stored
    /// rows stay in WAL: a server or backup started meanwhile would wait for their commit (it
    /// gained 0.7–1.4 s of 15 s on 200,000 updated rows, and nothing when few rows change).
    /// SQLite leaves WAL only for the sole connection: this process's readers close first, and
    /// while another process has the file open, the import stays in WAL.
    func withJournalForImport<T>(rows: Int, options: ImportOptions, _ body: () throws -> T) throws -> T {
        guard !options.dryRun, options.mayLeaveWAL, let pool = writer as? DatabasePool else { return try body() }
        pool.releaseMemory()
        let switched = try pool.writeWithoutTransaction { db in
            guard try ImportSQL.isFirstBulkImport(rows: rows, bulkThreshold: options.bulkThreshold, in: db) else { return false }
            return try Self.leaveWAL(db)
        }
        // Back to WAL, so readers run beside writers again. Should that fail (another process
        // opened the file meanwhile), the next pool to open it sets WAL.
        defer { if switched { pool.writeWithoutTransaction(Self.returnToWAL) } }
        return try body()
    }

    /// Switches the file to a rollback journal, which SQLite does for the sole connection only:
    /// false (and still WAL) while another connection, of this process or another, has it open.
    static func leaveWAL(_ db: Database) throws -> Bool {
        do {
            return try String.fetchOne(db, sql: "PRAGMA journal_mode = DELETE") == "delete"
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
            return false
        }
    }

    /// Back to WAL, if it can be now; else the next pool to open the file sets it.
    static func returnToWAL(_ db: Database) { _ = try? String.fetchOne(db, sql: "PRAGMA journal_mode = WAL") }

    private static func auditSummary(_ paths: [String], _ counts: ImportSQL.Counts) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("files"); w.strings(paths.map { ($0 as NSString).lastPathComponent })
        w.key("added"); w.int(counts.added)
        w.key("updated"); w.int(counts.updated)
        w.key("unchanged"); w.int(counts.unchanged)
        w.endObject()
        return w.bytes
    }
}

/// An accepted row on its way into the staging table.
struct StagedRow {
    var line: Int
    /// The input file, when an import reads several (`FieldProblem.file`).
    var file: String? = nil
    var organisation: Organisation
    /// The input listed programmes (possibly none), so the stored ones are replaced.
    var statesProgrammes: Bool
    /// The optional fields the input stated; an update keeps the stored values of the others.
    var stated: StatedFields = .all
    /// The `updated_at` an export wrote: the stored version the row was copied from. A row that
    /// would overwrite a later change is refused, as the API's `If-Match` refuses a lost update.
    var copiedAt: String? = nil

    /// Rejects later rows that repeat an earlier row's id, ОГРН or natural key.
    static func duplicates(in rows: inout [StagedRow]) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        // Where each was first seen, made into words only for a repeat (200,000 rows, 0.29 -> 0.1 s).
        typealias Seen = (line: Int, file: String?)
        var byID: [Int64: Seen] = [:], byOGRN: [String: Seen] = [:], byKey: [String: Seen] = [:]
        rows.removeAll { row in
            let o = row.organisation
            let key = o.id == nil && o.ogrn == nil ? "\(o.kind.rawValue)|\(o.regionCode)|\(o.name)|\(o.settlement ?? "")" : nil
            let repeated = o.id.flatMap { byID[$0].map { ("id", $0) } }
                ?? o.ogrn.flatMap { byOGRN[$0].map { ("ogrn", $0) } }
                ?? key.flatMap { byKey[$0].map { ("name", $0) } }
            if let (field, first) = repeated {
                problems.append(row.problem(field, "repeats the organisation of \(FieldProblem.place(line: first.line, file: first.file))"))
                return true
            }
            let seen = (row.line, row.file)
            if let id = o.id { byID[id] = seen }
            if let ogrn = o.ogrn { byOGRN[ogrn] = seen }
            if let key { byKey[key] = seen }
            return false
        }
        return problems
    }

    func problem(_ field: String, _ reason: String) -> FieldProblem { FieldProblem(line: line, field: field, reason: reason).inFile(file) }
    /// "line 4", or "b.csv, line 4".
    var place: String { FieldProblem.place(line: line, file: file) }
}

/// The SQL of the import, in one place: stage every row, resolve ids, count, upsert.
enum ImportSQL {
    struct Counts {
        var added = 0, updated = 0, unchanged = 0
        /// Rows refused at write time (ОГРН conflicts, two rows for one organisation).
        var refused = 0
        var problems: [FieldProblem] = []
        /// Updates a coordinator should look at (`surprisingUpdates`).
        var warnings: [FieldProblem] = []
        /// What each updated row changes (`changedFields`).
        var changes: [FieldProblem] = []
    }

    /// At least `bulkThreshold` rows into an empty table: `writeIntoEmpty`, through a rollback
    /// journal (`withJournalForImport` asks before the transaction, `write` again inside it).
    static func isFirstBulkImport(rows: Int, bulkThreshold: Int, in db: Database) throws -> Bool {
        guard rows >= bulkThreshold else { return false }
        // Retired ids (deleted, or removed by undoing an import) are refused by the staged path
        // (`write`); this one looks no row up, so it runs only where no id was ever given.
        return try !Bool.fetchOne(db, sql: """
            SELECT EXISTS (SELECT 1 FROM organizations) OR EXISTS (SELECT 1 FROM audit_log WHERE action = 'delete')
                OR EXISTS (SELECT 1 FROM import_changes)
            """)!
    }

    /// At least `bulkThreshold` rows added or changed, and at least an eighth as many as the table
    /// holds: then a `BulkLoad` (indexes rebuilt once) costs less than writing row by row.
    static func isBulk(written: Int, bulkThreshold: Int, in db: Database) throws -> Bool {
        guard written >= bulkThreshold else { return false }
        return try written * 8 >= (Int.fetchOne(db, sql: OrganisationSQL.count) ?? 0)
    }

    /// Content columns: a row is unchanged when all of them are equal.
    static let contentColumns = [
        "kind", "name", "region_code", "settlement", "address", "inn", "ogrn", "categories", "founded_year",
        "website", "email", "phone", "description", "source", "lat", "lon",
    ]

    /// `bulkThreshold`: see `isBulk`. `warns`: look for `surprisingUpdates` (the API's writes,
    /// which have no report to show them in, do not).
    /// `rows` in: the accepted rows; out: with the stored values of the fields they did not state.
    static func write(
        _ rows: inout [StagedRow], in db: Database, regions: RegionDirectory, partial: Bool, bulkThreshold: Int = .max,
        warns: Bool = true, listsChanges: Bool = false, onlyRegion: String? = nil, revivesDeleted: Bool = false,
        changesOf entry: Int64? = nil, clock: inout PhaseClock
    ) throws -> Counts {
        var counts = Counts()
        // A larger page cache keeps the indexes' pages hot while 200,000 rows go in (the default
        // 2 MB made the import I/O-bound).
        try db.execute(sql: "PRAGMA cache_size = -131072")
        defer { try? db.execute(sql: "PRAGMA cache_size = -2000") }
        if try isFirstBulkImport(rows: rows.count, bulkThreshold: bulkThreshold, in: db) {
            return try writeIntoEmpty(rows, in: db, regions: regions, changesOf: entry, clock: &clock)
        }
        try db.execute(sql: """
            DROP TABLE IF EXISTS temp.import_rows;
            CREATE TEMP TABLE import_rows (
                seq INTEGER PRIMARY KEY, id INTEGER, kind TEXT, name TEXT, region_code TEXT, settlement TEXT, address TEXT,
                inn TEXT, ogrn TEXT, categories TEXT, founded_year INTEGER, website TEXT, email TEXT, phone TEXT,
                description TEXT, source TEXT, lat REAL, lon REAL, search_text TEXT, programmes TEXT, stated INTEGER NOT NULL,
                copied_at TEXT, programmes_changed INTEGER NOT NULL DEFAULT 0, is_new INTEGER NOT NULL DEFAULT 0,
                content_changed INTEGER NOT NULL DEFAULT 0, categories_changed INTEGER NOT NULL DEFAULT 0);
            """)
        var insert = try RowWriter(db, sql: """
            INSERT INTO import_rows (seq, id, kind, name, region_code, settlement, address, inn, ogrn, categories, founded_year,
                website, email, phone, description, source, lat, lon, search_text, programmes, stated, copied_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        // The derived texts on every core; SQLite's inserts on this one.
        let derived = Parallel.map(rows, DerivedTexts.init)
        for (seq, (row, texts)) in zip(rows, derived).enumerated() {
            insert.bind(seq); insert.bind(row.organisation.id)
            bindContent(row.organisation, categories: texts.categories, to: &insert)
            insert.bind(texts.searchText); insert.bind(texts.programmes); insert.bind(Int(row.stated.rawValue)); insert.bind(row.copiedAt)
            try insert.step()
        }
        clock.lap("stage")
        try db.execute(sql: """
            UPDATE import_rows SET id = (SELECT o.id FROM organizations o WHERE o.ogrn = import_rows.ogrn)
                WHERE id IS NULL AND ogrn IS NOT NULL;
            UPDATE import_rows SET id = (SELECT o.id FROM organizations o
                    WHERE o.kind = import_rows.kind AND o.region_code = import_rows.region_code
                      AND o.name = import_rows.name
                      AND (o.settlement IS import_rows.settlement OR NOT \(stated("settlement", by: "import_rows")!))
                      -- An ОГРН stored nowhere may belong to an organisation stored without one.
                      AND (import_rows.ogrn IS NULL OR o.ogrn IS NULL) ORDER BY o.id LIMIT 1)
                WHERE id IS NULL;
            UPDATE import_rows SET id = numbered.base + numbered.n
                FROM (SELECT seq AS rid, row_number() OVER (ORDER BY seq) AS n,
                             max((SELECT coalesce(max(id), 0) FROM organizations),
                                 (SELECT coalesce(max(id), 0) FROM import_rows),
                                 (\(highestRetiredID))) AS base
                      FROM import_rows WHERE id IS NULL) AS numbered
                WHERE import_rows.seq = numbered.rid;
            """)
        // An ОГРН identifies one legal entity: it may not move to another organisation. And two
        // rows may not resolve to one organisation (say, one by id, the other by its ОГРН).
        var refused: [(seq: Int64, problem: FieldProblem)] = []
        for row in try Row.fetchAll(db, sql: """
            SELECT i.seq, i.ogrn, o.id FROM import_rows i JOIN organizations o ON o.ogrn = i.ogrn AND o.id <> i.id
            """) {
            let seq: Int = row[0]
            refused.append((row[0], rows[seq].problem("ogrn", "ОГРН \(row[1] as String) already belongs to organisation \(row[2] as Int64)")))
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT later.seq, later.id, repeated.first_seq
            FROM (SELECT id, min(seq) AS first_seq FROM import_rows GROUP BY id HAVING count(*) > 1) repeated
            JOIN import_rows later ON later.id = repeated.id AND later.seq > repeated.first_seq
            """) {
            let seq: Int = row[0], first: Int = row[2]
            refused.append((row[0], rows[seq].problem("id", "resolves to the same organisation (\(row[1] as Int64)) as \(rows[first].place)")))
        }

        try db.execute(sql: """
            UPDATE import_rows SET programmes_changed = 1
            WHERE programmes IS NOT NULL AND programmes IS NOT (\(storedProgrammes("import_rows.id")));
            """)
        try db.execute(sql: "UPDATE import_rows SET is_new = 1 WHERE id NOT IN (SELECT id FROM organizations)")
        // A field the input did not state is the same as stored (it is kept).
        let same = contentColumns.map { column in
            stated(column, by: "i").map { "(NOT \($0) OR o.\(column) IS i.\(column))" } ?? "o.\(column) IS i.\(column)"
        }
        try db.execute(sql: """
            UPDATE import_rows AS i SET content_changed = 1, categories_changed = NOT \(same[contentColumns.firstIndex(of: "categories")!])
            FROM organizations o WHERE o.id = i.id AND NOT (\(same.joined(separator: " AND ")))
            """)
        refused += try (revivesDeleted ? [] : deletedOrganisations(rows, in: db)) + overwritesLaterChanges(rows, in: db)
            + (onlyRegion.map { try storedElsewhere(rows, only: $0, in: db) } ?? [])
        if warns {
            let seen = Set(refused.map(\.seq))  // a scoped token's refusal already names the organisation
            refused += try idsOfOthers(rows, in: db).filter { !seen.contains($0.seq) }
        }
        // Every problem found, a partial import goes on without the refused rows; an all-or-nothing one stops.
        if partial && !refused.isEmpty {
            try db.execute(sql: "DELETE FROM import_rows WHERE seq IN (SELECT value FROM json_each(?))",
                           arguments: [OrganisationSQL.jsonArray(refused.map { String($0.seq) }, numbers: true)])
        }
        counts.problems = refused.map(\.problem)
        counts.refused = Set(refused.map(\.seq)).count
        guard partial || refused.isEmpty else { return counts }
        try mergeUnstatedFields(&rows, in: db)
        if warns { counts.warnings = try surprisingUpdates(rows, in: db) }
        if listsChanges { counts.changes = try changedFields(rows, in: db) }
        counts.added = try Int.fetchOne(db, sql: "SELECT count(*) FROM import_rows WHERE is_new") ?? 0
        counts.unchanged = try Int.fetchOne(db, sql: """
            SELECT count(*) FROM import_rows WHERE NOT is_new AND NOT content_changed AND NOT programmes_changed
            """) ?? 0
        let staged = try Int.fetchOne(db, sql: "SELECT count(*) FROM import_rows") ?? 0
        counts.updated = staged - counts.added - counts.unchanged

        // One time stamp for the whole import (a literal we make, not input), so the Features
        // encoded from memory (`storeWrittenFeatures`) carry exactly what the rows do.
        let stamp = TimeStamp.string()
        let now = "'" + stamp + "'"
        if let entry { try recordChanges(of: entry, in: db) }
        clock.lap("resolve")
        let differs = contentColumns.map { "organizations.\($0) IS NOT excluded.\($0)" }.joined(separator: " OR ")
        let upsert = """
            INSERT INTO organizations (\(insertedColumns))
            SELECT i.id, \(contentColumns.map(merged).joined(separator: ", ")), i.search_text, MakePoint(i.lon, i.lat, 4326),
                   geodesic_distance_m(i.lat, i.lon, r.centre_lat, r.centre_lon), \(now), \(now)
            FROM import_rows i JOIN regions r ON r.code = i.region_code LEFT JOIN organizations o ON o.id = i.id
            WHERE i.is_new OR i.content_changed ORDER BY i.id
            ON CONFLICT (id) DO UPDATE SET
                \(contentColumns.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")),
                search_text = excluded.search_text, geom = excluded.geom,
                distance_to_centre_m = excluded.distance_to_centre_m, updated_at = excluded.updated_at
            WHERE \(differs)
            """
        let written = try Int.fetchOne(db, sql: "SELECT count(*) FROM import_rows WHERE is_new OR content_changed") ?? 0
        if try isBulk(written: written, bulkThreshold: bulkThreshold, in: db) {
            let updated = BulkLoad.UpdatedRows(
                all: "SELECT id FROM import_rows WHERE content_changed", withNewCategories: "SELECT id FROM import_rows WHERE categories_changed")
            try BulkLoad.run(db, newRows: "SELECT id FROM import_rows WHERE is_new", updated: updated, clock: &clock) {
                try db.execute(sql: upsert)
                return nil
            }
        } else {
            try db.execute(sql: upsert)
            clock.lap("insert")
        }
        try storeWrittenFeatures(rows, regions: regions, stamp: stamp, in: db)
        try db.execute(sql: """
            DELETE FROM programmes WHERE organization_id IN (SELECT id FROM import_rows WHERE programmes_changed);
            \(insertProgrammes(from: "import_rows")) WHERE i.programmes_changed;
            UPDATE organizations SET updated_at = \(now) WHERE id IN (SELECT id FROM import_rows WHERE programmes_changed);
            DROP TABLE temp.import_rows;
            """)
        return counts
    }

    /// The organisations this import writes (new, changed, or with new programmes), each with its
    /// Feature before (none for a new one): what `revert` of the import puts back.
    private static func recordChanges(of entry: Int64, in db: Database) throws {
        try FeatureCache.refresh(db)  // Features another writer left stale, encoded before they are kept
        try db.execute(sql: """
            INSERT INTO import_changes (entry_id, organization_id, before)
            SELECT ?, i.id, CASE WHEN i.is_new THEN NULL ELSE (SELECT f.json FROM features f WHERE f.id = i.id) END
            FROM import_rows i WHERE i.is_new OR i.content_changed OR i.programmes_changed
            """, arguments: [entry])
    }

    /// New rows whose id names a deleted or removed organisation: an old file does not bring it
    /// back (its id is never given again).
    static func deletedOrganisations(_ rows: [StagedRow], in db: Database) throws -> [(seq: Int64, problem: FieldProblem)] {
        // The newest entry that removed the id: a delete, the revert of its create, or the
        // revert of an import that added it (an import's entry has no organisation of its own).
        try Row.fetchAll(db, sql: """
            SELECT i.seq, i.id, a.at, a.actor, a.action, a.reverts FROM import_rows i
            JOIN audit_log a ON a.id = max(
                coalesce((SELECT max(id) FROM audit_log WHERE organization_id = i.id
                            AND (action = 'delete' OR (action = 'revert' AND after IS NULL))), 0),
                coalesce((SELECT max(entry_id) FROM import_changes WHERE organization_id = i.id), 0))
            WHERE i.is_new AND a.action IN ('delete', 'revert')
            """).map { row in
            let seq: Int = row[0], id: Int64 = row[1], at: String = row[2], actor: String = row[3]
            let how = (row[4] as String) == "delete" ? "deleted" : "removed by undoing entry \(row[5] as Int64? ?? 0)"
            return (row[0], rows[seq].problem(
                "id", "organisation \(id) was \(how) on \(at) by \(actor); leave the id empty to add it again as a new organisation"))
        }
    }

    /// Rows of a token scoped to region `only` that resolved (by id or ОГРН) to an organisation
    /// stored in another region: the token may not change it, nor move it into its own.
    static func storedElsewhere(_ rows: [StagedRow], only: String, in db: Database) throws -> [(seq: Int64, problem: FieldProblem)] {
        try Row.fetchAll(db, sql: """
            SELECT i.seq, o.id, o.name, coalesce(r.iso, r.code) FROM import_rows i JOIN organizations o ON o.id = i.id
            JOIN regions r ON r.code = o.region_code WHERE NOT i.is_new AND o.region_code <> ?
            """, arguments: [only]).map { row in
            let seq: Int = row[0], id: Int64 = row[1], name: String = row[2], region: String = row[3]
            return (row[0], rows[seq].problem("id", "organisation \(id) «\(name)» is in \(region); this token may change organisations of its own region only"))
        }
    }

    /// Rows whose own id names an organisation with another name in another region: an ID column
    /// of row numbers, or ids from another database, would rename and move someone else's
    /// organisation (helper-19's file renamed Yakutia's resource centre into a Perm ТОС and moved
    /// it 3,904 km). A row found by its ОГРН may do both: the legal entity is the same.
    static func idsOfOthers(_ rows: [StagedRow], in db: Database) throws -> [(seq: Int64, problem: FieldProblem)] {
        try Row.fetchAll(db, sql: """
            SELECT i.seq, o.id, o.name, coalesce(r.iso, r.code) FROM import_rows i JOIN organizations o ON o.id = i.id
            JOIN regions r ON r.code = o.region_code
            WHERE NOT i.is_new AND o.name <> i.name AND o.region_code <> i.region_code
            """).compactMap { row in
            let seq: Int = row[0], id: Int64 = row[1], name: String = row[2], region: String = row[3]
            guard rows[seq].organisation.id == id else { return nil }
            return (row[0], rows[seq].problem("id", """
                \(id) is organisation «\(name)» in \(region), not «\(rows[seq].organisation.name)»: the ID column holds CivicMap's \
                ids (an export's first column); leave it empty for new organisations
                """))
        }
    }

    /// Rows copied (by an export) from an older version of their organisation than is stored,
    /// that would change it: they would undo the later change. Rows without `updated_at` are not
    /// checked; nor are rows that change nothing.
    static func overwritesLaterChanges(_ rows: [StagedRow], in db: Database) throws -> [(seq: Int64, problem: FieldProblem)] {
        try Row.fetchAll(db, sql: """
            SELECT i.seq, o.id, o.updated_at, i.copied_at,
                   (SELECT a.actor FROM audit_log a WHERE a.organization_id = o.id ORDER BY a.id DESC LIMIT 1)
            FROM import_rows i JOIN organizations o ON o.id = i.id
            WHERE i.copied_at IS NOT NULL AND o.updated_at > i.copied_at AND (i.content_changed OR i.programmes_changed)
            """).map { row in
            let seq: Int = row[0], id: Int64 = row[1], stored: String = row[2], copied: String = row[3], actor: String? = row[4]
            return (row[0], rows[seq].problem("updated_at", """
                organisation \(id) was changed on \(stored)\(actor.map { " by \($0)" } ?? "") after this row's copy of it \
                (\(copied)); export it again, or empty this row's updated_at to overwrite that change
                """))
        }
    }

    /// A content column's value as the import writes it: a field the row's input did not state
    /// (`StatedFields`) keeps the stored organisation's value (`o`, left-joined; none for a new row).
    static func merged(_ column: String) -> String {
        guard let stated = stated(column, by: "i") else { return "i.\(column)" }
        return "CASE WHEN \(stated) OR o.id IS NULL THEN i.\(column) ELSE o.\(column) END"
    }

    /// SQL that is true when the staged row `alias` stated `column`; nil for a required column.
    static func stated(_ column: String, by alias: String) -> String? {
        StatedFields.field(column).map { "(\(alias).stated & \($0.rawValue) <> 0)" }
    }

    /// Changed rows whose input left fields out: their values in memory take the stored ones,
    /// so the Features encoded from memory show the merged row, and their search text is made
    /// again when the settlement or address came from the store. Only changed rows are read:
    /// an unchanged file without, say, an e-mail column costs nothing here (a join of the staged
    /// rows with the stored ones walked every stored row: 0.4 s and 70 MB of cache for none).
    private static func mergeUnstatedFields(_ rows: inout [StagedRow], in db: Database) throws {
        guard rows.contains(where: { $0.stated != .all }) else { return }
        let partial = "i.content_changed AND i.stated <> \(StatedFields.all.rawValue)"
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM import_rows i WHERE \(partial))")! else { return }
        // CROSS JOIN: the staged rows outside, each changed one looks its organisation up. The
        // stored row is decoded as every read decodes it; the staged row's seq follows its columns.
        let stored = try Row.fetchCursor(db, sql: """
            SELECT \(OrganisationSQL.columns), i.seq
            FROM import_rows i CROSS JOIN organizations o ON o.id = i.id JOIN regions r ON r.code = o.region_code WHERE \(partial)
            """)
        var searchText = try RowWriter(db, sql: "UPDATE import_rows SET search_text = ? WHERE seq = ?")
        while let row = try stored.next() {
            let seq: Int = row[OrganisationSQL.columnCount], stated = rows[seq].stated
            rows[seq].organisation.keepFields(of: OrganisationSQL.organisation(from: row), notIn: stated)
            if !stated.states("settlement") || !stated.states("address") {
                searchText.bind(SearchText.of(rows[seq].organisation)); searchText.bind(seq)
                try searchText.step()
            }
        }
    }

    /// Updates that are right only if the file meant that organisation: a move of more than
    /// 50 km, a new name (in a new region: an id or a namesake matched another organisation),
    /// and a site that stops being one, which loses its programmes.
    private static func surprisingUpdates(_ staged: [StagedRow], in db: Database) throws -> [FieldProblem] {
        // An empty cell clears a field: for the identifiers, say so (a consultant may not know them).
        func clears(_ column: String) -> String { "(\(stated(column, by: "i")!) AND i.\(column) IS NULL AND o.\(column) IS NOT NULL)" }
        let rows = try Row.fetchAll(db, sql: """
            SELECT i.seq, i.id, o.name, geodesic_distance_m(o.lat, o.lon, i.lat, i.lon) AS metres,
                   o.name <> i.name AND o.region_code <> i.region_code AS other,
                   CASE WHEN o.kind = 'internship_site' AND i.kind <> 'internship_site'
                        THEN (SELECT count(*) FROM programmes p WHERE p.organization_id = o.id) ELSE 0 END AS dropped,
                   CASE WHEN \(clears("inn")) THEN o.inn END AS cleared_inn, CASE WHEN \(clears("ogrn")) THEN o.ogrn END AS cleared_ogrn
            FROM import_rows i CROSS JOIN organizations o ON o.id = i.id
            WHERE i.content_changed AND (o.lat IS NOT i.lat OR o.lon IS NOT i.lon OR o.name IS NOT i.name OR o.kind IS NOT i.kind
                                         OR \(clears("inn")) OR \(clears("ogrn")))
            """)
        return rows.flatMap { row -> [FieldProblem] in
            let input = staged[row["seq"] as Int], id: Int64 = row["id"], name: String = row["name"]
            var found: [FieldProblem] = []
            if row["other"] as Bool {
                found.append(input.problem("name", "updates organisation \(id) «\(name)» with another name in another region; is it the same organisation?"))
            } else if name != input.organisation.name {
                // A shifted id column renames one organisation after another, each in place.
                found.append(input.problem("name", "renames organisation \(id) «\(name)» to «\(input.organisation.name)»; is the id this organisation's?"))
            }
            if let metres = row["metres"] as Double?, metres > 50_000 {
                found.append(input.problem("lat", "moves organisation \(id) «\(name)» by \(Int((metres / 1000).rounded())) km"))
            }
            if case let dropped = row["dropped"] as Int, dropped > 0 {
                found.append(input.problem("kind", "organisation \(id) «\(name)» is no longer an internship site: its \(dropped) programme(s) are removed"))
            }
            for (field, title) in [("inn", "ИНН"), ("ogrn", "ОГРН")] {
                if let cleared = row["cleared_" + field] as String? {
                    found.append(input.problem(field, """
                        empties the \(title) \(cleared) of organisation \(id) «\(name)»: an empty cell clears a field; \
                        leave the column out of the file to keep what is stored
                        """))
                }
            }
            return found
        }
    }

    /// What each updated row changes, old → new, read before the upsert: a steward sees with
    /// `--dry-run --report` which stored values a file would overwrite or clear.
    private static func changedFields(_ staged: [StagedRow], in db: Database) throws -> [FieldProblem] {
        let differs = contentColumns.map { c in
            "(\(stated(c, by: "i") ?? "1") AND o.\(c) IS NOT i.\(c)) AS changed_\(c), o.\(c) AS old_\(c), i.\(c) AS new_\(c)"
        }
        let rows = try Row.fetchAll(db, sql: """
            SELECT i.seq, o.id, o.name, i.programmes_changed, \(differs.joined(separator: ", "))
            FROM import_rows i JOIN organizations o ON o.id = i.id WHERE i.content_changed OR i.programmes_changed
            """)
        func shown(_ value: DatabaseValue) -> String {
            switch value.storage {
            case .null: "empty"
            case .string(let text): "«\(text)»"
            default: value.description
            }
        }
        return rows.map { row in
            let seq: Int = row["seq"], id: Int64 = row["id"], name: String = row["name"]
            let fields = contentColumns.filter { row["changed_" + $0] as Bool } + (row["programmes_changed"] as Bool ? ["programmes"] : [])
            let parts = fields.map { c in
                c == "programmes" ? "programmes replaced" : "\(c) \(shown(row["old_" + c])) → \(shown(row["new_" + c]))"
            }
            return staged[seq].problem(fields.joined(separator: ","), "changes organisation \(id) «\(name)»: " + parts.joined(separator: "; "))
        }
    }

    /// The Features of the added and updated rows, encoded from the values in memory with their
    /// stored creation time, and taken off the stale queue: read back and encoded by the
    /// refresh, 200,000 updated ones took 4.0–4.4 s. Rows with programmes are left to the
    /// refresh: new ones that state them (SQLite assigns the programmes' ids), and updated
    /// internship sites (their Features list the stored programmes).
    private static func storeWrittenFeatures(_ rows: [StagedRow], regions: RegionDirectory, stamp: String, in db: Database) throws {
        let updated = try Row.fetchAll(db, sql: """
            SELECT i.seq, i.id, o.created_at FROM import_rows i JOIN organizations o ON o.id = i.id
            WHERE (i.is_new AND i.programmes IS NULL) OR (i.content_changed AND o.kind <> 'internship_site')
            """).map { (seq: $0[0] as Int, id: $0[1] as Int64, createdAt: $0[2] as String) }
        var dequeue = try RowWriter(db, sql: "DELETE FROM stale_features WHERE id = ?")
        // A batch at a time, as the refresh does, so they are never all in memory at once.
        for start in stride(from: 0, to: updated.count, by: FeatureCache.refreshBatch) {
            let batch = Array(updated[start..<min(start + FeatureCache.refreshBatch, updated.count)])
            let features = Parallel.map(batch) { row -> FeatureCache.Entry? in
                let o = rows[row.seq].organisation
                return regions.region(o.regionCode).map {
                    newFeature(o, id: row.id, region: $0, distance: Geodesic.wgs84.distance(from: o.location, to: $0.centre),
                               stamp: stamp, createdAt: row.createdAt)
                }
            }.compactMap { $0 }
            try FeatureCache.store(features, in: db)
            for f in features {
                dequeue.bind(f.id)
                try dequeue.step()
            }
        }
    }

    /// What a row stores besides its input values, computed from them in Swift.
    struct DerivedTexts: Sendable {
        var categories: String
        var searchText: String
        /// Only when the input states programmes (possibly none), so the stored ones are replaced.
        var programmes: String?

        init(_ row: StagedRow) {
            categories = OrganisationSQL.jsonArray(row.organisation.categories)
            searchText = SearchText.of(row.organisation)
            programmes = row.statesProgrammes ? programmesJSON(row.organisation.programmes) : nil
        }
    }

    /// Binds the `contentColumns` of `o`, in their order.
    static func bindContent(_ o: Organisation, categories: String, to insert: inout RowWriter) {
        insert.bind(o.kind.rawValue); insert.bind(o.name); insert.bind(o.regionCode); insert.bind(o.settlement)
        insert.bind(o.address); insert.bind(o.inn); insert.bind(o.ogrn); insert.bind(categories); insert.bind(o.foundedYear)
        insert.bind(o.website); insert.bind(o.email); insert.bind(o.phone); insert.bind(o.description); insert.bind(o.source)
        insert.bind(o.location.latitude); insert.bind(o.location.longitude)
    }

    /// A written row's Feature, encoded from the values in memory and `distance` (from the same
    /// geodesic function the INSERT uses), so no row is read back to be encoded. `stamp` is the
    /// import's time; an updated row passes its stored `createdAt`. Rows with programmes
    /// (whose ids SQLite assigns) are left to FeatureCache.refresh.
    static func newFeature(
        _ organisation: Organisation, id: Int64, region: Region, distance: Double, stamp: String, createdAt: String? = nil
    ) -> FeatureCache.Entry {
        var o = organisation
        o.id = id
        o.regionISO = region.iso
        o.regionName = region.nameRU
        o.distanceToCentreMetres = distance
        o.createdAt = createdAt ?? stamp
        o.updatedAt = stamp
        o.programmes = []
        return FeatureCache.Entry(o)
    }

    /// Every column an import writes into `organizations`.
    static let insertedColumns = "id, " + contentColumns.joined(separator: ", ")
        + ", search_text, geom, distance_to_centre_m, created_at, updated_at"

    /// The highest id an organisation ever had, deleted ones and those an undone import removed
    /// included: new ids come after it.
    static let highestRetiredID = """
        SELECT max((SELECT coalesce(max(organization_id), 0) FROM audit_log), (SELECT coalesce(max(organization_id), 0) FROM import_changes))
        """

    /// Stores the programmes of the rows of `source` (aliased `i`, with `id` and `programmes`
    /// as `programmesJSON` writes them); the caller appends its WHERE.
    static func insertProgrammes(from source: String) -> String {
        """
        INSERT INTO programmes (organization_id, position, title, topics, length_days, starts_on, ends_on, capacity,
                                selection_status, description)
        SELECT i.id, p.key, json_extract(p.value, '$.title'), json_extract(p.value, '$.topics'),
               json_extract(p.value, '$.length_days'), json_extract(p.value, '$.starts_on'),
               json_extract(p.value, '$.ends_on'), json_extract(p.value, '$.capacity'),
               json_extract(p.value, '$.selection_status'), json_extract(p.value, '$.description')
        FROM \(source) i, json_each(i.programmes) p
        """
    }

    /// Programmes in one canonical JSON text, so staged and stored ones compare as strings.
    static func programmesJSON(_ programmes: [Programme]) -> String {
        var w = JSONWriter()
        w.beginArray()
        for p in programmes { GeoJSON.writeProgramme(p, includingID: false, to: &w) }
        w.endArray()
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// The same canonical JSON, built by SQLite from the stored rows.
    static func storedProgrammes(_ organisationID: String) -> String {
        """
        SELECT coalesce(json_group_array(json_object('title', title, 'topics', json(topics), 'length_days', length_days,
                'starts_on', starts_on, 'ends_on', ends_on, 'capacity', capacity, 'selection_status', selection_status,
                'description', description)), '[]')
        FROM (SELECT * FROM programmes WHERE organization_id = \(organisationID) ORDER BY position)
        """
    }
}

/// Seconds per phase of a long operation, for its report and for benchmarks.
struct PhaseClock {
    private(set) var laps: [(phase: String, seconds: Double)] = []
    private var start = ContinuousClock.now

    /// Ends `phase`, which began at the previous lap.
    mutating func lap(_ phase: String) {
        let now = ContinuousClock.now
        let d = (now - start).components
        laps.append((phase, Double(d.seconds) + Double(d.attoseconds) * 1e-18))
        start = now
    }
}
