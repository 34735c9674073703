import CivicMapCore
import Hummingbird

/// Turns a request on an organisation collection into a validated `FeatureQuery`; the items
/// endpoint and the exports share it, so an export selects exactly what a page shows.
struct FeatureRequest {
    let source: any FeatureSource
    let configuration: CivicMapConfiguration

    func query(
        _ request: Request, collection: Catalog.Collection, kinds: [OrganisationKind], paged: Bool,
        alsoAllowed: Set<String> = ["f"]
    ) async throws -> FeatureQuery {
        let parameters = try QueryParameters.parse(request)
        let parser = FeatureQueryParser(
            kinds: kinds, regions: try await source.regions(),
            defaultLimit: configuration.defaultLimit, maximumLimit: configuration.maximumLimit)
        return try parser.parse(parameters, collectionKinds: collection.kinds ?? [], alsoAllowed: alsoAllowed, paged: paged)
    }
}
