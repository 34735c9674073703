import CivicMapCore

/// The collections the service publishes: every organisation, one per kind, and the regions.
/// Derived from the store's kinds, so a new kind becomes a new collection by itself.
struct Catalog {
    struct Collection {
        var id: String
        var title: String
        var description: String
        /// nil for the regions collection.
        var kinds: [OrganisationKind]?
    }

    static let regionsID = "regions"
    static let organisationsID = "organizations"

    let collections: [Collection]

    /// Titles are Russian, as the map's users read them; descriptions say it in Russian, then in
    /// English for the analysts' tools (QGIS shows the description as the layer's abstract).
    init(kinds: [KindInfo]) {
        var list = [Collection(
            id: Self.organisationsID, title: "Организации (все виды)",
            description: "НКО, ТОС и стажировочные площадки с геодезическим расстоянием до административного центра региона. "
                + "Non-profits, territorial public self-government bodies and internship sites with their geodesic distance to the regional centre.",
            kinds: kinds.map(\.kind))]
        list += kinds.map {
            Collection(id: $0.kind.rawValue, title: $0.titleRU, description: "\($0.titleRU). \($0.titleEN).", kinds: [$0.kind])
        }
        list.append(Collection(
            id: Self.regionsID, title: "Субъекты РФ",
            description: "Субъекты РФ с административными центрами и границами. Federal subjects with their administrative centres and outlines.",
            kinds: nil))
        collections = list
    }

    func collection(_ id: String) throws(CivicMapError) -> Collection {
        guard let found = collections.first(where: { $0.id == id }) else {
            throw .notFound("collection '\(id)'")
        }
        return found
    }
}
