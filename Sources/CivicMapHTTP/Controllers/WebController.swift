import CivicMapCore
import Hummingbird

/// The map page, the embeddable widget, their files, Leaflet, and MBTiles basemaps.
struct WebController {
    let files: WebFiles
    let tiles: any TileSource

    func addRoutes(to router: RouteTable) {
        router.get("/embed") { request, _ in try onlyLanguage(request); return try files.page("embed.html") }
        router.get("/embed.js") { _, _ in try files.file(root: files.webDirectory, path: "embed.js") }
        router.get("/static/**") { _, context in
            try files.file(root: files.webDirectory, path: context.parameters.getCatchAll().joined(separator: "/"))
        }
        router.get("/vendor/leaflet/**") { _, context in
            try files.file(root: files.leafletDirectory, path: context.parameters.getCatchAll().joined(separator: "/"))
        }
        router.get("/tiles/:tileset/:z/:x/:y", use: tile)
    }

    /// The widget reads its URL in the browser (and ignores what it does not know); the server
    /// only checks that the query string decodes.
    private func onlyLanguage(_ request: Request) throws {
        _ = try QueryParameters.parse(request)
    }

    @Sendable func tile(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let name = context.parameters.get("tileset") ?? ""
        guard let set = tiles.tilesets().first(where: { $0.name == name }) else { throw CivicMapError.notFound("tileset '\(name)'") }
        let yText = (context.parameters.get("y") ?? "").split(separator: ".").first.map(String.init) ?? ""
        guard let z = context.parameters.get("z", as: Int.self), let x = context.parameters.get("x", as: Int.self), let y = Int(yText),
            let data = try await tiles.tile(tileset: name, z: z, x: x, y: y)
        else { throw CivicMapError.notFound("tile") }
        let type = WebFiles.contentTypes[set.format == "jpg" ? "jpg" : set.format] ?? "application/octet-stream"
        return Response(status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=86400"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
