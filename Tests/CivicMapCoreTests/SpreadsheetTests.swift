import Foundation
import Testing

@testable import CivicMapCore

@Suite("CSV as Russian offices' spreadsheets read and write it")
struct SpreadsheetTests {
    // Bytes Python's cp1251 codec gives for the same text.
    static let text = "Пермь №5 «Ёлка» — ёж"
    static let cp1251: [UInt8] = [207, 229, 240, 236, 252, 32, 185, 53, 32, 171, 168, 235, 234, 224, 187, 32, 151, 32, 184, 230]

    @Test func windows1251MatchesTheCodePage() {
        #expect(Windows1251.encode(Array(Self.text.utf8)) == Self.cp1251)
        #expect(String(decoding: Windows1251.decode(Self.cp1251), as: UTF8.self) == Self.text)
        // Characters the code page lacks become '?', never dropped.
        #expect(Windows1251.encode(Array("Кун оҕолоро".utf8)) == Windows1251.encode(Array("Кун о?олоро".utf8)))
    }

    /// A Windows-1251 export counts the letters it writes as `?`, and an import of such a file
    /// refuses the rows, which would overwrite the right spelling; a `?` that ends a word stays.
    @Test func lettersLostToWindows1251AreCountedAndNotImportedBack() throws {
        var o = Organisation(kind: .ngo, name: "Творческая группа «Кун оҕолоро»", regionCode: "14",
                             location: Coordinate(trustedLatitude: 62.03, longitude: 129.73))
        o.id = 8
        var quiz = o
        quiz.name = "Клуб «Что? Где? Когда?»"
        quiz.id = 9
        let encoder = CSVExport(dialect: try CSVDialect.parse(["dialect": "excel", "encoding": "windows-1251"]))
        let bytes = encoder.head(count: 2) + encoder.encode([o, quiz], first: true)
        #expect(encoder.lostCharacters.count == 1)
        let read = try ImportReader.csv(bytes)
        #expect(read.dialect?.encoding == .windows1251)
        #expect(read.records.map { $0.text("name") } == ["Клуб «Что? Где? Когда?»"])
        #expect(read.problems.map(\.line) == [2] && read.problems.first?.field == "name" && read.rejectedRows == 1)
    }

    /// Yakut names that begin with a letter Windows-1251 lacks lose it at the word's start.
    @Test(arguments: [
        ("ТОС «Үөрэх»", true), ("АНО «Һарсын»", true), ("Өркөн", true), ("Кун оҕолоро", true),
        ("Клуб «Что? Где? Когда?»", false), ("Кто мы?", false), ("?", false),
    ])
    func aLetterLostAtAWordsStartIsFound(name: String, lost: Bool) {
        let written = String(decoding: Windows1251.decode(Windows1251.encode(Array(name.utf8))), as: UTF8.self)
        #expect(ImportReader.lostLetter(in: written) == lost, "\(written)")
    }

    @Test func aWebsitesQueryIsNoLostLetter() throws {
        let csv = "name;kind;website;lat;lon\r\nАНО;ngo;https://ano.ru/?id=5;62,03;129,73\r\n"
        let read = try ImportReader.csv(Windows1251.encode(Array(csv.utf8)))
        #expect(read.dialect?.encoding == .windows1251)
        #expect(read.problems.isEmpty && read.records.count == 1, "\(read.problems)")
    }

    @Test func detectsEncodingAndDelimiter() {
        let bom = CSVSniffer.decode([0xEF, 0xBB, 0xBF] + Array("name;kind\nА;ngo\n".utf8))
        #expect(bom.dialect.encoding == .utf8BOM && bom.dialect.delimiter == 0x3B)
        #expect(String(decoding: bom.utf8, as: UTF8.self) == "name;kind\nА;ngo\n")

        let ansi = CSVSniffer.decode(Windows1251.encode(Array("Название;Вид\nФонд, «Ёлка»;НКО\n".utf8)))
        #expect(ansi.dialect.encoding == .windows1251 && ansi.dialect.delimiter == 0x3B)
        #expect(String(decoding: ansi.utf8, as: UTF8.self) == "Название;Вид\nФонд, «Ёлка»;НКО\n")

        // Excel's «Текст Юникод»: UTF-16 LE with a BOM, tab-separated.
        let utf16: [UInt8] = [0xFF, 0xFE] + "ИНН\tНазвание\n".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let unicode = CSVSniffer.decode(utf16)
        #expect(unicode.dialect.encoding == .utf16 && unicode.dialect.delimiter == 0x09)
        #expect(String(decoding: unicode.utf8, as: UTF8.self) == "ИНН\tНазвание\n")

        // A UTF-8 file with one stray byte stays UTF-8: the byte becomes U+FFFD, refused in
        // its row, instead of the whole file read as Windows-1251.
        let stray = CSVSniffer.decode(Array("Название;Адрес\nФонд «Ёлка»;Пермь\nФонд ".utf8) + [0xB9] + Array("5;Кудымкар\n".utf8))
        #expect(stray.dialect.encoding == .utf8)
        #expect(String(decoding: stray.utf8, as: UTF8.self) == "Название;Адрес\nФонд «Ёлка»;Пермь\nФонд \u{FFFD}5;Кудымкар\n")
        let record = ImportRecord(line: 3, fields: ["name": "Фонд \u{FFFD}5", "kind": "ngo", "lat": "55.5", "lon": "40.5"])
        let validator = OrganisationValidator(kinds: [.ngo], regions: Fixtures.squareRegions, currentYear: 2026)
        guard case .rejected(let problems) = validator.validate(record) else { Issue.record("accepted"); return }
        #expect(problems.map(\.field) == ["name"])
        // A Windows-1251 file with a letter that happens to be followed by a continuation byte
        // (Ё is A8, ё is B8) is still Windows-1251.
        #expect(CSVSniffer.decode(Windows1251.encode(Array("Название\nВЁЛКА — Ёлка и ёж, «Ёж»\n".utf8))).dialect.encoding == .windows1251)

        // Separators inside quotes do not count; a tie is a comma.
        #expect(CSVSniffer.decode(Array("\"a;b;c\",d\n".utf8)).dialect.delimiter == 0x2C)
        #expect(CSVSniffer.decode(Array("a;b,c\n".utf8)).dialect.delimiter == 0x2C)
    }

    @Test func dialectParametersAreValidated() throws {
        #expect(try CSVDialect.parse(["dialect": "excel"]) == .excel)
        let tsv = try CSVDialect.parse(["delimiter": "tab", "encoding": "windows-1251", "header": "ru"])
        #expect(tsv.delimiter == 0x09 && tsv.encoding == .windows1251 && tsv.header == .ru && tsv.fileExtension == "tsv")
        for (values, name) in [
            (["dialect": "lotus"], "dialect"), (["delimiter": "|"], "delimiter"), (["encoding": "koi8-r"], "encoding"),
            (["encoding": "utf-16"], "encoding"), (["header": "de"], "header"), (["decimal": "comma"], "decimal"),
        ] {
            #expect { try CSVDialect.parse(values) } throws: { error in
                guard case CivicMapError.invalidParameter(let n, _) = error else { return false }
                return n == name
            }
        }
    }

    @Test func excelExportUsesSemicolonsDecimalCommasBOMAndRussianHeaders() {
        var o = Organisation(kind: .ngo, name: "Фонд «Ёлка»; Пермь", regionCode: "59", location: Coordinate(trustedLatitude: 58.0105, longitude: 56.2502))
        o.id = 7
        o.distanceToCentreMetres = 145_552.679
        o.distanceToPointMetres = 1_500
        o.updatedAt = "2026-12-07T15:00:00Z"
        let encoder = CSVExport(dialect: .excel, withDistance: true)
        let bytes = encoder.head(count: 1) + encoder.encode([o], first: true)
        #expect(bytes.starts(with: [0xEF, 0xBB, 0xBF]))
        let lines = String(decoding: bytes.dropFirst(3), as: UTF8.self).split(separator: "\r\n").map(String.init)
        #expect(lines[0].hasPrefix("\"ID\";Название;Вид;"))
        #expect(lines[0].hasSuffix(";Расстояние до центра региона, км;Изменено;Расстояние, км"))
        #expect(lines[1].contains("\"Фонд «Ёлка»; Пермь\""))
        #expect(lines[1].contains(";58,0105;56,2502;"))
        // The version's time stays text in Excel (an import compares it with the stored one).
        #expect(lines[1].hasSuffix(";145,552679;\"=\"\"2026-12-07T15:00:00Z\"\"\";1,5"))
    }

    @Test func importReadsAnExcelSavedFile() throws {
        let csv = "Название;Вид;Код региона ISO;ИНН;ОГРН;Широта;Долгота\r\nФонд «Ёлка»;НКО;RU-PER;=\"5902293058\";1,02594E+12;58,0105;56,2502\r\n"
        let read = try ImportReader.csv(Windows1251.encode(Array(csv.utf8)))
        #expect(read.dialect?.encoding == .windows1251)
        #expect(read.ignoredFields.isEmpty)
        let record = try #require(read.records.first)
        #expect(record.text("name") == "Фонд «Ёлка»")
        #expect(record.text("lat") == "58,0105")
        #expect(record.text("kind") == "НКО")
        // Every name an Excel export writes for a kind reads back as that kind.
        for kind in OrganisationKind.shipped { #expect(OrganisationValidator.kindAliases[SearchText.normalise(kind.russianName)] == kind) }
        #expect(record.text("inn") == "5902293058")
        let why = try #require(OrganisationValidator.spreadsheetNumberProblem(record.text("ogrn")!, digits: [13, 15]))
        #expect(why.contains("spreadsheet"))
        #expect(OrganisationValidator.spreadsheetNumberProblem("590229305", digits: [10, 12])?.contains("leading zero") == true)
        #expect(OrganisationValidator.spreadsheetNumberProblem("5902293058", digits: [10, 12]) == nil)
    }

    /// Two habits of spreadsheets: rows with no values below the data, and line breaks typed
    /// into a cell (Alt+Enter). The first are no rows; one-line fields join the second's lines.
    @Test func emptyRowsAreSkippedAndLineBreaksInOneLineFieldsJoined() throws {
        let csv = "Название;Вид;Адрес;Описание;Широта;Долгота\r\n\"АНО\n«Ёлка»\";НКО;\"Пермь, ул. Ленина, 5,\r\nкв. 3\nвход со двора\";\"Две\nстроки\";55,5;40,5\r\n;;;;;\r\n ; ;;;;\r\n"
        let read = try ImportReader.csv(Array(csv.utf8))
        #expect(read.problems.isEmpty && read.rejectedRows == 0, "\(read.problems)")
        let record = try #require(read.records.count == 1 ? read.records.first : nil)
        let validator = OrganisationValidator(kinds: [.ngo], regions: Fixtures.squareRegions, currentYear: 2026)
        guard case .accepted(let o, let warnings) = validator.validate(record) else { Issue.record("rejected: \(validator.validate(record))"); return }
        #expect(o.name == "АНО «Ёлка»")
        #expect(o.address == "Пермь, ул. Ленина, 5, кв. 3, вход со двора")
        #expect(o.description == "Две\nстроки")  // a multi-line field keeps its lines
        #expect(Set(warnings.map(\.field)).isSuperset(of: ["name", "address"]))
        #expect(warnings.allSatisfy { $0.field != "description" })
    }

    /// Two headings for one field: which would count? The file is refused, naming both.
    @Test func twoColumnsForOneFieldAreRefused() throws {
        let problems = Self.headerProblems("Название;Широта;Долгота;Вид;lat\nФонд;58,0;56,2;НКО;59,0\n")
        #expect(problems.map(\.field) == ["lat"] && problems.first?.reason.contains("«Широта», «lat»") == true, "\(problems)")
    }

    @Test func excelFilesKeepIdentifiersAndDoNotRunFormulas() throws {
        var o = Organisation(kind: .ngo, name: "=HYPERLINK(\"http://x\")", regionCode: "01", inn: "0105012345", ogrn: "1020100001234",
                             phone: "+7 342 000", location: Coordinate(trustedLatitude: 44.6, longitude: -40.1))
        o.id = 3
        let encoder = CSVExport(dialect: .excel)
        let bytes = encoder.head(count: 1) + encoder.encode([o], first: true)
        let line = String(decoding: bytes.dropFirst(3), as: UTF8.self).split(separator: "\r\n")[1]
        #expect(line.contains(";\"'=HYPERLINK(\"\"http://x\"\")\";"))
        #expect(line.contains(";\"=\"\"0105012345\"\"\";\"=\"\"1020100001234\"\"\";"))
        #expect(line.contains(";44,6;-40,1;"))  // numbers stay numbers, minus sign included
        #expect(line.contains(";44,6;-40,1;\"=\"\"01\"\"\";"))  // the region's code keeps its leading zero
        // Excel takes a file that begins with the letters ID for SYLK, and refuses it.
        #expect(String(decoding: bytes.dropFirst(3), as: UTF8.self).hasPrefix("\"ID\";Название;"))
        // The import reads them back as they were.
        let read = try ImportReader.csv(bytes)
        let record = try #require(read.records.first)
        #expect(record.text("name") == "=HYPERLINK(\"http://x\")")
        #expect(record.text("inn") == "0105012345" && record.text("ogrn") == "1020100001234" && record.text("phone") == "+7 342 000")
        #expect(record.text("id") == "3" && record.text("region_code") == "01")
        // The standard dialect writes values as they are.
        let plain = CSVExport().encode([o], first: true)
        #expect(String(decoding: plain, as: UTF8.self).contains(",0105012345,1020100001234,"))
    }

    @Test func workbooksAndUTF16WithoutBOMAreNamed() {
        #expect(ImportReader.notText([0x50, 0x4B, 0x03, 0x04, 1, 2])?.contains("xlsx") == true)
        #expect(ImportReader.notText([0xD0, 0xCF, 0x11, 0xE0, 0xA1])?.contains(".xls") == true)
        #expect(ImportReader.notText(Array("name".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }))?.contains("UTF-16") == true)
        #expect(ImportReader.notText(Array("name,kind\n".utf8)) == nil)
    }

    @Test func aOneColumnHeaderSaysWhichSeparatorsAreUnderstood() throws {
        #expect(Self.headerProblems("name|kind|lat|lon\nА|ngo|1|2\n").contains { $0.reason.contains("separate columns") })
    }

    /// A header no row can be read by refuses the whole file: what it says.
    static func headerProblems(_ csv: String) -> [FieldProblem] {
        do {
            let read = try ImportReader.csv(Array(csv.utf8))
            Issue.record("read \(read.records.count) records")
        } catch {
            if case .invalidRecords(let problems) = error { return problems }
            Issue.record("\(error)")
        }
        return []
    }
}

@Suite("Region report and matching rules")
struct ReportRulesTests {
    @Test(arguments: [(12.0, 50.0), (817.0, 50.0), (145.5, 30.0), (3000.0, 50.0), (0.0, 50.0), (99.0, 0.0)])
    func binsAreFewAndTheThresholdIsAnEdge(maxKm: Double, thresholdKm: Double) {
        let width = RegionReport.binWidth(maxKm: maxKm, thresholdKm: thresholdKm)
        #expect((maxKm / width).rounded(.up) <= 20)
        // Where bins narrower than the threshold fit, the threshold falls on an edge.
        if thresholdKm > 0 && thresholdKm <= maxKm && maxKm / 20 <= thresholdKm {
            #expect((thresholdKm / width).rounded() * width == thresholdKm)
        }
    }

    @Test func reportParametersAreValidated() throws {
        let perm = try #require(RegionDirectory(try RegionReader.read(csvPath: Fixtures.dataDirectory + "/regions.csv", outlinesPath: nil)).region("RU-PER"))
        let q = try RegionReportQuery.parse(["threshold_km": "70", "kind": "ngo,tos", "top": "3"], region: perm, kinds: [.ngo, .tos, .internshipSite], defaultThresholdKm: 50)
        #expect(q.regionCode == "59" && q.thresholdKm == 70 && q.kinds == [.ngo, .tos] && q.top == 3)
        #expect(try RegionReportQuery.parse([:], region: perm, kinds: [.ngo], defaultThresholdKm: 42).thresholdKm == 42)
        for (values, name) in [
            (["threshold_km": "-1"], "threshold_km"), (["coverage_radius_km": "0"], "coverage_radius_km"),
            (["kind": "club"], "kind"), (["top": "5000"], "top"), (["top": "x"], "top"),
        ] {
            #expect { try RegionReportQuery.parse(values, region: perm, kinds: [.ngo], defaultThresholdKm: 50) } throws: { error in
                guard case CivicMapError.invalidParameter(let n, _) = error else { return false }
                return n == name
            }
        }
    }

    @Test func programmeParametersAreValidated() throws {
        let regions = RegionDirectory(try RegionReader.read(csvPath: Fixtures.dataDirectory + "/regions.csv", outlinesPath: nil))
        let q = try ProgrammeQuery.parse(["region_iso": "RU-PER,14", "status": "open"], regions: regions, today: "2026-11-23", maximumLimit: 100)
        #expect(q.regionCodes == ["59", "14"] && q.statuses == [.open] && q.from == "2026-11-23")
        for (values, name) in [(["status": "maybe"], "status"), (["from": "2026-02-30"], "from"), (["from": "23.11.2026"], "from"), (["region_iso": "RU-XX"], "region_iso")] {
            #expect { try ProgrammeQuery.parse(values, regions: regions, today: "2026-11-23", maximumLimit: 100) } throws: { error in
                guard case CivicMapError.invalidParameter(let n, _) = error else { return false }
                return n == name
            }
        }
    }

    @Test func radiusNeedsAPoint() throws {
        let parser = FeatureQueryParser(kinds: [.ngo], regions: RegionDirectory([]))
        #expect(try parser.parse([("near", "56.25,58.01"), ("radius_km", "150")], collectionKinds: [.ngo]).radiusKm == 150)
        #expect { try parser.parse([("radius_km", "150")], collectionKinds: [.ngo]) } throws: { error in
            guard case CivicMapError.invalidParameter(let n, _) = error else { return false }
            return n == "radius_km"
        }
    }
}
