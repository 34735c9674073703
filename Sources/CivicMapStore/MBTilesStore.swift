import CivicMapCore
import Foundation
import GRDB

/// Serves the MBTiles files of a folder (SQLite files of the MBTiles 1.3 spec), opened
/// read-only. For closed networks: a basemap with no outside tile server.
public final class MBTilesStore: TileSource, Sendable {
    private let sets: [String: (info: Tileset, database: DatabaseQueue)]

    /// Opens every `*.mbtiles` in `directory`; a missing folder means no tilesets.
    public init(directory: String) throws {
        var sets: [String: (Tileset, DatabaseQueue)] = [:]
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for file in files.sorted() where file.hasSuffix(".mbtiles") {
            let name = String(file.dropLast(".mbtiles".count))
            guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else { continue }
            var config = Configuration()
            config.readonly = true
            let queue = try DatabaseQueue(path: "\(directory)/\(file)", configuration: config)
            let metadata = try queue.read { db in
                Dictionary(try Row.fetchAll(db, sql: "SELECT name, value FROM metadata").map { ($0[0] as String, $0[1] as String) }, uniquingKeysWith: { a, _ in a })
            }
            let bounds = metadata["bounds"].flatMap { try? BoundingBox.parse($0) }
            let info = Tileset(
                name: name, format: metadata["format"] ?? "png", minZoom: Int(metadata["minzoom"] ?? "") ?? 0,
                maxZoom: Int(metadata["maxzoom"] ?? "") ?? 18, attribution: metadata["attribution"], bounds: bounds)
            sets[name] = (info, queue)
        }
        self.sets = sets
    }

    public func tilesets() -> [Tileset] { sets.values.map(\.info).sorted { $0.name < $1.name } }

    public func tile(tileset: String, z: Int, x: Int, y: Int) async throws -> [UInt8]? {
        guard let set = sets[tileset], (0...30).contains(z), x >= 0, y >= 0, x < 1 << z, y < 1 << z else { return nil }
        let row = (1 << z) - 1 - y  // MBTiles rows count from the south (TMS)
        return try await set.database.read { db in
            try Data.fetchOne(db, sql: "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?", arguments: [z, x, row])
        }.map { [UInt8]($0) }
    }
}
