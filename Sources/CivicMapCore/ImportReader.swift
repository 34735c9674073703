import Foundation

/// Reads import files into `ImportRecord`s: CSV with a header row, or a GeoJSON
/// FeatureCollection of Points. Structural faults become problems with a line number.
public enum ImportReader {
    public struct Result: Sendable {
        public var records: [ImportRecord] = []
        public var problems: [FieldProblem] = []
        /// Columns or properties that mean nothing to CivicMap, reported once per file.
        public var ignoredFields: Set<String> = []
        /// Rows or features that could not be read at all (each has a problem).
        public var rejectedRows = 0
        /// How a CSV file was read (detected encoding and delimiter); nil for GeoJSON.
        public var dialect: CSVDialect? = nil
    }

    public static func read(path: String) throws(CivicMapError) -> Result {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .invalidParameter(name: "file", reason: "cannot read '\(path)'")
        }
        return try read(bytes: [UInt8](data), name: path)
    }

    /// An input's bytes; `name` (a path, or what a request's body is called) says GeoJSON by its
    /// extension, as does a first `{`.
    public static func read(bytes: [UInt8], name: String) throws(CivicMapError) -> Result {
        if let why = notText(bytes) { throw .invalidRecords([FieldProblem(line: 0, field: "*", reason: why)]) }
        let firstByte = bytes.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 && $0 != 0xEF && $0 != 0xBB && $0 != 0xBF }
        let lower = name.lowercased()
        if lower.hasSuffix(".geojson") || lower.hasSuffix(".json") || firstByte == 0x7B {
            return try geoJSON(Data(bytes))
        }
        return try csv(bytes)
    }

    /// Files people pick by mistake: workbooks, and UTF-16 without its byte-order mark.
    static func notText(_ bytes: [UInt8]) -> String? {
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return "this is an Excel workbook (.xlsx) or another zip file; save it as CSV (CSV UTF-8) and import that" }
        if bytes.starts(with: [0xD0, 0xCF, 0x11, 0xE0]) { return "this is an old Excel workbook (.xls); save it as CSV and import that" }
        let head = bytes.prefix(4096)
        if !bytes.starts(with: [0xFF, 0xFE]) && !bytes.starts(with: [0xFE, 0xFF]), head.filter({ $0 == 0 }).count * 4 > head.count {
            return "the file looks like UTF-16 text without a byte-order mark; save it as CSV UTF-8"
        }
        return nil
    }

    /// CSV as spreadsheet programs save it: encoding and delimiter detected, Russian column
    /// titles (as `header=ru` exports write them) understood.
    public static func csv(_ bytes: [UInt8]) throws(CivicMapError) -> Result {
        var result = Result()
        let text = CSVSniffer.decode(bytes)
        result.dialect = text.dialect
        let rows = try CSV.parse(text.utf8, delimiter: text.dialect.delimiter)
        guard let header = rows.first else {
            throw .invalidRecords([FieldProblem(line: 1, field: "*", reason: "the file is empty; expected a header row")])
        }
        let names = header.fields.map(ImportColumns.canonicalName)
        // Two headings for one field (Название and name, Широта and lat): which one counts?
        for (name, count) in Dictionary(names.map { ($0, 1) }, uniquingKeysWith: +) where count > 1 && !name.isEmpty {
            let headings = zip(header.fields, names).filter { $0.1 == name }.map { "«\($0.0)»" }.joined(separator: ", ")
            result.problems.append(FieldProblem(line: header.line, field: name, reason: "the columns \(headings) all mean \(name); keep one"))
        }
        for required in ["name", "kind", "lat", "lon"] where !names.contains(required) {
            result.problems.append(FieldProblem(line: header.line, field: required, reason: "column missing from the header"))
        }
        result.ignoredFields = Set(names.filter { !ImportColumns.known.contains($0) && !ImportColumns.derived.contains($0) })
        if !result.problems.isEmpty && names.count == 1 {
            result.problems.append(FieldProblem(
                line: header.line, field: "*",
                reason: "the header has one column; separate columns with ',', ';' or a tab (read as \(text.dialect.description))"))
        }
        // A header that does not say where the name, kind or point is makes no row readable:
        // the whole file is refused, in a partial import and a dry run too.
        guard result.problems.isEmpty else { throw .invalidRecords(result.problems) }
        let stated = StatedFields(names: names)
        let records = Parallel.map(Array(rows.dropFirst())) { row -> ImportRecord? in
            guard row.fields.count == names.count else { return nil }
            var fields: [String: String] = Dictionary(minimumCapacity: names.count)
            for (name, value) in zip(names, row.fields) where !value.isEmpty { fields[name] = value }
            return ImportRecord(line: row.line, fields: fields, stated: stated)
        }
        result.records.reserveCapacity(records.count)
        for (row, record) in zip(rows.dropFirst(), records) {
            // Rows without a value (`;;;;` below the data in a spreadsheet's CSV) are no rows.
            if row.fields.allSatisfy({ $0.utf8.allSatisfy { $0 == 0x20 || $0 == 0x09 } }) { continue }
            if let record, text.dialect.encoding == .windows1251, let field = record.fields.keys.sorted().first(where: {
                !lostLetterFree.contains($0) && lostLetter(in: record.fields[$0]!)
            }) {
                result.problems.append(FieldProblem(line: row.line, field: field, reason: """
                    '?' before a letter: Windows-1251 has no letter such as ҕ, ү, ө, һ or ӈ, and a program wrote '?' for it; \
                    save the file as CSV UTF-8 (the row would overwrite the right spelling)
                    """))
                result.rejectedRows += 1
                continue
            }
            if let record { result.records.append(record); continue }
            result.problems.append(FieldProblem(line: row.line, field: "*", reason: "has \(row.fields.count) fields; the header has \(names.count)"))
            result.rejectedRows += 1
        }
        return result
    }

    /// A `?` before a letter: what a Windows-1251 export leaves of a letter the code page lacks
    /// (Yakut, Bashkir, Tatar…), inside a word («Кун о?олоро») or at its start («??рэх» for
    /// «Үөрэх», «?арсын» for «Һарсын»). A `?` that ends a word («Что? Где?») is punctuation.
    static func lostLetter(in text: String) -> Bool {
        guard text.utf8.contains(UInt8(ascii: "?")) else { return false }
        let characters = Array(text)
        return characters.indices.dropLast().contains { i in characters[i] == "?" && characters[i + 1].isLetter }
    }

    /// Fields that are ASCII by nature, where `?` starts a URL's query.
    static let lostLetterFree: Set<String> = ["website", "email"]

    public static func geoJSON(_ data: Data) throws(CivicMapError) -> Result {
        let root: Any
        do { root = try JSONSerialization.jsonObject(with: data) } catch {
            let at = syntaxError(error, in: data)
            throw .invalidRecords([FieldProblem(line: at.line, field: "*", reason: "not valid JSON (RFC 8259): \(at.reason)")])
        }
        guard let collection = root as? [String: Any], collection["type"] as? String == "FeatureCollection",
            let features = collection["features"] as? [Any]
        else {
            throw .invalidRecords([FieldProblem(line: 0, field: "*", reason: "expected a GeoJSON FeatureCollection")])
        }
        var result = Result()
        for (index, item) in features.enumerated() {
            if let record = record(fromFeature: item, number: index + 1, into: &result) { result.records.append(record) }
        }
        return result
    }

    /// One GeoJSON Feature, as the write API receives it: an object, or its parsed JSON (a
    /// merge-patched Feature). Unlike a file, unknown properties are refused, not skipped: a
    /// coordinator who misspells a field must hear of it. Those and wrong JSON types go with the
    /// record (`readProblems`) so the validator's answer names them with every other problem;
    /// only what is no Feature at all is refused here.
    public static func feature(_ json: Any) throws(CivicMapError) -> ImportRecord {
        var result = Result()
        if let feature = json as? [String: Any], let properties = feature["properties"], !(properties is [String: Any]) && !(properties is NSNull) {
            throw .invalidRecords([FieldProblem(line: 1, field: "properties", reason: "must be an object")])
        }
        let record = record(fromFeature: json, number: 1, into: &result)
        let unknown = result.ignoredFields.map {
            FieldProblem(line: 1, field: $0, reason: "unknown property; known: \(ImportColumns.known.sorted().joined(separator: ", "))")
        }
        guard var record, result.problems.isEmpty else { throw .invalidRecords(result.problems + typeProblems(json)) }
        record.readProblems = (unknown + typeProblems(json)).sorted { $0.field < $1.field }
        record.stated = .all  // a write through the API states the whole organisation
        // What the server derives (a Feature read with GET and sent back carries them) is not input.
        for name in ImportColumns.derived { record.fields[name] = nil }
        return record
    }

    /// A Feature sent to the API must have the JSON types its definition (`/api`) gives: text
    /// as strings (an ИНН sent as a number loses its leading zero), `founded_year` an integer,
    /// `categories` strings, the point two numbers. Files are read leniently, as tools write them.
    static func typeProblems(_ json: Any) -> [FieldProblem] {
        guard let feature = json as? [String: Any] else { return [] }
        func isNumber(_ v: Any) -> Bool { (v as? NSNumber).map { String(cString: $0.objCType) != "c" } ?? false }
        var problems: [FieldProblem] = []
        // Only a Point's: other geometries are refused as such (`record(fromFeature:)`).
        if let geometry = feature["geometry"] as? [String: Any], geometry["type"] as? String == "Point",
            let position = geometry["coordinates"] as? [Any], position.count != 2 || !position.allSatisfy(isNumber)
        {
            problems.append(FieldProblem(line: 1, field: "geometry", reason: "coordinates must be two numbers, [lon, lat]"))
        }
        for (name, value) in feature["properties"] as? [String: Any] ?? [:] where !(value is NSNull) {
            switch name {
            case "founded_year":
                if !isNumber(value) || (value as! NSNumber).doubleValue.rounded() != (value as! NSNumber).doubleValue {
                    problems.append(FieldProblem(line: 1, field: name, reason: "must be an integer"))
                }
            case "categories":
                if !((value as? [Any])?.allSatisfy { $0 is String } ?? false) {
                    problems.append(FieldProblem(line: 1, field: name, reason: "must be an array of strings"))
                }
            case "programmes": break
            default:
                if ImportColumns.known.contains(name) && !(value is String) {
                    problems.append(FieldProblem(line: 1, field: name, reason: "must be a string"))
                }
            }
        }
        return problems.sorted { $0.field < $1.field }
    }

    /// Parses a request body as JSON, with the error a client can act on.
    public static func json(_ bytes: [UInt8]) throws(CivicMapError) -> Any {
        do { return try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) } catch {
            throw .invalidRecords([FieldProblem(line: 1, field: "*", reason: "the body is not valid JSON (RFC 8259): \(syntaxError(error, in: bytes).reason)")])
        }
    }

    /// Where JSON broke, as an editor shows it: Foundation says "around character N" (a byte
    /// offset), which is of no help in a 100 MB file; a line and column are.
    static func syntaxError(_ error: Error, in bytes: some BidirectionalCollection<UInt8>) -> (line: Int, reason: String) {
        let message = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? error.localizedDescription
        if message.contains("end of file") {
            let lines = bytes.count { $0 == 10 } + (bytes.last == 10 ? 0 : 1)  // the last line, ended or not
            return (lines, bytes.isEmpty ? "it is empty" : "the text ends before the JSON does (is it cut short?)")
        }
        guard let range = message.range(of: #" around character \d+"#, options: .regularExpression),
            let offset = Int(message[range].split(separator: " ").last!)
        else { return (0, message) }
        let before = bytes.prefix(offset)
        let line = before.count { $0 == 10 } + 1
        let column = before.reversed().prefix { $0 != 10 }.count { $0 & 0xC0 != 0x80 } + 1  // characters, not bytes
        let what = message[..<range.lowerBound].lowercased()
        return (line, "\(what) at line \(line), column \(column)")
    }

    private static func record(fromFeature item: Any, number: Int, into result: inout Result) -> ImportRecord? {
        guard let feature = item as? [String: Any], feature["type"] as? String == "Feature" else {
            result.problems.append(FieldProblem(line: number, field: "*", reason: "not a GeoJSON Feature"))
            result.rejectedRows += 1
            return nil
        }
        let properties = feature["properties"] as? [String: Any] ?? [:]
        var record = ImportRecord(line: number, fields: [:], stated: StatedFields(names: properties.keys))
        var readable = true
        for (name, value) in properties {
            if name == "programmes" {
                guard let list = value as? [[String: Any]] else {
                    result.problems.append(FieldProblem(line: number, field: "programmes", reason: "must be an array of objects"))
                    readable = false
                    continue
                }
                record.programmes = list.map { flatRecord(line: number, $0, into: &result) }
                record.lists["programmes"] = []  // marks that the feature states its programmes
            } else if ImportColumns.known.contains(name) || ImportColumns.derived.contains(name) {
                assign(name, value, to: &record)
            } else {
                result.ignoredFields.insert(name)
            }
        }
        if let id = feature["id"] { assign("id", id, to: &record) }
        if let geometry = feature["geometry"] as? [String: Any], geometry["type"] as? String == "Point",
            let position = geometry["coordinates"] as? [Any], position.count >= 2
        {
            assign("lon", position[0], to: &record)
            assign("lat", position[1], to: &record)
        } else if !(feature["geometry"] is NSNull) && feature["geometry"] != nil {
            result.problems.append(FieldProblem(line: number, field: "geometry", reason: "must be a Point"))
            readable = false
        }
        guard readable else { result.rejectedRows += 1; return nil }
        return record
    }

    private static func flatRecord(line: Int, _ object: [String: Any], into result: inout Result) -> ImportRecord {
        var record = ImportRecord(line: line, fields: [:])
        for (name, value) in object { assign(name, value, to: &record) }
        return record
    }

    private static func assign(_ name: String, _ value: Any, to record: inout ImportRecord) {
        switch value {
        case let s as String: record.fields[name] = s
        case let list as [Any]: record.lists[name] = list.map(text(of:))
        case is NSNull: break
        default: record.fields[name] = text(of: value)
        }
    }

    /// JSON scalars as the text a CSV would hold (`1995`, not `1995.0`).
    private static func text(of value: Any) -> String {
        if let s = value as? String { return s }
        if let n = value as? NSNumber {
            if String(cString: n.objCType) == "c" { return n.boolValue ? "true" : "false" }
            let d = n.doubleValue
            if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
            return String(d)
        }
        return String(describing: value)
    }
}
