import CivicMapCore
import Foundation
import GRDB

/// What a restore did, for the operator.
public struct RestoreSummary: Sendable {
    public var organisations = 0
    /// Where the database as it was before the restore is kept.
    public var keptAs = ""
    /// Tokens as they are now (revocations stay revoked, newer tokens stay valid).
    public var tokens = 0
    /// Audit entries written after the backup was taken, kept in the restored log.
    public var laterAuditEntries = 0
}

extension CivicMapDatabase {
    /// Replaces the database at `path` with the backup at `backup`, which only a database no
    /// other process has open may be (a server writing meanwhile would be lost, or corrupt
    /// the file). What a backup must not bring back is carried over from the database as it
    /// is now: the tokens (a revoked token stays revoked), and the audit log's later entries
    /// (who changed what since, and the ids used since, which are never given again). The
    /// database as it was is kept beside it, and the restore is logged.
    public static func restore(backup: String, into path: String, actor: String) throws -> RestoreSummary {
        var summary = RestoreSummary()
        try checkBackup(backup)
        let stamp = TimeStamp.string()
        summary.keptAs = path + ".before-restore-" + stamp.replacingOccurrences(of: ":", with: "")
        let staging = path + ".restoring-\(ProcessInfo.processInfo.processIdentifier)"
        defer { for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: staging + suffix) } }

        // Alone: only then does SQLite let the file leave WAL.
        let current = try DatabaseQueue(path: path)
        guard try current.writeWithoutTransaction(leaveWAL) else {
            throw CivicMapError.notReady("'\(path)' is open in another process (a server?); stop it, then restore")
        }
        do {
            try current.backup(to: DatabaseQueue(path: summary.keptAs))
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: summary.keptAs)  // as a backup is
            // A rollback journal, not WAL: every change is in the file itself when it closes.
            let queue = try DatabaseQueue(path: staging, configuration: configuration)
            try DatabaseQueue(path: backup).backup(to: queue)
            _ = try queue.writeWithoutTransaction(leaveWAL)
            _ = try CivicMapDatabase(writer: queue)  // migrates an older backup
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "ATTACH DATABASE ? AS now", arguments: [summary.keptAs])
                defer { try? db.execute(sql: "DETACH DATABASE now") }
                try db.inTransaction {
                    try carryOver(into: db, actor: actor, backup: backup, stamp: stamp, summary: &summary)
                    return .commit
                }
            }
            try queue.close()
            try current.close()
        } catch {
            current.writeWithoutTransaction(returnToWAL)
            throw error
        }
        // The old file's journals belong to the old file: gone before the new one takes its name.
        for suffix in ["-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        guard rename(staging, path) == 0 else {
            throw CivicMapError.notReady("could not put the restored file in place (\(String(cString: strerror(errno)))); '\(path)' is unchanged")
        }
        return summary
    }

    /// A whole CivicMap database, or a clear refusal.
    private static func checkBackup(_ backup: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: backup, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw CivicMapError.invalidParameter(name: "backup", reason: "no file at '\(backup)'")
        }
        var readOnly = Configuration()
        readOnly.readonly = true
        let source = try DatabaseQueue(path: backup, configuration: readOnly)
        defer { try? source.close() }
        let (check, tables) = try source.read { db in
            (try String.fetchOne(db, sql: "PRAGMA integrity_check"),
             try Set(String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")))
        }
        guard check == "ok" else { throw CivicMapError.invalidParameter(name: "backup", reason: "'\(backup)' fails its integrity check: \(check ?? "no answer")") }
        guard tables.isSuperset(of: ["organizations", "audit_log", "api_tokens"]) else {
            throw CivicMapError.invalidParameter(name: "backup", reason: "'\(backup)' is not a CivicMap database")
        }
    }

    private static func carryOver(into db: Database, actor: String, backup: String, stamp: String, summary: inout RestoreSummary) throws {
        // The columns both have: the database as it is now may predate a migration the copy was given.
        func common(_ table: String) throws -> String {
            try Set(String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?, 'now')", arguments: [table]))
                .intersection(String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?, 'main')", arguments: [table]))
                .sorted().joined(separator: ", ")
        }
        let tokenColumns = try common("api_tokens"), auditColumns = try common("audit_log")
        try db.execute(sql: """
            DELETE FROM api_tokens;
            INSERT INTO api_tokens (\(tokenColumns)) SELECT \(tokenColumns) FROM now.api_tokens;
            """)
        summary.tokens = try Int.fetchOne(db, sql: """
            SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at >= ?)
            """, arguments: [stamp]) ?? 0
        let before = try Int64.fetchOne(db, sql: "SELECT count(*) FROM audit_log") ?? 0
        let backupsNewest = try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM main.audit_log") ?? 0
        try db.execute(sql: """
            INSERT INTO audit_log (\(auditColumns)) SELECT \(auditColumns) FROM now.audit_log WHERE id > ?
            """, arguments: [backupsNewest])
        // And which organisations those entries' imports wrote: their ids stay retired (never given again; those entries are
        // not reverted past the restore, so their Features are not needed).
        if try !common("import_changes").isEmpty {
            try db.execute(sql: """
                INSERT INTO import_changes (entry_id, organization_id)
                SELECT entry_id, organization_id FROM now.import_changes WHERE entry_id > ?
                """, arguments: [backupsNewest])
        }
        summary.laterAuditEntries = try Int(Int64.fetchOne(db, sql: "SELECT count(*) FROM audit_log") ?? 0) - Int(before)
        summary.organisations = try Int.fetchOne(db, sql: OrganisationSQL.count) ?? 0
        var w = JSONWriter()
        w.beginObject()
        w.key("restored_from"); w.string((backup as NSString).lastPathComponent)
        w.key("organizations"); w.int(summary.organisations)
        w.key("kept_as"); w.string((summary.keptAs as NSString).lastPathComponent)
        w.endObject()
        try AuditSQL.append(db, actor: actor, action: .restore, organisationID: nil, before: nil, after: w.bytes, at: stamp)
    }
}
