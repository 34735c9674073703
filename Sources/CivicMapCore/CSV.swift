/// RFC 4180 CSV: quoted fields, doubled quotes, CR/LF line ends, an optional UTF-8 BOM.
public enum CSV {
    /// One record and the 1-based line on which it starts (what error messages cite).
    public struct Record: Sendable {
        public var line: Int
        public var fields: [String]
    }

    /// Parses the whole text. Quoted fields may span lines; line numbers follow them.
    public static func parse(_ bytes: [UInt8], delimiter: UInt8 = 0x2C) throws(CivicMapError) -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var i = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var line = 1, recordLine = 1
        var inQuotes = false, fieldWasQuoted = false

        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            fieldWasQuoted = false
        }
        func endRecord() {
            endField()
            if !(fields.count == 1 && fields[0].isEmpty) { records.append(Record(line: recordLine, fields: fields)) }
            fields = []
        }

        while i < bytes.count {
            let b = bytes[i]
            if inQuotes {
                if b == 0x22 {
                    if i + 1 < bytes.count && bytes[i + 1] == 0x22 { field.append(0x22); i += 1 } else { inQuotes = false }
                } else {
                    if b == 0x0A { line += 1 }
                    field.append(b)
                }
            } else {
                switch b {
                case 0x22 where field.isEmpty && !fieldWasQuoted:
                    inQuotes = true
                    fieldWasQuoted = true
                case delimiter:
                    endField()
                case 0x0A:
                    endRecord()
                    line += 1
                    recordLine = line
                case 0x0D:
                    break
                default:
                    field.append(b)
                }
            }
            i += 1
        }
        if inQuotes {
            throw .invalidRecords([FieldProblem(line: recordLine, field: "*", reason: "a quoted field is not closed before the end of the file")])
        }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return records
    }

    /// Appends one record, quoting fields that need it.
    public static func appendRecord(_ fields: [String], delimiter: UInt8 = 0x2C, to out: inout [UInt8]) {
        for (n, f) in fields.enumerated() {
            if n > 0 { out.append(delimiter) }
            if f.utf8.contains(where: { $0 == delimiter || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) {
                out.append(0x22)
                for u in f.utf8 {
                    if u == 0x22 { out.append(0x22) }
                    out.append(u)
                }
                out.append(0x22)
            } else {
                out.append(contentsOf: f.utf8)
            }
        }
        out.append(0x0D)
        out.append(0x0A)
    }

    /// A number with at most `decimals` decimals (six, as in GeoJSON), never in exponent form.
    public static func fixed(_ value: Double, decimals: Int = 6) -> String {
        var out: [UInt8] = []
        JSONWriter.appendFixed(value, decimals: decimals, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
