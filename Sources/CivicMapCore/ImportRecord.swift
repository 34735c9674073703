/// One input record before validation, whatever file it came from: scalar fields as text,
/// lists (categories, topics) as arrays, and nested programmes.
public struct ImportRecord: Sendable {
    /// 1-based line (CSV) or feature number (GeoJSON), cited in every problem.
    public var line: Int
    public var fields: [String: String]
    public var lists: [String: [String]]
    public var programmes: [ImportRecord]
    /// The optional fields the input stated (`StatedFields`); the API's writes state all.
    public var stated: StatedFields
    /// What reading found wrong before any value was looked at (the API's JSON types, unknown
    /// properties): the validator reports these with its own, so one answer names every problem.
    public var readProblems: [FieldProblem] = []

    public init(line: Int, fields: [String: String], lists: [String: [String]] = [:], programmes: [ImportRecord] = [],
                stated: StatedFields = .all) {
        self.line = line
        self.fields = fields
        self.lists = lists
        self.programmes = programmes
        self.stated = stated
    }

    /// A field's text with surrounding white space removed; nil when absent or blank. The
    /// spreadsheet-safe forms the Excel dialect writes (`="…"`, `'=…`) are read back as text.
    public func text(_ name: String) -> String? {
        guard let raw = fields[name] else { return nil }
        var trimmed = raw.trimmedText
        // Byte checks first: String's hasPrefix compares by canonical equivalence, which is slow.
        let first = trimmed.utf8.first
        if first == UInt8(ascii: "="), trimmed.hasPrefix("=\"") && trimmed.hasSuffix("\"") && trimmed.count >= 3 {
            trimmed = String(trimmed.dropFirst(2).dropLast()).trimmedText
        } else if first == UInt8(ascii: "'"), CSVTable.startsFormula(String(trimmed.dropFirst())) {
            trimmed.removeFirst()
        }
        return trimmed.isEmpty ? nil : trimmed
    }

    /// A list field: an array in GeoJSON, or `;`-separated text in CSV; items trimmed, empty
    /// ones left out.
    public func list(_ name: String) -> [String] {
        if let items = lists[name] { return items.map(\.trimmedText).filter { !$0.isEmpty } }
        guard let text = text(name) else { return [] }
        // Split on scalars: splitting Characters runs grapheme breaking over every byte. A file
        // separated by ';' lists them with ',', as the API's filters do.
        return text.unicodeScalars.split { $0 == ";" || $0 == "," }.map { String($0).trimmedText }.filter { !$0.isEmpty }
    }
}

/// The columns an import understands. Others are reported once as ignored, except the derived
/// ones an export writes, so an exported file imports back unchanged.
public enum ImportColumns {
    public static let known: Set<String> = [
        "id", "name", "kind", "region_iso", "region_code", "settlement", "address", "inn", "ogrn", "categories",
        "founded_year", "website", "email", "phone", "description", "source", "lat", "lon", "programmes",
    ]
    public static let derived: Set<String> = ["region_name", "distance_to_center_km", "distance_km", "created_at", "updated_at"]

    /// A header cell as a column name: English names as they are, Russian titles (those the
    /// exports write, and common variants) mapped to them.
    public static func canonicalName(_ header: String) -> String {
        let key = normalise(header)
        return russianTitles[key] ?? key
    }

    public static func normalise(_ s: String) -> String {
        SearchText.normalise(s.trimmedText).split(whereSeparator: { $0 == " " }).joined(separator: " ")
    }

    static let russianTitles: [String: String] = {
        var map: [String: String] = [:]
        for c in OrganisationCSV.table.columns + [OrganisationCSV.distanceColumn] { map[normalise(c.titleRU)] = c.name }
        for (title, name) in [
            ("наименование", "name"), ("название организации", "name"), ("тип", "kind"), ("вид организации", "kind"),
            ("город", "settlement"), ("населенный пункт", "settlement"), ("направления деятельности", "categories"),
            ("категории", "categories"), ("сайт организации", "website"), ("e-mail", "email"), ("email", "email"),
            ("электронная почта", "email"), ("широта", "lat"), ("долгота", "lon"), ("код региона iso", "region_iso"),
            ("регион iso", "region_iso"), ("год создания", "founded_year"),
        ] { map[normalise(title)] = name }
        return map
    }()
}

import Foundation

extension String {
    /// Without leading and trailing white space (Unicode), in pure Swift: Foundation's
    /// trimmingCharacters costs a fifth of an import's time on Linux.
    public var trimmedText: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.isWhiteSpace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.isWhiteSpace })!
        if first == scalars.startIndex && last == scalars.index(before: scalars.endIndex) { return self }
        return String(scalars[first...last])
    }
}

extension Unicode.Scalar {
    /// `properties.isWhitespace` (Unicode's White_Space) without its table look-up for ASCII and
    /// Cyrillic, which hold no white space but ASCII's: the look-up was an eighth of validation.
    public var isWhiteSpace: Bool {
        switch value {
        case 0x09...0x0D, 0x20: return true
        case 0...0x7F, 0x400...0x52F: return false
        default: return properties.isWhitespace
        }
    }
}

extension StringProtocol {
    /// Whether the UTF-8 bytes contain `pattern`'s, without Foundation's locale-aware search.
    /// (Foundation, too, finds no empty pattern.) A plain byte loop: the standard library's
    /// generic search looked up type metadata on every call, 17% of a 200,000-row import's CPU.
    func containsBytes(_ pattern: String) -> Bool {
        var text = String(self), pattern = pattern
        return text.withUTF8 { text in
            pattern.withUTF8 { pattern in
                guard let first = pattern.first, text.count >= pattern.count else { return false }
                return (0...(text.count - pattern.count)).contains { start in
                    text[start] == first && (1..<pattern.count).allSatisfy { text[start + $0] == pattern[$0] }
                }
            }
        }
    }
}

/// The optional fields an input stated: the columns of a file, the properties of a feature.
/// An update leaves the fields its input did not state as they are stored, so a file of names
/// and addresses does not clear the ИНН; an empty cell or a `null` states a field empty.
public struct StatedFields: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// In bit order. Name, kind and position are required; the region follows the position.
    public static let names = [
        "settlement", "address", "inn", "ogrn", "categories", "founded_year", "website", "email", "phone", "description", "source",
    ]
    public static let all = StatedFields(rawValue: 1 << names.count - 1)

    public init(names stated: some Sequence<String>) {
        self.init()
        for name in stated { if let field = Self.field(name) { insert(field) } }
    }

    /// The bit of an optional field; nil for a required one, which every input states.
    public static func field(_ name: String) -> StatedFields? {
        names.firstIndex(of: name).map { StatedFields(rawValue: 1 << $0) }
    }

    public func states(_ name: String) -> Bool { Self.field(name).map(contains) ?? true }
}

extension Organisation {
    /// Takes from `stored` every optional field that is not `stated`.
    public mutating func keepFields(of stored: Organisation, notIn stated: StatedFields) {
        guard stated != .all else { return }
        if !stated.states("settlement") { settlement = stored.settlement }
        if !stated.states("address") { address = stored.address }
        if !stated.states("inn") { inn = stored.inn }
        if !stated.states("ogrn") { ogrn = stored.ogrn }
        if !stated.states("categories") { categories = stored.categories }
        if !stated.states("founded_year") { foundedYear = stored.foundedYear }
        if !stated.states("website") { website = stored.website }
        if !stated.states("email") { email = stored.email }
        if !stated.states("phone") { phone = stored.phone }
        if !stated.states("description") { description = stored.description }
        if !stated.states("source") { source = stored.source }
    }
}
