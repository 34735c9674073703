import CivicMapCore
import Foundation
import Testing

@testable import CivicMapStore

/// The tests' files, in one directory per test process that is removed when the process exits:
/// databases stay open until then, so nothing is removed beneath an open one.
enum TestDirectory {
    private static let root: URL = {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("civicmap-test-\(UUID().uuidString)")
        atexit { try? FileManager.default.removeItem(at: TestDirectory.root) }
        return root
    }()

    /// A new empty directory under the process's own.
    static func make() throws -> URL {
        let directory = root.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }
}

/// A real SpatiaLite database in a temporary file, with the bundled regions loaded.
struct TestDatabase {
    let database: CivicMapDatabase
    let directory: URL

    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    init(demo: Bool = false) throws {
        directory = try TestDirectory.make()
        database = try CivicMapDatabase(path: directory.appendingPathComponent("test.sqlite").path)
        let data = Self.repository.appendingPathComponent("data").path
        try database.loadRegions(RegionReader.read(csvPath: data + "/regions.csv", outlinesPath: data + "/regions_ru.geojson"), by: "cli:test")
        try database.loadSettlements(SettlementReader.read(path: data + "/settlements_ru.csv"))
        if demo {
            let summary = try database.importFiles([data + "/organizations.geojson"], currentYear: 2026)
            #expect(summary.problems.isEmpty, "\(summary.problems)")
        }
    }

    /// Writes a file in the test's directory and returns its path.
    func file(_ name: String, _ text: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func importCSV(_ rows: [String], options: ImportOptions = ImportOptions()) throws -> ImportSummary {
        let header = "id,name,kind,region_iso,settlement,address,inn,ogrn,categories,founded_year,website,lat,lon"
        let path = try file("import-\(UUID().uuidString).csv", ([header] + rows).joined(separator: "\n") + "\n")
        return try database.importFiles([path], options: options, currentYear: 2026)
    }

    func query(_ parameters: [(String, String)], kinds: [OrganisationKind]? = nil) async throws -> OrganisationPage {
        let all = try database.kindInfos().map(\.kind)
        let q = try FeatureQueryParser(kinds: all, regions: database.regionDirectory())
            .parse(parameters.map { (name: $0.0, value: $0.1) }, collectionKinds: kinds ?? all)
        return try await database.organisations(matching: q)
    }

    func count(_ sql: String) throws -> Int {
        try database.writer.read { db in try Int.fetchOne(db, sql: sql) ?? -1 }
    }
}

import GRDB
