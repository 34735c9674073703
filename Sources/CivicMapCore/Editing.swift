/// Who may change the map: the holder of a bearer token made with `civicmap token create`.
public struct Editor: Sendable, Equatable {
    public enum Role: String, Sendable, CaseIterable {
        /// Every region, and the audit log.
        case admin
        /// Organisations of one region, or of every region when the token has no scope.
        case editor
    }

    public var name: String
    public var role: Role
    /// The two-digit code of the only region this token may change; nil: every region.
    public var regionCode: String?

    public init(name: String, role: Role, regionCode: String?) {
        self.name = name
        self.role = role
        self.regionCode = regionCode
    }

    public func mayEdit(regionCode code: String) -> Bool { regionCode == nil || regionCode == code }
}

/// One change to one organisation, as the write API and its audit log name them.
public enum OrganisationChange: Sendable {
    case create(ImportRecord)
    /// PUT: the record is the whole new organisation.
    case replace(id: Int64, ImportRecord)
    /// PATCH: the record is the stored organisation with the patch applied.
    case update(id: Int64, ImportRecord)
    case delete(id: Int64)

    public var action: AuditAction {
        switch self {
        case .create: .create
        case .replace: .replace
        case .update: .update
        case .delete: .delete
        }
    }

    public var id: Int64? {
        switch self {
        case .create: nil
        case .replace(let id, _), .update(let id, _), .delete(let id): id
        }
    }
}

/// What a change left: the stored Feature and its entity tag (nil after a delete).
public struct EditedFeature: Sendable {
    public var id: Int64
    public var feature: EncodedFeature?
    public init(id: Int64, feature: EncodedFeature?) {
        self.id = id
        self.feature = feature
    }
    public var entityTag: String? { feature.map { EntityTag.of($0.bytes) } }
}

/// What an audit entry records. Entries without an organisation carry a JSON summary in `after`.
public enum AuditAction: String, Sendable, CaseIterable {
    case create, replace, update, delete
    /// A CLI import: one entry with its counts.
    case `import`
    case restore
    case tokenCreate = "token-create"
    case tokenRevoke = "token-revoke"
    /// `civicmap init` changed stored regions (a moved centre moves every distance in its region).
    case regions
    /// `civicmap revert ENTRY`: an organisation put back as the entry found it.
    case revert
}

/// One line of the audit log: who changed what when, with the Feature before and after.
public struct AuditEntry: Sendable {
    public var id: Int64
    public var at: String
    public var actor: String
    public var action: String
    /// nil for whole imports, whose summary is in `after`.
    public var organisationID: Int64?
    /// JSON texts (a Feature, or an import's summary); nil where there is none.
    public var before: [UInt8]?
    public var after: [UInt8]?
    /// For a revert: the entry it reverted.
    public var reverts: Int64?
    public init(id: Int64, at: String, actor: String, action: String, organisationID: Int64?, before: [UInt8]?, after: [UInt8]?,
                reverts: Int64? = nil) {
        self.id = id
        self.at = at
        self.actor = actor
        self.action = action
        self.organisationID = organisationID
        self.before = before
        self.after = after
        self.reverts = reverts
    }
}

public struct AuditQuery: Sendable, Equatable {
    public var organisationID: Int64?
    public var actor: String?
    public var action: AuditAction?
    /// `TimeStamp`s, both inclusive.
    public var since: String?
    public var until: String?
    public var limit: Int
    public var offset: Int
    public init(organisationID: Int64? = nil, actor: String? = nil, action: AuditAction? = nil, since: String? = nil, until: String? = nil,
                limit: Int = 100, offset: Int = 0) {
        self.organisationID = organisationID
        self.actor = actor
        self.action = action
        self.since = since
        self.until = until
        self.limit = limit
        self.offset = offset
    }
}

extension AuditQuery {
    /// The filters as people type them; the API's query and the CLI's options share these rules.
    public static func action(_ text: String) throws -> AuditAction {
        guard let action = AuditAction(rawValue: text) else {
            throw CivicMapError.invalidParameter(
                name: "action", reason: "'\(text)' is none of \(AuditAction.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return action
    }

    /// A date (`until` takes the whole day) or an RFC 3339 UTC time such as 2026-12-07T09:30:00Z.
    public static func time(_ text: String, name: String) throws -> String {
        guard let time = TimeStamp.parse(text, endOfDay: name == "until") else {
            throw CivicMapError.invalidParameter(name: name, reason: "'\(text)' is not a date (YYYY-MM-DD) or a UTC time (YYYY-MM-DDThh:mm:ssZ)")
        }
        return time
    }
}

public struct AuditPage: Sendable {
    /// Newest first.
    public var entries: [AuditEntry]
    public var numberMatched: Int
    public init(entries: [AuditEntry], numberMatched: Int) {
        self.entries = entries
        self.numberMatched = numberMatched
    }
}

/// The write side of the store, apart from the read seam (`FeatureSource`) so read-only
/// deployments and backends need not offer it.
public protocol FeatureEditor: Sendable {
    /// The token's holder, or nil when the token is unknown; `unauthenticated` when it is revoked or expired.
    func editor(forToken token: String) async throws -> Editor?
    /// Validates and applies one change in one transaction, with its audit entry. `ifMatch`
    /// (an entity tag of the stored Feature) must match for replace, update and delete;
    /// `kinds` are those the collection written to holds.
    func apply(_ change: OrganisationChange, by editor: Editor, ifMatch: String?, kinds: [OrganisationKind]) async throws -> EditedFeature
    func auditLog(_ query: AuditQuery) async throws -> AuditPage
    /// Imports one CSV or GeoJSON body as the CLI imports a file: all-or-nothing unless
    /// `options.partial`, one audit entry, and only the editor's region when it has one.
    func importOrganisations(_ input: ImportInput, options: ImportOptions, by editor: Editor) async throws -> ImportSummary
    /// Undoes an audit entry (one change, or a whole import) as `civicmap revert` does; an
    /// editor that is not an admin may undo only its own entries.
    func revert(auditEntry: Int64, by editor: Editor) async throws -> RevertOutcome
}

/// What a revert did: the entry it undid, its own entry, and to how many organisations what.
public struct RevertOutcome: Sendable {
    public var entry: AuditEntry
    /// The revert's own audit entry (`reverts` names `entry`), which can be reverted in turn.
    public var revertEntry: Int64 = 0
    /// The entry created them: gone again.
    public var removed = 0
    /// The entry changed them: as they were before it.
    public var restored = 0
    /// The entry deleted them (or a revert removed them): back, with their ids.
    public var revived = 0

    public init(entry: AuditEntry) { self.entry = entry }
}

/// Strong entity tags of stored Features: 64-bit FNV-1a of their bytes, which include the
/// time of the last change. Not a security measure: it detects concurrent edits.
public enum EntityTag {
    public static func of(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "\"" + String(repeating: "0", count: 16 - hex.count) + hex + "\""
    }

    /// The optimistic-concurrency rule, one place for the store and the API: a change names the
    /// version it starts from, and that version must still be the stored one.
    public static func check(ifMatch: String?, stored: String, organisation id: Int64) throws(CivicMapError) {
        guard let ifMatch, !ifMatch.isEmpty else {
            throw .preconditionRequired("send If-Match with the ETag of organisation \(id) as you read it (GET it first)")
        }
        guard Self.ifMatch(ifMatch, matches: stored) else {
            throw .preconditionFailed("organisation \(id) changed since you read it (its ETag is now \(stored)); read it again")
        }
    }

    /// Whether an `If-None-Match` header names `tag`: weak comparison (RFC 9110 § 13.1.2).
    public static func ifNoneMatch(_ header: String, matches tag: String) -> Bool {
        header.split(separator: ",").contains { (part: Substring) -> Bool in
            var t = String(part).trimmedText
            if t.hasPrefix("W/") { t.removeFirst(2) }
            return t == "*" || t == tag
        }
    }

    /// Whether an `If-Match` header value names `tag` (`*` names any existing Feature);
    /// strong comparison, so weak tags never match.
    public static func ifMatch(_ header: String, matches tag: String) -> Bool {
        header.split(separator: ",").contains { (part: Substring) -> Bool in
            let t = String(part).trimmedText
            return t == "*" || t == tag
        }
    }
}
