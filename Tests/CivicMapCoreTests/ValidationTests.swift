import Testing

@testable import CivicMapCore

@Suite("Validation of import records")
struct ValidationTests {
    let validator = OrganisationValidator(kinds: [.ngo, .tos, .internshipSite], regions: Fixtures.squareRegions, currentYear: 2026)

    func record(_ fields: [String: String], line: Int = 2) -> ImportRecord {
        var all = ["name": "АНО «Среда»", "kind": "ngo", "lat": "55.5", "lon": "39"]
        all.merge(fields) { $1 }
        return ImportRecord(line: line, fields: all.filter { !$0.value.isEmpty })
    }

    func problems(_ fields: [String: String]) -> [FieldProblem] {
        if case .rejected(let p) = validator.validate(record(fields)) { return p }
        return []
    }

    func accepted(_ fields: [String: String]) throws -> (Organisation, [FieldProblem]) {
        guard case .accepted(let o, let w) = validator.validate(record(fields)) else {
            Issue.record("rejected: \(problems(fields))")
            throw CivicMapError.notFound("organisation")
        }
        return (o, w)
    }

    @Test func aValidRecord() throws {
        let (o, warnings) = try accepted([
            "inn": "5981006306", "ogrn": "1155958122242", "categories": "экология; дети и молодежь",
            "founded_year": "2015", "website": "проектная-среда.рф",
        ])
        #expect(o.regionCode == "01")  // from the polygon: no region stated
        #expect(o.categories == ["экология", "дети и молодежь"])
        #expect(o.website == "https://проектная-среда.рф")
        #expect(warnings.isEmpty)
    }

    @Test(arguments: [
        (["lat": ""], "lat"), (["lat": "north"], "lat"), (["lat": "95"], "lat"), (["lon": "200"], "lon"),
        (["kind": "church"], "kind"), (["kind": ""], "kind"), (["name": ""], "name"),
        (["inn": "5981006307"], "inn"), (["ogrn": "1155958122243"], "ogrn"), (["founded_year": "1066"], "founded_year"),
        (["founded_year": "2999"], "founded_year"), (["website": "javascript:alert(1)"], "website"),
        (["email": "not an email"], "email"), (["region_iso": "RU-XYZ"], "region_iso"), (["id": "-4"], "id"),
        (["name": "line\u{0}break"], "name"), (["name": String(repeating: "я", count: 501)], "name"),
    ] as [([String: String], String)])
    func rejectedWithTheField(fields: [String: String], field: String) {
        let found = problems(fields)
        #expect(found.contains { $0.field == field && $0.line == 2 && !$0.reason.isEmpty }, "\(found)")
    }

    @Test func regionFromPolygonHonoursHoles() throws {
        #expect(try accepted(["lat": "55", "lon": "40"]).0.regionCode == "03")  // the city in the hole
        #expect(try accepted(["lat": "55", "lon": "43"]).0.regionCode == "02")
    }

    /// About 25 km outside B's outline: a simplified border, kept with a warning. About 190 km:
    /// refused, as the distance would be measured to B's centre.
    @Test func statedRegionContradictedIsKeptWithAWarningNearItsBorder() throws {
        let (o, warnings) = try accepted(["region_iso": "RU-BBB", "lon": "41.6"])
        #expect(o.regionCode == "02")
        #expect(warnings.count == 1 && warnings[0].field == "region_iso" && warnings[0].reason.contains("RU-AAA"))
        let far = problems(["region_iso": "RU-BBB"])
        #expect(far.count == 1 && far[0].field == "region_iso" && far[0].reason.contains("lies in RU-AAA Область А, 18"), "\(far)")
    }

    @Test func twoDigitCodeIsARegionToo() throws {
        #expect(try accepted(["region_iso": "1"]).0.regionCode == "01")
    }

    @Test func slightlyOutsideASimplifiedCoastIsAccepted() throws {
        #expect(try accepted(["lat": "56.05", "lon": "39"]).0.regionCode == "01")  // ~5.5 km north
    }

    @Test func farOutsideRussiaIsRejectedWithASwapHint() {
        let found = problems(["lat": "40", "lon": "55.5"])  // the lat/lon of a point in region A, swapped
        #expect(found.contains { $0.field == "lat" && $0.reason.contains("swapped") }, "\(found)")
    }

    @Test func regionWithoutOutlineUsesItsCentre() throws {
        #expect(try accepted(["lat": "45.1", "lon": "34.2"]).0.regionCode == "91")
        #expect(problems(["lat": "45.1", "lon": "34.2", "region_iso": "91"]).isEmpty)
        #expect(problems(["lat": "55", "lon": "43", "region_iso": "91"]).contains { $0.field == "region_iso" && $0.reason.contains("RU-BBB") })
    }

    @Test func programmesOnlyForInternshipSites() {
        var r = record([:])
        r.programmes = [ImportRecord(line: 2, fields: ["title": "Стажировка", "length_days": "2"])]
        guard case .rejected(let p) = validator.validate(r) else { Issue.record("accepted"); return }
        #expect(p.contains { $0.field == "programmes" })
    }

    @Test func programmeFieldsAreValidated() {
        var r = record(["kind": "internship_site"])
        r.programmes = [ImportRecord(line: 2, fields: [
            "title": "Стажировка", "length_days": "0", "starts_on": "2023-08-05", "ends_on": "2023-08-02",
            "selection_status": "maybe", "capacity": "-3",
        ])]
        guard case .rejected(let p) = validator.validate(r) else { Issue.record("accepted"); return }
        let fields = Set(p.map(\.field))
        #expect(fields == ["programmes[0].length_days", "programmes[0].ends_on", "programmes[0].selection_status", "programmes[0].capacity"])
    }

    @Test func realOutlinesPlaceKudymkarInPermKrai() throws {
        let regions = try RegionReader.read(
            csvPath: Fixtures.dataDirectory + "/regions.csv", outlinesPath: Fixtures.dataDirectory + "/regions_ru.geojson")
        #expect(regions.count == 89)
        #expect(regions.filter { $0.boundary != nil }.count == 83)
        let directory = RegionDirectory(regions)
        #expect(directory.region(containing: try Coordinate(latitude: 59.0152, longitude: 54.6532))?.iso == "RU-PER")
        #expect(directory.region(containing: try Coordinate(latitude: 62.0311, longitude: 129.7229))?.iso == "RU-SA")
        #expect(directory.region(containing: try Coordinate(latitude: 48.85, longitude: 2.35)) == nil)  // Paris
    }

    /// A programme's days fit between its dates (helper-19: 40 days on 2027-08-02…08-03).
    @Test func aProgrammesDaysFitBetweenItsDates() {
        #expect(TimeStamp.daysInclusive(from: "2027-08-02", to: "2027-08-03") == 2)
        #expect(TimeStamp.daysInclusive(from: "2024-02-28", to: "2024-03-01") == 3)  // a leap year
        #expect(TimeStamp.daysInclusive(from: "2023-12-31", to: "2024-01-01") == 2)
        #expect(TimeStamp.daysInclusive(from: "2023-09-01", to: "2024-01-31") == 153)
        func programme(days: String) -> ImportRecord {
            var r = record(["kind": "internship_site"])
            r.programmes = [ImportRecord(line: 2, fields: ["title": "Стажировка", "length_days": days, "starts_on": "2027-08-02", "ends_on": "2027-08-03"])]
            return r
        }
        guard case .rejected(let found) = validator.validate(programme(days: "40")) else { Issue.record("accepted"); return }
        #expect(found.map(\.field) == ["programmes[0].length_days"] && found.first?.reason.contains("(2 days)") == true, "\(found)")
        guard case .accepted = validator.validate(programme(days: "2")) else { Issue.record("rejected"); return }
    }

    /// A validator with the bundled regions' outlines and, unless told, the bundled settlements.
    static func bundled(kinds: Set<OrganisationKind>, settlements: Bool = true) throws -> OrganisationValidator {
        let data = Fixtures.dataDirectory
        let regions = try RegionReader.read(csvPath: data + "/regions.csv", outlinesPath: data + "/regions_ru.geojson")
        var validator = OrganisationValidator(kinds: kinds, regions: RegionDirectory(regions), currentYear: 2026)
        if settlements { validator.settlements = SettlementDirectory(try SettlementReader.read(path: data + "/settlements_ru.csv")) }
        return validator
    }

    @Test func aSwapInsideRussiaIsToldByTheStatedRegion() throws {
        let validator = try Self.bundled(kinds: [.ngo], settlements: false)
        // Kudymkar (Perm Krai) with lat and lon swapped lies in Chelyabinsk Oblast.
        let swapped = ImportRecord(line: 3, fields: ["name": "АНО", "kind": "ngo", "region_iso": "RU-PER", "lat": "54.6532", "lon": "59.0152"])
        guard case .rejected(let found) = validator.validate(swapped) else { Issue.record("accepted"); return }
        #expect(found.contains { $0.field == "lat" && $0.reason.contains("swapped") && $0.reason.contains("RU-PER") }, "\(found)")
        // Without a stated region either reading is a place in Russia: the point is taken as given.
        var unstated = swapped
        unstated.fields["region_iso"] = nil
        guard case .accepted(let o, _) = validator.validate(unstated) else { Issue.record("rejected"); return }
        #expect(o.regionCode != "59")
        // Near the diagonal (Oktyabrsky, Bashkortostan, by Tatarstan's border) the swapped point lands
        // back in the stated region too: a point just over a border keeps it, with a warning.
        let nearBorder = ImportRecord(line: 4, fields: ["name": "АНО", "kind": "ngo", "region_iso": "RU-BA", "lat": "54.477284", "lon": "53.429595"])
        guard case .accepted(let kept, let warnings) = validator.validate(nearBorder) else { Issue.record("rejected"); return }
        #expect(kept.regionCode == "02" && warnings.map(\.field) == ["region_iso"])
    }

    /// A mistyped region code (Excel's 59 → 9) would measure remoteness to another region's
    /// centre: a point far outside its stated region is refused; just over a border it is kept.
    @Test func aPointFarOutsideItsStatedRegionIsRefused() throws {
        let validator = try Self.bundled(kinds: [.tos], settlements: false)
        // Kudymkar's point stated as Karachay-Cherkessia (09): about 1,500 km away.
        let mistyped = ImportRecord(line: 5, fields: ["name": "ТОС", "kind": "tos", "region_code": "09", "lat": "59.0152", "lon": "54.6532"])
        guard case .rejected(let found) = validator.validate(mistyped) else { Issue.record("accepted"); return }
        #expect(found.count == 1 && found[0].field == "region_iso", "\(found)")
        #expect(found[0].reason.contains("stated RU-KC") && found[0].reason.contains("lies in RU-PER Пермский край")
                && found[0].reason.contains("km outside it; correct the region or the coordinates"), "\(found)")
        // Moscow's point stated as Yakutia.
        let moscow = ImportRecord(line: 6, fields: ["name": "АНО", "kind": "tos", "region_iso": "RU-SA", "lat": "55.75", "lon": "37.6"])
        guard case .rejected(let far) = validator.validate(moscow) else { Issue.record("accepted"); return }
        #expect(far.map(\.field) == ["region_iso"], "\(far)")
        // `import --keep-far-points` keeps the stated region, with a warning; a swap is still refused.
        var trusting = validator
        trusting.keepsFarPoints = true
        guard case .accepted(let kept, let warned) = trusting.validate(mistyped) else { Issue.record("rejected"); return }
        #expect(kept.regionCode == "09" && warned.map(\.field) == ["region_iso"], "\(warned)")
        let swapped = ImportRecord(line: 3, fields: ["name": "АНО", "kind": "tos", "region_iso": "RU-PER", "lat": "54.6532", "lon": "59.0152"])
        guard case .rejected(let stillSwapped) = trusting.validate(swapped) else { Issue.record("accepted a swap"); return }
        #expect(stillSwapped.map(\.field) == ["lat"], "\(stillSwapped)")
        // Khimki stated as Moscow, whose border is a few km away: kept as Moscow, with a warning.
        let nearBorder = ImportRecord(line: 7, fields: ["name": "АНО", "kind": "tos", "region_iso": "RU-MOW", "lat": "55.889", "lon": "37.445"])
        guard case .accepted(let kept, let warnings) = validator.validate(nearBorder) else { Issue.record("rejected"); return }
        #expect(kept.regionCode == "77" && warnings.map(\.field) == ["region_iso"], "\(warnings)")
    }

    /// What coordinators' own spreadsheets hold (helper-19's files): a region as a code or a
    /// short name in «Регион», kinds with doubled spaces, grouped digits, «г.» before a place,
    /// categories separated by commas.
    @Test func coordinatorsSpellingsAreUnderstood() throws {
        let validator = try Self.bundled(kinds: Set(OrganisationKind.shipped))
        func validated(_ fields: [String: String]) -> (Organisation?, [FieldProblem]) {
            let all = ["name": "АНО", "kind": "НКО", "lat": "58.0105", "lon": "56.2502"].merging(fields) { $1 }
            switch validator.validate(ImportRecord(line: 2, fields: all)) {
            case .accepted(let o, let warnings): return (o, warnings)
            case .rejected(let problems): return (nil, problems)
            }
        }
        for region in ["59", "RU-PER", "Пермский  край", "пермский край"] {
            #expect(validated(["region_name": region]).0?.regionCode == "59", "«\(region)»")
        }
        #expect(validated(["region_name": "Башкортостан", "lat": "54.7388", "lon": "55.9721"]).0?.regionCode == "02")
        #expect(validated(["region_iso": "Якутия", "lat": "62.0311", "lon": "129.7229"]).0?.regionCode == "14")
        #expect(validated(["region_name": "г. Москва", "lat": "55.75", "lon": "37.62"]).0?.regionCode == "77")
        #expect(validated(["region_name": "Пермь"]).0 == nil)  // a city is no region
        #expect(validated(["kind": "СОНКО"]).0?.kind == .ngo)
        #expect(validated(["kind": "Стажировочная  площадка"]).0?.kind == .internshipSite)
        let grouped = validated(["inn": "59 8100 6306", "ogrn": "1-15-59-58-12224-2"])
        #expect(grouped.0?.inn == "5981006306" && grouped.0?.ogrn == "1155958122242", "\(grouped.1)")
        let short = validated(["ogrn": "115595812224"]).1
        #expect(short.map(\.field) == ["ogrn"] && !short[0].reason.contains("leading zero"), "\(short)")
        #expect(validated(["categories": "экология, спорт; дети и молодежь"]).0?.categories == ["экология", "спорт", "дети и молодежь"])
        // «г. Кудымкар» is looked up as Кудымкар: Perm's point is 146 km off.
        #expect(validated(["settlement": "г. Кудымкар", "region_iso": "RU-PER"]).1.map(\.field) == ["lat"])
        #expect(validated(["settlement": "г. Кудымкар", "lat": "59.0152", "lon": "54.6532"]).1.isEmpty)
    }

    /// The settlement a row names tells a misplaced point, even without a stated region.
    @Test func aPointFarFromItsSettlementIsWarnedOf() throws {
        var validator = try Self.bundled(kinds: [.ngo])
        func warnings(_ fields: [String: String]) -> [FieldProblem] {
            guard case .accepted(_, let w) = validator.validate(ImportRecord(line: 2, fields: ["name": "АНО", "kind": "ngo"].merging(fields) { $1 })) else {
                Issue.record("rejected: \(fields)"); return []
            }
            return w
        }
        // In Kudymkar, named in any case: nothing to say.
        #expect(warnings(["settlement": "КУДЫМКАР", "region_iso": "RU-PER", "lat": "59.0152", "lon": "54.6532"]).isEmpty)
        // «Кудымкар» with Perm's point: 146 km off.
        let far = warnings(["settlement": "Кудымкар", "region_iso": "RU-PER", "lat": "58.0105", "lon": "56.2502"])
        #expect(far.map(\.field) == ["lat"])
        #expect(far.first?.reason.contains("km from «Кудымкар» (RU-PER Пермский край); check the coordinates") == true, "\(far)")
        // Swapped, without a region column: the point lies in another region, which has no
        // Кудымкар. The swap is refused, not warned of: it would move the row to another region.
        guard case .rejected(let swapped) = validator.validate(ImportRecord(line: 2, fields: [
            "name": "АНО", "kind": "ngo", "settlement": "Кудымкар", "lat": "54.6532", "lon": "59.0152"]))
        else { Issue.record("a swapped point was accepted"); return }
        #expect(swapped.count == 1 && swapped.first?.reason.contains("RU-PER Пермский край, where the point would lie with lat and lon swapped") == true,
                "\(swapped)")
        // A name only other regions have, unswapped (a village the gazetteer lacks): no word.
        #expect(warnings(["settlement": "Хонуу", "region_iso": "RU-PER", "lat": "58.0105", "lon": "56.2502"]).isEmpty)
        #expect(warnings(["settlement": "Нигдеево", "lat": "58.0105", "lon": "56.2502"]).isEmpty)
        // Without the gazetteer, no check.
        validator.settlements = SettlementDirectory([])
        #expect(warnings(["settlement": "Кудымкар", "region_iso": "RU-PER", "lat": "58.0105", "lon": "56.2502"]).isEmpty)
    }
}
