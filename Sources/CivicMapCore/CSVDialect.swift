/// How a CSV file is written or was read: what spreadsheet programs in Russian offices expect
/// differs from RFC 4180 (Excel in a Russian locale splits on `;`, writes decimal commas and,
/// without a BOM, reads bytes as Windows-1251).
public struct CSVDialect: Sendable, Equatable {
    public enum Encoding: String, Sendable, CaseIterable {
        case utf8 = "utf-8"
        /// UTF-8 with a byte-order mark: how Excel recognises UTF-8 when opening a .csv.
        case utf8BOM = "utf-8-bom"
        /// The Russian ANSI code page of older Excel; characters it lacks become `?`.
        case windows1251 = "windows-1251"
        /// Excel's «Текст Юникод» (tab-separated UTF-16 LE); read only.
        case utf16 = "utf-16"
    }
    public enum HeaderLanguage: String, Sendable { case en, ru }

    public var delimiter: UInt8 = 0x2C
    public var decimalComma = false
    public var encoding: Encoding = .utf8
    public var header: HeaderLanguage = .en
    /// For files opened by double-click in a spreadsheet: identifiers written as `="…"` so
    /// leading zeros and 13–15 digits survive, and text that would start a formula prefixed
    /// with `'` (CSV injection). The import undoes both.
    public var spreadsheetSafe = false

    public init() {}

    /// RFC 4180 with UTF-8: what GDAL, pandas and the import read back unchanged.
    public static let standard = CSVDialect()
    /// Opens correctly by double-click in Excel and LibreOffice with Russian settings.
    public static var excel: CSVDialect {
        var d = CSVDialect()
        d.delimiter = 0x3B
        d.decimalComma = true
        d.encoding = .utf8BOM
        d.header = .ru
        d.spreadsheetSafe = true
        return d
    }

    /// The query parameters that choose a dialect, wherever CSV is served.
    public static let parameters = ["dialect", "delimiter", "decimal", "encoding", "header"]

    /// `dialect=standard|excel`, then any of `delimiter=comma|semicolon|tab`,
    /// `decimal=point|comma`, `encoding=utf-8|utf-8-bom|windows-1251`, `header=en|ru` override it.
    public static func parse(_ values: [String: String]) throws(CivicMapError) -> CSVDialect {
        var d: CSVDialect
        switch values["dialect"] {
        case nil, "standard": d = .standard
        case "excel": d = .excel
        case let other?: throw .invalidParameter(name: "dialect", reason: "unknown dialect '\(other)'; use standard or excel")
        }
        if let v = values["delimiter"] {
            switch v {
            case "comma", ",": d.delimiter = 0x2C
            case "semicolon", ";": d.delimiter = 0x3B
            case "tab": d.delimiter = 0x09
            default: throw .invalidParameter(name: "delimiter", reason: "unknown delimiter '\(v)'; use comma, semicolon or tab")
            }
        }
        if let v = values["decimal"] {
            switch v {
            case "point": d.decimalComma = false
            case "comma": d.decimalComma = true
            default: throw .invalidParameter(name: "decimal", reason: "unknown decimal separator '\(v)'; use point or comma")
            }
        }
        if let v = values["encoding"] {
            guard let e = Encoding(rawValue: v.lowercased()), e != .utf16 else {
                throw .invalidParameter(name: "encoding", reason: "unknown encoding '\(v)'; use utf-8, utf-8-bom or windows-1251")
            }
            d.encoding = e
        }
        if let v = values["header"] {
            guard let h = HeaderLanguage(rawValue: v) else { throw .invalidParameter(name: "header", reason: "unknown header language '\(v)'; use en or ru") }
            d.header = h
        }
        if d.decimalComma && d.delimiter == 0x2C {
            throw .invalidParameter(name: "decimal", reason: "a decimal comma needs another delimiter (semicolon or tab)")
        }
        return d
    }

    public var fileExtension: String { delimiter == 0x09 ? "tsv" : "csv" }
    public var mediaType: String {
        let charset = encoding == .windows1251 ? "windows-1251" : "utf-8"
        return (delimiter == 0x09 ? "text/tab-separated-values" : "text/csv") + "; charset=\(charset)"
    }

    /// The bytes that open a file (the BOM, if any).
    public var preamble: [UInt8] { encoding == .utf8BOM ? [0xEF, 0xBB, 0xBF] : [] }

    /// Appends one record. Numeric columns (`decimalColumns`) get a decimal comma if asked.
    public func appendRecord(_ fields: [String], decimalColumns: Set<Int> = [], to out: inout [UInt8]) {
        guard decimalComma, !decimalColumns.isEmpty else { return CSV.appendRecord(fields, delimiter: delimiter, to: &out) }
        let localised = fields.enumerated().map { n, f in decimalColumns.contains(n) ? String(f.map { $0 == "." ? "," : $0 }) : f }
        CSV.appendRecord(localised, delimiter: delimiter, to: &out)
    }

    /// A number's text with this dialect's decimal separator (for mixed columns).
    public func decimal(_ text: String) -> String { decimalComma ? String(text.map { $0 == "." ? "," : $0 }) : text }

    /// UTF-8 text in this dialect's encoding (records are appended as UTF-8 and converted once);
    /// `lost` counts the characters the encoding lacks (written as `?`).
    public func encode(_ utf8: [UInt8], lost: inout Int) -> [UInt8] {
        encoding == .windows1251 ? Windows1251.encode(utf8, lost: &lost) : utf8
    }

    public func encode(_ utf8: [UInt8]) -> [UInt8] {
        var lost = 0
        return encode(utf8, lost: &lost)
    }

    public var description: String {
        let name = switch delimiter { case 0x3B: "';'"; case 0x09: "tab"; default: "','" }
        return "\(encoding.rawValue), delimiter \(name)"
    }
}

/// A CSV table: columns with English and Russian titles, and which of them hold decimals.
public struct CSVTable: Sendable {
    public struct Column: Sendable {
        public var name: String
        public var titleRU: String
        public var isDecimal: Bool
        /// Digits that are not a number (ИНН, ОГРН, phone numbers).
        public var isIdentifier: Bool
        public init(_ name: String, _ titleRU: String, decimal: Bool = false, identifier: Bool = false) {
            self.name = name
            self.titleRU = titleRU
            self.isDecimal = decimal
            self.isIdentifier = identifier
        }
    }
    public var columns: [Column]
    public init(_ columns: [Column]) { self.columns = columns }

    public var decimalColumns: Set<Int> { Set(columns.indices.filter { columns[$0].isDecimal }) }

    public func appendHeader(_ dialect: CSVDialect, to out: inout [UInt8]) {
        var titles = columns.map { dialect.header == .ru ? $0.titleRU : $0.name }
        // Excel takes a file that begins with "ID" for a SYLK file and will not open it; quoted,
        // the title is plain text (and reads back the same).
        if titles.count > 1, titles[0].hasPrefix("ID") {
            out += Array("\"\(titles.removeFirst())\"".utf8)
            out.append(dialect.delimiter)
        }
        dialect.appendRecord(titles, to: &out)
    }

    public func appendRow(_ fields: [String], _ dialect: CSVDialect, to out: inout [UInt8]) {
        guard dialect.spreadsheetSafe else { return dialect.appendRecord(fields, decimalColumns: decimalColumns, to: &out) }
        let safe = fields.enumerated().map { n, f -> String in
            guard n < columns.count, !f.isEmpty, !columns[n].isDecimal else { return f }
            if columns[n].isIdentifier { return "=\"\(f)\"" }
            return Self.startsFormula(f) ? "'" + f : f
        }
        dialect.appendRecord(safe, decimalColumns: decimalColumns, to: &out)
    }

    /// What spreadsheets would evaluate: `=`, `+`, `-`, `@`, tab or CR first.
    public static func startsFormula(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first else { return false }
        return "=+-@\t\r".unicodeScalars.contains(first)
    }
}

/// Reading a file as spreadsheet programs save it: its encoding and delimiter are detected.
public enum CSVSniffer {
    public struct Text: Sendable {
        public var utf8: [UInt8]
        public var dialect: CSVDialect
    }

    /// BOMs first (UTF-8, UTF-16 LE/BE); then UTF-8, valid or nearly (a stray byte pasted into
    /// a UTF-8 file becomes U+FFFD, which the validator refuses in its row, instead of the whole
    /// file turning into mojibake); anything else is Windows-1251 (every byte of which but 0x98
    /// is a character, so Russian ANSI files read correctly).
    public static func decode(_ bytes: [UInt8]) -> Text {
        var d = CSVDialect()
        var text: [UInt8]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            d.encoding = .utf8BOM
            text = Array(bytes.dropFirst(3))
        } else if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
            d.encoding = .utf16
            let little = bytes[0] == 0xFF
            let units = stride(from: 2, to: bytes.count - 1, by: 2).map { i -> UInt16 in
                little ? UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8 : UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])
            }
            text = Array(String(decoding: units, as: UTF16.self).utf8)
        } else if String(validating: bytes, as: UTF8.self) != nil {
            text = bytes
        } else if case let (valid, invalid) = utf8Sequences(bytes), valid >= 20 * invalid {
            text = Array(String(decoding: bytes, as: UTF8.self).utf8)
        } else {
            d.encoding = .windows1251
            text = Windows1251.decode(bytes)
        }
        d.delimiter = delimiter(ofFirstLine: text)
        return Text(utf8: text, dialect: d)
    }

    /// Well-formed multi-byte UTF-8 sequences and bytes outside any. Russian text in
    /// Windows-1251 is nearly all of the second kind (a letter's byte is rarely followed by
    /// a continuation byte); UTF-8 text is all of the first.
    static func utf8Sequences(_ bytes: [UInt8]) -> (valid: Int, invalid: Int) {
        var valid = 0, invalid = 0, i = 0
        while i < bytes.count {
            let b = bytes[i]
            let length = b < 0x80 ? 1 : b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0
            if length == 1 { i += 1; continue }
            if length > 1, i + length <= bytes.count, bytes[(i + 1)..<(i + length)].allSatisfy({ $0 & 0xC0 == 0x80 }) {
                valid += 1
                i += length
            } else {
                invalid += 1
                i += 1
            }
        }
        return (valid, invalid)
    }

    /// The most frequent of `,` `;` tab outside quotes on the header line (comma on a tie).
    static func delimiter(ofFirstLine text: [UInt8]) -> UInt8 {
        var counts: [UInt8: Int] = [0x2C: 0, 0x3B: 0, 0x09: 0]
        var inQuotes = false
        for b in text {
            if b == 0x22 { inQuotes.toggle(); continue }
            if !inQuotes && (b == 0x0A || b == 0x0D) { break }
            if !inQuotes, counts[b] != nil { counts[b]! += 1 }
        }
        let best = counts.max { a, b in a.value < b.value || (a.value == b.value && a.key != 0x2C && b.key == 0x2C) }!
        return best.value > 0 ? best.key : 0x2C
    }
}

/// Windows-1251 (the Russian ANSI code page) to and from UTF-8, by table.
public enum Windows1251 {
    /// Code points of bytes 0x80–0xFF (0x98 is unassigned).
    static let upper: [UInt32] = [
        0x0402, 0x0403, 0x201A, 0x0453, 0x201E, 0x2026, 0x2020, 0x2021, 0x20AC, 0x2030, 0x0409, 0x2039, 0x040A, 0x040C, 0x040B, 0x040F,
        0x0452, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0xFFFD, 0x2122, 0x0459, 0x203A, 0x045A, 0x045C, 0x045B, 0x045F,
        0x00A0, 0x040E, 0x045E, 0x0408, 0x00A4, 0x0490, 0x00A6, 0x00A7, 0x0401, 0x00A9, 0x0404, 0x00AB, 0x00AC, 0x00AD, 0x00AE, 0x0407,
        0x00B0, 0x00B1, 0x0406, 0x0456, 0x0491, 0x00B5, 0x00B6, 0x00B7, 0x0451, 0x2116, 0x0454, 0x00BB, 0x0458, 0x0405, 0x0455, 0x0457,
        0x0410, 0x0411, 0x0412, 0x0413, 0x0414, 0x0415, 0x0416, 0x0417, 0x0418, 0x0419, 0x041A, 0x041B, 0x041C, 0x041D, 0x041E, 0x041F,
        0x0420, 0x0421, 0x0422, 0x0423, 0x0424, 0x0425, 0x0426, 0x0427, 0x0428, 0x0429, 0x042A, 0x042B, 0x042C, 0x042D, 0x042E, 0x042F,
        0x0430, 0x0431, 0x0432, 0x0433, 0x0434, 0x0435, 0x0436, 0x0437, 0x0438, 0x0439, 0x043A, 0x043B, 0x043C, 0x043D, 0x043E, 0x043F,
        0x0440, 0x0441, 0x0442, 0x0443, 0x0444, 0x0445, 0x0446, 0x0447, 0x0448, 0x0449, 0x044A, 0x044B, 0x044C, 0x044D, 0x044E, 0x044F,
    ]
    static let byteOf: [UInt32: UInt8] = Dictionary(
        uniqueKeysWithValues: upper.enumerated().filter { $0.element != 0xFFFD }.map { ($0.element, UInt8(0x80 + $0.offset)) })

    public static func decode(_ bytes: [UInt8]) -> [UInt8] {
        var scalars = String.UnicodeScalarView()
        for b in bytes { scalars.append(Unicode.Scalar(b < 0x80 ? UInt32(b) : upper[Int(b) - 0x80])!) }
        return Array(String(scalars).utf8)
    }

    /// Characters the code page lacks become `?`; `lost` counts them.
    public static func encode(_ utf8: [UInt8], lost: inout Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        for s in String(decoding: utf8, as: UTF8.self).unicodeScalars {
            if s.value < 0x80 {
                out.append(UInt8(s.value))
            } else if let byte = byteOf[s.value] {
                out.append(byte)
            } else {
                out.append(0x3F)
                lost += 1
            }
        }
        return out
    }

    public static func encode(_ utf8: [UInt8]) -> [UInt8] {
        var lost = 0
        return encode(utf8, lost: &lost)
    }
}
