import Foundation

/// One input of an import: a file by its path, or bytes received (named for messages and the audit log).
public struct ImportInput: Sendable {
    public var name: String
    /// nil: read the file at `name`.
    public var bytes: [UInt8]?
    public init(name: String, bytes: [UInt8]? = nil) {
        self.name = name
        self.bytes = bytes
    }
}

/// What an import changed, and what it refused.
public struct ImportSummary: Sendable {
    public var added = 0
    public var updated = 0
    public var unchanged = 0
    public var rejected = 0
    /// Why rows were rejected (line, field, reason).
    public var problems: [FieldProblem] = []
    /// Rows accepted with a remark (for example a region the polygons contradict).
    public var warnings: [FieldProblem] = []
    /// With `ImportOptions.listsChanges`: what each updated row changes, field by field.
    public var changes: [FieldProblem] = []
    public var ignoredFields: [String] = []
    /// How each CSV file was read (detected encoding and delimiter).
    public var csvDialects: [(path: String, dialect: CSVDialect)] = []
    /// True when nothing was written (all-or-nothing import with rejected rows, or a dry run).
    public var rolledBack = false
    /// The import's audit entry, when it wrote: `civicmap revert` of it undoes the import.
    public var auditEntry: Int64?
    /// Seconds spent in each phase (reading, validating, writing), for operators and benchmarks.
    public var seconds: [(phase: String, seconds: Double)] = []

    public init() {}
}

public struct ImportOptions: Sendable {
    /// Import the valid rows even when others are rejected (the default is all-or-nothing).
    public var partial = false
    /// Validate and count, write nothing.
    public var dryRun = false
    /// Imports adding or changing at least this many organisations, and at least an eighth as
    /// many as the database holds, rebuild the indexes once instead of row by row (`BulkLoad`).
    public var bulkThreshold = 10_000
    /// List what each updated row changes (old → new), for a report to read before or after.
    public var listsChanges = false
    /// The two-digit code of the only region the importer may change (a token scoped to one):
    /// rows of other regions, and rows that would change an organisation stored in another, are refused.
    public var onlyRegion: String?
    /// A first big import may switch the file to a rollback journal (`withJournalForImport`);
    /// not inside a server, whose readers need WAL.
    public var mayLeaveWAL = true
    /// New organisations get their ids from the server, as through the API's POST: a row whose id
    /// names no stored organisation is refused (an id near the top of the range would leave no
    /// next one for anybody).
    public var assignsIDs = false
    /// Keep a stated region with a warning even when the point lies far outside it (a file whose
    /// points are known to be rough); by default such a row is refused.
    public var keepsFarPoints = false
    public init(partial: Bool = false, dryRun: Bool = false, bulkThreshold: Int = 10_000, listsChanges: Bool = false,
                onlyRegion: String? = nil, mayLeaveWAL: Bool = true) {
        self.partial = partial
        self.dryRun = dryRun
        self.bulkThreshold = bulkThreshold
        self.listsChanges = listsChanges
        self.onlyRegion = onlyRegion
        self.mayLeaveWAL = mayLeaveWAL
    }
}

