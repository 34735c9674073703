/// Encodes an export in pieces: a head, chunks of organisations, a tail. The CLI's export uses
/// the same encoders, so a file from the command line equals one from the server.
public protocol ExportEncoder: Sendable {
    func head(count: Int) -> [UInt8]
    func encode(_ organisations: [Organisation], first: Bool) -> [UInt8]
    func tail() -> [UInt8]
}

public struct GeoJSONExport: ExportEncoder {
    public init() {}
    public func head(count: Int) -> [UInt8] {
        Array("{\"type\":\"FeatureCollection\",\"numberMatched\":\(count),\"features\":[\n".utf8)
    }
    public func encode(_ organisations: [Organisation], first: Bool) -> [UInt8] {
        var w = JSONWriter(capacity: organisations.count * 700)
        for (n, o) in organisations.enumerated() {
            if !(first && n == 0) { w.raw(",\n"); w.resetSeparator() }
            GeoJSON.writeFeature(o, to: &w)
            w.resetSeparator()
        }
        return w.bytes
    }
    public func tail() -> [UInt8] { Array("\n]}\n".utf8) }
}

public struct CSVExport: ExportEncoder {
    public init() {}
    public func head(count: Int) -> [UInt8] {
        var out: [UInt8] = []
        CSV.appendRecord(OrganisationCSV.header, to: &out)
        return out
    }
    public func encode(_ organisations: [Organisation], first: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(organisations.count * 300)
        for o in organisations { CSV.appendRecord(OrganisationCSV.row(o), to: &out) }
        return out
    }
    public func tail() -> [UInt8] { [] }
}
