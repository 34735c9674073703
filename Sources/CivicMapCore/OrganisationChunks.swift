/// Items delivered a chunk at a time, fetched only when the consumer asks for the next one:
/// a slow HTTP client slows the reads instead of filling memory.
public struct Chunks<Item: Sendable>: AsyncSequence, Sendable {
    public typealias Element = [Item]
    /// How many items the whole sequence holds.
    public let count: Int
    private let fetch: @Sendable (_ chunkIndex: Int) async throws -> [Item]?

    public init(count: Int, fetch: @escaping @Sendable (_ chunkIndex: Int) async throws -> [Item]?) {
        self.count = count
        self.fetch = fetch
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var index = 0
        let fetch: @Sendable (Int) async throws -> [Item]?
        public mutating func next() async throws -> [Item]? {
            defer { index += 1 }
            return try await fetch(index)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(fetch: fetch) }

    /// The same chunks, each transformed.
    public func map<Other: Sendable>(_ transform: @escaping @Sendable ([Item]) -> [Other]) -> Chunks<Other> {
        let fetch = self.fetch
        return Chunks<Other>(count: count) { index in try await fetch(index).map(transform) }
    }
}

public typealias OrganisationChunks = Chunks<Organisation>

extension Chunks where Item == Organisation {
    /// The same organisations as Features encoded on the fly.
    public func encoded() -> FeatureChunks { map { $0.map(EncodedFeature.init) } }
}
public typealias FeatureChunks = Chunks<EncodedFeature>

/// An organisation as a GeoJSON Feature, already encoded. A store may keep these precomputed,
/// so pages, cards and exports copy bytes instead of decoding rows and encoding JSON.
public struct EncodedFeature: Sendable {
    public var id: Int64
    public var kind: OrganisationKind
    public var bytes: [UInt8]

    public init(id: Int64, kind: OrganisationKind, bytes: [UInt8]) {
        self.id = id
        self.kind = kind
        self.bytes = bytes
    }

    public init(_ o: Organisation) {
        var w = JSONWriter(capacity: 1024)
        GeoJSON.writeFeature(o, to: &w)
        self.init(id: o.id ?? 0, kind: o.kind, bytes: w.bytes)
    }
}

public struct EncodedPage: Sendable {
    public var features: [EncodedFeature]
    public var numberMatched: Int
    /// The version of the data the page was read from (it changes with every write), for a
    /// page's entity tag; nil when the page does not depend on the data alone.
    public var dataVersion: String?
    public init(features: [EncodedFeature], numberMatched: Int, dataVersion: String? = nil) {
        self.features = features
        self.numberMatched = numberMatched
        self.dataVersion = dataVersion
    }

    /// A page of organisations encoded on the fly.
    public init(encoding page: OrganisationPage) {
        self.init(features: page.organisations.map(EncodedFeature.init), numberMatched: page.numberMatched)
    }
}
