import Foundation

/// RFC 4180 CSV: quoted fields, doubled quotes, CR/LF line ends, an optional UTF-8 BOM.
public enum CSV {
    /// One record and the 1-based line on which it starts (what error messages cite).
    public struct Record: Sendable {
        public var line: Int
        public var fields: [String]
    }

    /// Parses the whole text. Quoted fields may span lines; line numbers follow them. A big text
    /// is cut at record ends into one part per core, and the parts are parsed side by side.
    public static func parse(_ bytes: [UInt8], delimiter: UInt8 = 0x2C) throws(CivicMapError) -> [Record] {
        let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        let parts = recordAlignedParts(bytes, from: start, delimiter: delimiter, count: ProcessInfo.processInfo.activeProcessorCount)
        let parsed = Parallel.map(parts, minimumShare: 1) { part in
            Result { () throws(CivicMapError) in try parse(bytes, part.range, firstLine: part.line, delimiter: delimiter) }
        }
        var records: [Record] = []
        records.reserveCapacity(parsed.reduce(0) { $0 + ((try? $1.get())?.count ?? 0) })
        for part in parsed { records += try part.get() }
        return records
    }

    /// Where each part begins and ends (at a record's end), and its first line. Texts under a
    /// megabyte stay whole.
    static func recordAlignedParts(_ bytes: [UInt8], from start: Int, delimiter: UInt8, count: Int) -> [(range: Range<Int>, line: Int)] {
        guard count > 1, bytes.count - start >= 1 << 20 else { return [(start..<bytes.count, 1)] }
        var parts: [(range: Range<Int>, line: Int)] = []
        var state = Scanner(delimiter: delimiter)
        var partStart = start, partLine = 1, line = 1
        var i = start
        while i < bytes.count {
            let step = state.read(bytes, at: i)
            if bytes[i] == 0x0A { line += 1 }
            if step.endsRecord && i + 1 - partStart >= (bytes.count - start) / count && parts.count < count - 1 {
                parts.append((partStart..<i + 1, partLine))
                partStart = i + 1
                partLine = line
            }
            i += step.width
        }
        parts.append((partStart..<bytes.count, partLine))
        return parts
    }

    /// The records of `range`, which begins a record; its first line is `firstLine`.
    static func parse(_ bytes: [UInt8], _ range: Range<Int>, firstLine: Int, delimiter: UInt8) throws(CivicMapError) -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var state = Scanner(delimiter: delimiter)
        var line = firstLine, recordLine = firstLine

        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
        }
        func endRecord() {
            endField()
            if !(fields.count == 1 && fields[0].isEmpty) { records.append(Record(line: recordLine, fields: fields)) }
            fields = []
        }

        var i = range.lowerBound
        while i < range.upperBound {
            let step = state.read(bytes, at: i, end: range.upperBound)
            if let byte = step.byte { field.append(byte) }
            if step.endsField { endField() }
            if step.endsRecord { endRecord() }
            if bytes[i] == 0x0A {
                line += 1
                if step.endsRecord { recordLine = line }
            }
            i += step.width
        }
        if state.inQuotes {
            throw .invalidRecords([FieldProblem(line: recordLine, field: "*", reason: "a quoted field is not closed before the end of the file")])
        }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return records
    }

    /// RFC 4180's states, one byte at a time: shared by the parser and by the cut into parts,
    /// so both agree on where records end.
    struct Scanner {
        let delimiter: UInt8
        var inQuotes = false
        /// Bytes of the current field so far (a quote opens quoting only at a field's start).
        var fieldHasBytes = false
        var fieldWasQuoted = false

        init(delimiter: UInt8) { self.delimiter = delimiter }

        struct Step {
            /// The byte to append to the field, if any.
            var byte: UInt8? = nil
            var endsField = false
            var endsRecord = false
            /// Bytes consumed: 2 for a doubled quote inside quotes.
            var width = 1
        }

        @inline(__always)
        mutating func read(_ bytes: [UInt8], at i: Int, end: Int? = nil) -> Step {
            let b = bytes[i]
            var step = Step()
            if inQuotes {
                if b == 0x22 {
                    if i + 1 < (end ?? bytes.count) && bytes[i + 1] == 0x22 { step.byte = 0x22; step.width = 2 } else { inQuotes = false }
                } else {
                    step.byte = b
                }
            } else {
                switch b {
                case 0x22 where !fieldHasBytes && !fieldWasQuoted:
                    inQuotes = true
                    fieldWasQuoted = true
                case delimiter:
                    step.endsField = true
                case 0x0A:
                    step.endsRecord = true
                case 0x0D:
                    break
                default:
                    step.byte = b
                }
            }
            if step.byte != nil { fieldHasBytes = true }
            if step.endsField || step.endsRecord { fieldHasBytes = false; fieldWasQuoted = false }
            return step
        }
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
