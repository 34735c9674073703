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

        func run() async throws {
            guard let role = Editor.Role(rawValue: role) else { throw ValidationError("unknown role '\(role)'; use admin or editor") }
            if role == .admin, region != nil { throw ValidationError("admins are not limited to a region; drop --region or use --role editor") }
            let database = try common.openDatabase(try common.resolve())
            print(try database.createToken(name: name, role: role, region: region))
            FileHandle.standardError.write(Data("token '\(name)' (\(role.rawValue)\(region.map { ", region \($0)" } ?? "")): keep it secret; it is not shown again\n".utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (names, roles, regions; never the tokens).")
        @OptionGroup var common: CommonOptions

        func run() async throws {
            let database = try common.openDatabase(try common.resolve())
            print(["name", "role", "region", "created_at", "revoked_at"].joined(separator: "\t"))
            for t in try database.tokens() {
                print([t.name, t.role.rawValue, t.regionCode ?? "*", t.createdAt, t.revokedAt ?? ""].joined(separator: "\t"))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by name; it stops working at once.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "The token's name") var name: String

        func run() async throws {
            let database = try common.openDatabase(try common.resolve())
            try database.revokeToken(name: name)
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
