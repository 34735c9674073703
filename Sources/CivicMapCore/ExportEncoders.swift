import Synchronization

/// Encodes an export in pieces: a head, chunks of items, a tail. The CLI's export uses the
/// same encoders, so a file from the command line equals one from the server.
public protocol ExportEncoder: Sendable {
    associatedtype Item: Sendable
    func head(count: Int) -> [UInt8]
    func encode(_ items: [Item], first: Bool) -> [UInt8]
    func tail() -> [UInt8]
}

public struct GeoJSONExport: ExportEncoder {
    public init() {}
    public func head(count: Int) -> [UInt8] {
        Array("{\"type\":\"FeatureCollection\",\"numberMatched\":\(count),\"features\":[\n".utf8)
    }
    /// Features arrive encoded: the export only joins them.
    public func encode(_ features: [EncodedFeature], first: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(features.reduce(0) { $0 + $1.bytes.count + 2 })
        for (n, f) in features.enumerated() {
            if !(first && n == 0) { out += [0x2C, 0x0A] }
            out += f.bytes
        }
        return out
    }
    public func tail() -> [UInt8] { Array("\n]}\n".utf8) }
}

public struct CSVExport: ExportEncoder {
    public var dialect: CSVDialect
    /// Adds `distance_km` (from the query's point) as the last column.
    public var withDistance: Bool
    /// Characters written as `?` because the dialect's encoding (Windows-1251) lacks them.
    public let lostCharacters = Counter()
    let table: CSVTable

    public init(dialect: CSVDialect = .standard, withDistance: Bool = false) {
        self.dialect = dialect
        self.withDistance = withDistance
        table = CSVTable(OrganisationCSV.table.columns + (withDistance ? [OrganisationCSV.distanceColumn] : []))
    }
    public func head(count: Int) -> [UInt8] {
        var out = dialect.preamble
        var text: [UInt8] = []
        table.appendHeader(dialect, to: &text)
        out += dialect.encode(text)
        return out
    }
    public func encode(_ organisations: [Organisation], first: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(organisations.count * 300)
        for o in organisations {
            var fields = OrganisationCSV.row(o, russian: dialect.header == .ru)
            if withDistance { fields.append(o.distanceToPointMetres.map { CSV.fixed($0 / 1000) } ?? "") }
            table.appendRow(fields, dialect, to: &out)
        }
        var lost = 0
        let encoded = dialect.encode(out, lost: &lost)
        lostCharacters.add(lost)
        return encoded
    }
    public func tail() -> [UInt8] { [] }
}

/// A count shared by copies of an encoder, added to from any thread.
public final class Counter: Sendable {
    private let value = Mutex(0)
    public init() {}
    public func add(_ n: Int) { if n != 0 { value.withLock { $0 += n } } }
    public var count: Int { value.withLock { $0 } }
}
