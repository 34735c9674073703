/// Small JSON helpers: readers for the few JSON values stored in columns (string arrays), faster than
/// JSONSerialization on every row of a page, and a canonical text to compare parsed values by.
public enum JSONText {
    /// A parsed JSON value (or nil) as text with sorted keys: two values are equal when these are
    /// (Foundation on Linux has no `isEqual` for `Any`).
    public static func canonical(_ value: Any?) -> Data? {
        try? JSONSerialization.data(withJSONObject: [value ?? NSNull()], options: .sortedKeys)
    }

    /// Parses `["a","b"]`; anything else yields an empty array.
    public static func stringArray(_ text: String) -> [String] {
        let u = Array(text.utf8)
        var items: [String] = []
        var i = 0
        func skipSpace() { while i < u.count, u[i] == 0x20 || u[i] == 0x0A || u[i] == 0x0D || u[i] == 0x09 { i += 1 } }
        skipSpace()
        guard i < u.count, u[i] == 0x5B else { return [] }
        i += 1
        while true {
            skipSpace()
            guard i < u.count else { return items }
            if u[i] == 0x5D { return items }
            if u[i] == 0x2C { i += 1; continue }
            guard u[i] == 0x22 else { return items }
            i += 1
            var bytes: [UInt8] = []
            while i < u.count, u[i] != 0x22 {
                if u[i] == 0x5C, i + 1 < u.count {
                    i += 1
                    switch u[i] {
                    case 0x6E: bytes.append(0x0A)
                    case 0x72: bytes.append(0x0D)
                    case 0x74: bytes.append(0x09)
                    case 0x62: bytes.append(0x08)
                    case 0x66: bytes.append(0x0C)
                    case 0x75 where i + 4 < u.count:
                        let hex = String(decoding: u[(i + 1)...(i + 4)], as: UTF8.self)
                        if let v = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(v) { bytes.append(contentsOf: Array(String(scalar).utf8)) }
                        i += 4
                    default: bytes.append(u[i])
                    }
                } else {
                    bytes.append(u[i])
                }
                i += 1
            }
            items.append(String(decoding: bytes, as: UTF8.self))
            i += 1
        }
    }
}

/// How text is compared in searches: lower case, and ё as е, as Russian users type it.
public enum SearchText {
    /// Lower case with ё as е. ASCII and the basic Cyrillic letters are mapped here, the rest
    /// by their Unicode lower-case mapping, exactly as `lowercased()` does, which spent most of
    /// its time looking up Unicode tables (a tenth of an import).
    public static func normalise(_ s: String) -> String {
        // Most names are ASCII, basic Cyrillic and punctuation: mapped on their UTF-8 bytes, without building
        // a string scalar by scalar (a quarter of an import's encoding).
        let onBytes = s.utf8.withContiguousStorageIfAvailable(normaliseASCIIAndCyrillic)
        return (onBytes ?? nil) ?? normaliseScalars(s)
    }

    /// nil when the text holds anything else.
    private static func normaliseASCIIAndCyrillic(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b < 0x80 {
                out.append(b >= 0x41 && b <= 0x5A ? b + 0x20 : b)
                i += 1
                continue
            }
            // U+0080–U+00BF («, », №'s neighbours) and U+2000–U+203F (dashes, quotes): no letters.
            if b == 0xC2, i + 1 < bytes.count {
                out.append(b); out.append(bytes[i + 1])
                i += 2
                continue
            }
            if b == 0xE2, i + 2 < bytes.count, bytes[i + 1] == 0x80 {
                out.append(b); out.append(0x80); out.append(bytes[i + 2])
                i += 3
                continue
            }
            guard b == 0xD0 || b == 0xD1, i + 1 < bytes.count else { return nil }
            let v = UInt32(b & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F)
            let lower: UInt32
            switch v {
            case 0x410...0x42F: lower = v + 0x20
            case 0x401, 0x451: lower = 0x435  // Ё, ё
            case 0x400...0x40F: lower = v + 0x50
            case 0x430...0x45F: lower = v
            default: return nil
            }
            out.append(UInt8(0xC0 | lower >> 6))
            out.append(UInt8(0x80 | lower & 0x3F))
            i += 2
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func normaliseScalars(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in s.unicodeScalars {
            switch scalar.value {
            case 0x41...0x5A, 0x410...0x42F: out.append(Unicode.Scalar(scalar.value + 0x20)!)
            case 0x401, 0x451: out.append("е")  // Ё, ё
            case 0x400...0x40F: out.append(Unicode.Scalar(scalar.value + 0x50)!)
            case 0...0x7F, 0x430...0x45F: out.append(scalar)
            default: out.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars.map { $0 == "ё" ? "е" : $0 })
            }
        }
        return String(out)
    }

    public static func of(_ o: Organisation) -> String {
        normalise([o.name, o.settlement, o.address].compactMap { $0 }.joined(separator: " "))
    }

    /// Of items that differ only in case or ё, the first: «Волонтёрство; волонтерство» is one
    /// category to filters and counts.
    public static func distinct(_ items: [String]) -> [String] {
        guard items.count > 1 else { return items }
        var seen: Set<String> = []
        return items.filter { seen.insert(normalise($0)).inserted }
    }

    /// A search's words, normalised: split at spaces, quotes of every style («», "", „“, '') and
    /// commas, so a name pasted with other quotes or spacing than stored, or its words in
    /// another order, still matches (each word is looked for on its own).
    public static func words(_ query: String) -> [String] {
        normalise(query).unicodeScalars.split(whereSeparator: { wordSeparators.contains($0) || $0.properties.isWhitespace })
            .map { String(String.UnicodeScalarView($0)) }
    }

    private static let wordSeparators = Set("«»\"“”„‟'‘’‚`,;".unicodeScalars)
}

import Foundation
