import Foundation
import Testing

@testable import CivicMapCore

@Suite("ИНН and ОГРН check digits")
struct TaxIdentifierTests {
    @Test(arguments: ["5981006306", "7707083893", "500100732259"])
    func validINN(_ inn: String) { #expect(TaxIdentifiers.isValidINN(inn)) }

    @Test(arguments: ["5981006307", "7707083890", "500100732258", "598100630", "59810063066", "59810O6306", ""])
    func invalidINN(_ inn: String) {
        #expect(!TaxIdentifiers.isValidINN(inn))
        #expect(TaxIdentifiers.innProblem(inn) != nil)
    }

    @Test(arguments: ["1155958122242", "1027700132195", "304500000000010"])
    func validOGRN(_ ogrn: String) { #expect(TaxIdentifiers.isValidOGRN(ogrn)) }

    @Test(arguments: ["1155958122243", "1027700132190", "304500000000011", "115595812224", "1155958l22242"])
    func invalidOGRN(_ ogrn: String) {
        #expect(!TaxIdentifiers.isValidOGRN(ogrn))
        #expect(TaxIdentifiers.ogrnProblem(ogrn) != nil)
    }

    @Test func problemSaysWhatIsWrong() {
        #expect(TaxIdentifiers.innProblem("12345")?.contains("10 digits") == true)
        #expect(TaxIdentifiers.innProblem("5981006307")?.contains("check digit") == true)
        #expect(TaxIdentifiers.ogrnProblem("abc")?.contains("digits only") == true)
    }
}

@Suite("JSON and CSV text")
struct TextFormatTests {
    @Test func jsonKeepsCyrillicAndEscapesControls() {
        var w = JSONWriter()
        w.beginObject()
        w.key("name"); w.string("АНО \"Среда\"\n<b>\\")
        w.key("tab"); w.string("a\tb\u{01}")
        w.endObject()
        let text = String(decoding: w.bytes, as: UTF8.self)
        #expect(text == #"{"name":"АНО \"Среда\"\n<b>\\","tab":"a\tb\u0001"}"#)
        let parsed = try? JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String: String]
        #expect(parsed?["name"] == "АНО \"Среда\"\n<b>\\")
    }

    @Test(arguments: [
        (56.2502, 6, "56.2502"), (-0.5, 6, "-0.5"), (145.7990985, 6, "145.799099"), (3.0, 6, "3"),
        (0.000001, 6, "0.000001"), (-0.0000001, 6, "0"), (1e20, 6, "1e+20"), (0.05, 3, "0.05"),
    ])
    func fixedPointNumbers(value: Double, decimals: Int, expected: String) {
        var out: [UInt8] = []
        JSONWriter.appendFixed(value, decimals: decimals, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == expected)
    }

    @Test func csvQuotesLinesAndBOM() throws {
        let text = "\u{FEFF}id,name\r\n1,\"АНО \"\"Право\"\", две\nстроки\"\r\n2,plain\n"
        let records = try CSV.parse(Array(text.utf8))
        #expect(records.count == 3)
        #expect(records[0].fields == ["id", "name"])
        #expect(records[1].fields == ["1", "АНО \"Право\", две\nстроки"])
        #expect(records[2].line == 4)
        var out: [UInt8] = []
        CSV.appendRecord(records[1].fields, to: &out)
        #expect(try CSV.parse(out)[0].fields == records[1].fields)
    }

    /// A big text is parsed in parts cut at record ends: the records and their lines must be
    /// the ones a single pass finds, whatever the quotes, line breaks and CRs around the cuts.
    @Test func csvInPartsEqualsOnePass() throws {
        let rows = [
            "1,\"two\nlines\",x\r\n", "2,\"a \"\"quoted\"\" word\",y\n", "3,plain,\"\"\n", "4,in\"side,z\n",
            "5,\"\"\"\"\"\",\"\n\n\"\n", "\n", "6,,\r\n",
        ]
        var text = "\u{FEFF}id,name,note\n"
        var n = 0
        while text.utf8.count < 3 << 20 {
            text += rows[n % rows.count]
            n += 1
        }
        let bytes = Array(text.utf8)
        let parts = CSV.recordAlignedParts(bytes, from: 3, delimiter: 0x2C, count: 4)
        #expect(parts.count == 4)
        let inParts = try parts.flatMap { try CSV.parse(bytes, $0.range, firstLine: $0.line, delimiter: 0x2C) }
        let whole = try CSV.parse(bytes, 3..<bytes.count, firstLine: 1, delimiter: 0x2C)
        #expect(inParts.count == whole.count && whole.count > 50_000)
        // elementsEqual: a failure message with 50,000 records takes minutes to print.
        #expect(inParts.elementsEqual(whole) { $0.line == $1.line && $0.fields == $1.fields })
        #expect(try CSV.parse(bytes).elementsEqual(whole) { $0.line == $1.line && $0.fields == $1.fields })
        #expect(whole[1].fields == ["1", "two\nlines", "x"] && whole[2].line == 4)
        // An unclosed quote in the last part is still reported, at its line.
        let open = bytes + Array("7,\"open\n".utf8)
        #expect(throws: CivicMapError.self) { try CSV.parse(open) }
    }

    @Test func csvReportsUnclosedQuote() {
        #expect(throws: CivicMapError.self) { try CSV.parse(Array("a,b\n1,\"open\n".utf8)) }
    }

    @Test func stringArraysRoundTrip() {
        var w = JSONWriter()
        let items = ["дети и молодежь", "a\"b", "c\\d", "e\nf"]
        w.strings(items)
        #expect(JSONText.stringArray(String(decoding: w.bytes, as: UTF8.self)) == items)
        #expect(JSONText.stringArray("[\"\\u0416\"]") == ["Ж"])
        #expect(JSONText.stringArray("not json").isEmpty)
    }

    @Test func searchTextFoldsCaseAndYo() {
        #expect(SearchText.normalise("Ёлки ПРОЕКТ") == "елки проект")
    }
}

@Suite struct SearchTextTests {
    /// The old definition: the stored search texts of existing databases were made with it.
    static func reference(_ s: String) -> String {
        String(String.UnicodeScalarView(s.lowercased().unicodeScalars.map { $0 == "ё" ? "е" : $0 }))
    }

    @Test func normaliseEqualsLowercasedWithYoAsYe() {
        var all = String.UnicodeScalarView()
        for v in 0...0x52F { if let scalar = Unicode.Scalar(v) { all.append(scalar) } }
        let text = String(all)
        #expect(SearchText.normalise(text) == Self.reference(text))
        for sample in ["ЁЛКА Ёлка", "Центр «ТОС Заречье», г. Якутск", "ҔАЛАБЫ Һ Ө Ү", "İstanbul ΣΟΦΙΑ", "ÄÖÜ ß Ǆ"] {
            #expect(SearchText.normalise(sample) == Self.reference(sample), "\(sample)")
        }
        #expect(SearchText.normalise("ЁЖИК") == "ежик")
        // Each scalar inside Cyrillic text too: the byte path takes ASCII and basic Cyrillic.
        for v in Array(0...0x52F) + Array(0x1FF0...0x2130) {
            guard let scalar = Unicode.Scalar(v) else { continue }
            let sample = "Ёж «" + String(scalar) + "» — Z"
            #expect(SearchText.normalise(sample) == Self.reference(sample), "U+\(String(v, radix: 16))")
        }
    }
}

/// The validator's fast text checks against the definitions they replace.
@Suite struct FastTextTests {
    @Test func whiteSpaceEqualsUnicodesWhiteSpaceProperty() {
        for v in Array(0...0x52F) + [0x85, 0xA0, 0x1680, 0x2000, 0x200A, 0x200B, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF] {
            guard let scalar = Unicode.Scalar(v) else { continue }
            #expect(scalar.isWhiteSpace == scalar.properties.isWhitespace, "U+\(String(v, radix: 16))")
        }
    }

    @Test func trimmingRemovesUnicodeWhiteSpaceOnly() {
        #expect("\u{A0} Проект\u{2003}\n".trimmedText == "Проект")
        #expect(" \t ".trimmedText == "")
        #expect("Ёлка".trimmedText == "Ёлка")
        #expect("\u{200B}x\u{200B}".trimmedText == "\u{200B}x\u{200B}")  // zero-width space is not White_Space
    }

    @Test func byteSearchFindsWhatFoundationFinds() {
        for (text, pattern) in [("1,02594E+12", "E+"), ("1E+", "E+"), ("E", "E+"), ("", "E+"), ("Е+", "E+"), ("ab", ""),
                                 ("E+", "E+"), ("EE+", "E+"), ("E E+", "E+"), ("ёE+", "E+"), ("1E2+", "E+"), ("ё", "ё"), ("ёж", "жё")] {
            #expect(text.containsBytes(pattern) == text.contains(pattern), "\(text) \(pattern)")
        }
    }

    @Test(arguments: [
        ("проектная-среда.рф", "https://проектная-среда.рф"), ("HTTP://Example.org/a", "HTTP://Example.org/a"),
        ("http://x.ru:8080/p?q#f", "http://x.ru:8080/p?q#f"), ("x.ru:8080", "https://x.ru:8080"),
        ("javascript:alert(1)", nil), ("localhost", nil), ("a b.ru", nil), ("https://x<.ru", nil), ("x.ru\u{A0}", nil),
        ("ftp://x.ru", nil),
    ] as [(String, String?)])
    func websitesAreNormalisedOrRefused(raw: String, expected: String?) {
        #expect(OrganisationValidator.normalisedWebsite(raw) == expected)
    }
}

@Suite("GeoJSON encoding")
struct GeoJSONEncodingTests {
    /// `/collections/{id}/schema` declares what `writeFeature` writes: every property (of a
    /// Feature with every field set), each with the JSON type it has.
    @Test func thePropertyTypesAreWhatTheEncoderWrites() throws {
        var o = Organisation(
            id: 7, kind: .internshipSite, name: "АНО", regionCode: "59", settlement: "Пермь", address: "ул. Ленина, 1",
            inn: "5981006306", ogrn: "1155958122242", categories: ["экология"], foundedYear: 2015, website: "https://example.org",
            email: "a@example.org", phone: "+7 342 000", description: "…", source: "seed",
            location: Coordinate(trustedLatitude: 58.0105, longitude: 56.2502), programmes: [Programme(title: "Стажировка", lengthDays: 2)])
        o.regionISO = "RU-PER"; o.regionName = "Пермский край"; o.distanceToCentreMetres = 0; o.distanceToPointMetres = 1500
        o.createdAt = "2026-12-07T10:00:00Z"; o.updatedAt = "2026-12-07T10:00:00Z"
        var w = JSONWriter()
        GeoJSON.writeFeature(o, to: &w)
        let feature = try #require(try JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String: Any])
        let properties = try #require(feature["properties"] as? [String: Any])
        #expect(Set(properties.keys) == Set(GeoJSON.propertyTypes.map(\.name) + ["distance_km", "programmes"]))
        for p in GeoJSON.propertyTypes {
            let value = properties[p.name]
            let matches = switch p.type {
            case "string": value is String
            case "array": value is [Any]
            case "integer", "number": value is NSNumber && !(value is String)
            default: false
            }
            #expect(matches, "\(p.name): \(String(describing: value)) is not \(p.type)")
        }
    }
}
