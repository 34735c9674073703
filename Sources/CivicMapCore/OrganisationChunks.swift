/// Organisations delivered a chunk at a time, fetched only when the consumer asks for the
/// next one: a slow HTTP client slows the reads instead of filling memory.
public struct OrganisationChunks: AsyncSequence, Sendable {
    public typealias Element = [Organisation]
    /// How many organisations the whole sequence holds.
    public let count: Int
    private let fetch: @Sendable (_ chunkIndex: Int) async throws -> [Organisation]?

    public init(count: Int, fetch: @escaping @Sendable (_ chunkIndex: Int) async throws -> [Organisation]?) {
        self.count = count
        self.fetch = fetch
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var index = 0
        let fetch: @Sendable (Int) async throws -> [Organisation]?
        public mutating func next() async throws -> [Organisation]? {
            defer { index += 1 }
            return try await fetch(index)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(fetch: fetch) }
}
