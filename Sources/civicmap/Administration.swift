import ArgumentParser
import CivicMapCore
import CivicMapStore
import Foundation

/// `civicmap token create|list|revoke`: the write API's bearer tokens.
struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make, list and revoke bearer tokens of the write API.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a token and print it once (only its SHA-256 digest is stored).",
            discussion: "civicmap token create --name perm-coordinator --role editor --region RU-PER")
        @OptionGroup var common: CommonOptions
        @Option(help: "Who holds it (shown in the audit log)") var name: String
        @Option(help: "admin (every region, audit log) or editor") var role: String = "editor"
        @Option(help: "Limit an editor to one region (ISO code RU-PER or two-digit code 59)") var region: String?
        @Option(help: "The last day it works (YYYY-MM-DD, UTC), or 'never'; default: a year from today") var expires: String?

        func run() async throws {
            guard let role = Editor.Role(rawValue: role) else { throw ValidationError("unknown role '\(role)'; use admin or editor") }
            if role == .admin, region != nil { throw ValidationError("admins are not limited to a region; drop --region or use --role editor") }
            let expiresAt = try Self.expiry(expires)
            let database = try common.openDatabase(try common.resolve())
            print(try database.createToken(name: name, role: role, region: region, expiresAt: expiresAt, by: Import.actor))
            let scope = region.map { ", region \($0)" } ?? ""
            let until = expiresAt.map { ", works until \($0)" } ?? ", does not expire"
            FileHandle.standardError.write(Data("token '\(name)' (\(role.rawValue)\(scope)\(until)): keep it secret; it is not shown again\n".utf8))
        }

        /// The last second the token works: the end of the day given (UTC), a year from now by default.
        static func expiry(_ text: String?) throws -> String? {
            guard let text else { return TimeStamp.string(Date().addingTimeInterval(365 * 86_400)) }
            if text == "never" { return nil }
            guard text.utf8.count == 10, let time = TimeStamp.parse(text, endOfDay: true) else {
                throw ValidationError("--expires: '\(text)' is not a date (YYYY-MM-DD) or 'never'")
            }
            guard time > TimeStamp.string() else { throw ValidationError("--expires: \(text) has passed") }
            return time
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (names, roles, regions; never the tokens).")
        @OptionGroup var common: CommonOptions

        func run() async throws {
            let database = try common.openDatabase(try common.resolve())
            print(["name", "role", "region", "created_at", "expires_at", "last_used_at", "revoked_at"].joined(separator: "\t"))
            for t in try database.tokens() {
                print([t.name, t.role.rawValue, t.regionCode ?? "*", t.createdAt, t.expiresAt ?? "never", t.lastUsedAt ?? "",
                       t.revokedAt ?? ""].joined(separator: "\t"))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by name; it stops working at once.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "The token's name") var name: String

        func run() async throws {
            let database = try common.openDatabase(try common.resolve())
            try database.revokeToken(name: name, by: Import.actor)
            print("revoked '\(name)'")
        }
    }
}

/// `civicmap backup FILE`: an online copy while the server runs.
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the database while it is in use (consistent, checked); never overwrites.",
        discussion: "To go back to a copy: stop the server, then `civicmap restore COPY`.")
    @OptionGroup var common: CommonOptions
    @Argument(help: "The new file") var destination: String

    func run() async throws {
        let configuration = try common.resolve()
        try OutputPath.check(destination, database: configuration)
        let database = try common.openDatabase(configuration)
        try database.backup(to: destination)
        print("backed up to \(destination)")
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replace the database with a backup (stop the server first).",
        discussion: """
            Tokens stay as they are now (a revoked token stays revoked) and the audit log keeps what happened since the \
            backup, so ids used since are never given again. The database as it was is kept beside it \
            (…before-restore-TIME), and the restore is logged.
            """)
    @OptionGroup var common: CommonOptions
    @Argument(help: "The backup to restore") var backup: String

    func run() async throws {
        let configuration = try common.resolve()
        try common.requireDatabase(configuration)
        let summary = try CivicMapDatabase.restore(backup: backup, into: configuration.databasePath, actor: Import.actor)
        print("""
            restored \(configuration.databasePath) from \(backup): \(counted(summary.organisations, "organisation")); \
            \(counted(summary.tokens, "valid token")) kept as they are now, \(counted(summary.laterAuditEntries, "audit entry", "audit entries")) since the backup kept
            the database as it was: \(summary.keptAs)
            """)
    }
}

/// `civicmap audit`: the audit log for whoever runs the server, newest first.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the audit log, newest first: when, who, what, and which fields changed.",
        discussion: """
            civicmap audit --since 2026-12-01 --action update --actor perm-coordinator
            Actions: \(AuditAction.allCases.map(\.rawValue).joined(separator: ", ")). The API's /audit gives each entry \
            whole (the Feature before and after).
            """)
    @OptionGroup var common: CommonOptions
    @Option(help: "Only this organisation's entries (its id)") var organization: Int64?
    @Option(help: "Only this token's or account's entries (cli:NAME for the command line)") var actor: String?
    @Option(help: "Only this action") var action: String?
    @Option(help: "From this day (YYYY-MM-DD) or UTC time (YYYY-MM-DDThh:mm:ssZ) on") var since: String?
    @Option(help: "Up to this day (all of it) or UTC time") var until: String?
    @Option(help: "At most this many entries") var limit = 50

    func run() async throws {
        guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
        if let organization, organization < 1 { throw ValidationError("--organization must be an id (1 or more)") }
        var query = AuditQuery(organisationID: organization, actor: actor, limit: limit)
        do {
            query.action = try action.map(AuditQuery.action)
            query.since = try since.map { try AuditQuery.time($0, name: "since") }
            query.until = try until.map { try AuditQuery.time($0, name: "until") }
        } catch CivicMapError.invalidParameter(let name, let reason) {
            throw ValidationError("--\(name): \(reason)")
        }
        let database = try common.openDatabase(try common.resolve())
        let page = try await database.auditLog(query)
        print(["id", "at", "actor", "action", "organization", "what"].joined(separator: "\t"))
        for entry in page.entries {
            print([String(entry.id), entry.at, entry.actor, entry.action, entry.organisationID.map(String.init) ?? "",
                   AuditSummary.what(entry)].joined(separator: "\t"))
        }
        if page.numberMatched > page.entries.count {
            FileHandle.standardError.write(Data("\(page.entries.count) of \(page.numberMatched) entries; --limit or narrower filters for the rest\n".utf8))
        }
    }
}

/// `civicmap revert ENTRY`: undo one change to one organisation, or a whole import.
struct Revert: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Undo an audit entry: an organisation back as the entry found it (a change, a create, a delete), or a whole import.",
        discussion: """
            civicmap audit --organization 22     # find the entry
            civicmap revert 131                  # organisation 22 as it was before entry 131
            civicmap audit --action import       # an import (of the CLI or of POST /import)
            civicmap revert 140                  # what it added removed, what it changed as it was
            Only while those organisations are as the entry left it: revert later changes first, newest first. \
            The revert is an audit entry of its own (action revert), which can be reverted in turn.
            """)
    @OptionGroup var common: CommonOptions
    @Argument(help: "The audit entry's id (civicmap audit shows it)") var entry: Int64

    func run() async throws {
        let database = try common.openDatabase(try common.resolve())
        let outcome = try await database.revert(auditEntry: entry, by: Editor(name: Import.actor, role: .admin, regionCode: nil))
        let reverted = outcome.entry
        print("reverted entry \(reverted.id) (\(reverted.action) by \(reverted.actor) at \(reverted.at)): " + Self.said(outcome))
    }

    static func said(_ outcome: RevertOutcome) -> String {
        if let id = outcome.entry.organisationID {
            let what = outcome.removed > 0 ? "removed again" : outcome.revived > 0 ? "back, with its id" : "as it was before"
            return "organisation \(id) \(what)"
        }
        func count(_ n: Int, _ what: String) -> String? { n > 0 ? "\(n) organisation\(n == 1 ? "" : "s") \(what)" : nil }
        let parts = [count(outcome.removed, "removed"), count(outcome.restored, "as before"),
                     count(outcome.revived, outcome.revived == 1 ? "back, with its id" : "back, with their ids")]
        return parts.compactMap { $0 }.joined(separator: ", ")
    }
}

/// One line for an audit entry: the organisation's name and the fields a change touched, or an
/// entry's own summary (an import's counts, a token, moved regions).
enum AuditSummary {
    static func what(_ entry: AuditEntry) -> String {
        let before = entry.before.flatMap(object), after = entry.after.flatMap(object)
        let reverts = entry.reverts.map { "reverts entry \($0): " } ?? ""
        guard entry.organisationID != nil else { return reverts + (entry.after.map { String(decoding: $0, as: UTF8.self) } ?? "") }
        let name = (properties(after) ?? properties(before))?["name"] as? String ?? ""
        guard let old = before, let new = after else { return reverts + name }
        var fields = Set((properties(old) ?? [:]).keys).union((properties(new) ?? [:]).keys)
            .filter { $0 != "updated_at" && !same(properties(old)?[$0], properties(new)?[$0]) }.sorted()
        if !same(old["geometry"], new["geometry"]) { fields.insert("location", at: 0) }
        return reverts + (fields.isEmpty ? name : "\(name): \(fields.joined(separator: ", "))")
    }

    private static func same(_ a: Any?, _ b: Any?) -> Bool { JSONText.canonical(a) == JSONText.canonical(b) }

    private static func object(_ bytes: [UInt8]) -> [String: Any]? { try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] }
    private static func properties(_ feature: [String: Any]?) -> [String: Any]? { feature?["properties"] as? [String: Any] }
}
