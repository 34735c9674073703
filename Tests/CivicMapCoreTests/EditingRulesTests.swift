import Foundation
import Testing

@testable import CivicMapCore

/// The rules of the write API that need no database: merge patches, entity tags, reading one
/// Feature, and who may edit what.
@Suite("Editing rules")
struct EditingRulesTests {
    /// JSON text parsed as the write API parses request bodies.
    static func parse(_ text: String) throws -> Any { try ImportReader.json(Array(text.utf8)) }

    /// One canonical text per JSON value (sorted keys), so values compare as texts.
    static func canonical(_ value: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
    }

    /// The problems of an `invalidRecords` error; records an issue for anything else.
    static func problems(_ body: () throws -> Void) -> [FieldProblem] {
        do {
            try body()
            Issue.record("expected invalidRecords, nothing was thrown")
        } catch CivicMapError.invalidRecords(let problems) {
            return problems
        } catch {
            Issue.record("expected invalidRecords, got \(error)")
        }
        return []
    }

    // MARK: - RFC 7396 Appendix A

    @Test(arguments: [
        (#"{"a":"b"}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"b"}"#, #"{"b":"c"}"#, #"{"a":"b","b":"c"}"#),
        (#"{"a":"b"}"#, #"{"a":null}"#, #"{}"#),
        (#"{"a":"b","b":"c"}"#, #"{"a":null}"#, #"{"b":"c"}"#),
        (#"{"a":["b"]}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"c"}"#, #"{"a":["b"]}"#, #"{"a":["b"]}"#),
        (#"{"a":{"b":"c"}}"#, #"{"a":{"b":"d","c":null}}"#, #"{"a":{"b":"d"}}"#),
        (#"{"a":[{"b":"c"}]}"#, #"{"a":[1]}"#, #"{"a":[1]}"#),
        (#"["a","b"]"#, #"["c","d"]"#, #"["c","d"]"#),
        (#"{"a":"b"}"#, #"["c"]"#, #"["c"]"#),
        (#"{"a":"foo"}"#, #"null"#, #"null"#),
        (#"{"a":"foo"}"#, #""bar""#, #""bar""#),
        (#"{"e":null}"#, #"{"a":1}"#, #"{"a":1,"e":null}"#),
        (#"[1,2]"#, #"{"a":"b","c":null}"#, #"{"a":"b"}"#),
        (#"{}"#, #"{"a":{"bb":{"ccc":null}}}"#, #"{"a":{"bb":{}}}"#),
    ])
    func mergePatchFollowsRFC7396AppendixA(target: String, patch: String, result: String) throws {
        let merged = JSONMergePatch.apply(try Self.parse(patch), to: try Self.parse(target))
        #expect(try Self.canonical(merged) == Self.canonical(try Self.parse(result)))
    }

    @Test func mergePatchOnNoTargetBuildsTheObject() throws {
        let merged = JSONMergePatch.apply(try Self.parse(#"{"a":{"b":1},"c":null}"#), to: nil)
        #expect(try Self.canonical(merged) == #"{"a":{"b":1}}"#)
    }

    // MARK: - The stored Feature as the base of a patch

    static let stored = Array("""
        {"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[56.2502,58.0105]},"properties":{\
        "name":"АНО «Среда»","kind":"ngo","region_iso":"RU-PER","region_code":"59","region_name":"Пермский край",\
        "settlement":"Пермь","phone":"+7 342 000-00-00","distance_to_center_km":0.5,"distance_km":3.25,\
        "created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-02T00:00:00Z"},\
        "links":[{"href":"http://localhost/collections/ngo/items/7","rel":"self"}]}
        """.utf8)

    static func editable(patch: String) throws -> [String: Any] {
        try #require(try JSONMergePatch.editableFeature(stored, patch: try parse(patch)) as? [String: Any])
    }

    static func properties(_ feature: [String: Any]) throws -> [String: Any] {
        try #require(feature["properties"] as? [String: Any])
    }

    @Test func editableFeatureDropsDerivedPropertiesAndLinks() throws {
        let feature = try Self.editable(patch: #"{"properties":{"phone":null}}"#)
        #expect(feature["links"] == nil)
        #expect(feature["type"] as? String == "Feature")
        #expect(feature["geometry"] is [String: Any])
        #expect(Set(try Self.properties(feature).keys) == ["name", "kind", "region_iso", "settlement", "phone"])
    }

    @Test func editableFeatureKeepsTheRegionWhenThePointStays() throws {
        let properties = try Self.properties(try Self.editable(patch: #"{"properties":{"settlement":"Кудымкар"}}"#))
        #expect(properties["region_iso"] as? String == "RU-PER")
        #expect(properties["region_code"] == nil)
    }

    @Test func editableFeatureForgetsTheRegionWhenThePointMovesWithoutOne() throws {
        let properties = try Self.properties(try Self.editable(patch: #"{"geometry":{"type":"Point","coordinates":[129.7229,62.0311]}}"#))
        #expect(properties["region_iso"] == nil)
        #expect(properties["region_code"] == nil)
        #expect(properties["name"] as? String == "АНО «Среда»")
    }

    /// A patch that names a region (either way) replaces the stored one whole: merging it alone
    /// would leave the stored `region_iso`, which the validator reads first.
    @Test(arguments: [#"{"region_iso":"RU-SA"}"#, #"{"region_code":"14"}"#])
    func editableFeatureLeavesTheRegionToAPatchThatNamesOne(patchProperties: String) throws {
        let patch = #"{"properties":"# + patchProperties + "}"
        let properties = try Self.properties(try Self.editable(patch: patch))
        #expect(properties["region_iso"] == nil)
        #expect(properties["region_code"] == nil)
    }

    @Test func editableFeatureRefusesAStoredValueThatIsNotAnObject() {
        #expect(throws: CivicMapError.self) { _ = try JSONMergePatch.editableFeature(Array("[1]".utf8), patch: [String: Any]()) }
    }

    // MARK: - Entity tags

    @Test func entityTagIsAQuotedFNV1aHash() {
        // Published FNV-1a 64-bit test vectors.
        #expect(EntityTag.of([]) == #""cbf29ce484222325""#)
        #expect(EntityTag.of(Array("a".utf8)) == #""af63dc4c8601ec8c""#)
        #expect(EntityTag.of(Array("foobar".utf8)) == #""85944171f73967e8""#)
        // A hash below 2^60 keeps its leading zero: always 16 digits.
        #expect(EntityTag.of([0x20, 0x20]) == #""07c5a807b48ed46d""#)
    }

    @Test(arguments: ["", "a", "{\"id\":1}", "  ", "Пермь"])
    func entityTagShape(text: String) {
        let tag = EntityTag.of(Array(text.utf8))
        #expect(tag.count == 18)
        #expect(tag.hasPrefix("\"") && tag.hasSuffix("\""))
        #expect(tag.dropFirst().dropLast().allSatisfy { "0123456789abcdef".contains($0) })
    }

    @Test func entityTagDependsOnEveryByte() {
        let a = Array(#"{"type":"Feature","id":1,"properties":{"updated_at":"2026-01-01T00:00:00Z"}}"#.utf8)
        var b = a
        b[b.count - 4] = UInt8(ascii: "1")
        let copy = Array(String(decoding: a, as: UTF8.self).utf8)
        #expect(EntityTag.of(a) == EntityTag.of(copy))
        #expect(EntityTag.of(a) != EntityTag.of(b))
        #expect(EntityTag.of(a) != EntityTag.of(a + [0x20]))
    }

    @Test func ifMatchNamesTheTag() {
        let tag = EntityTag.of(Array("feature".utf8))
        let other = EntityTag.of(Array("another feature".utf8))
        #expect(EntityTag.ifMatch(tag, matches: tag))
        #expect(EntityTag.ifMatch(" \(tag) ", matches: tag))
        #expect(EntityTag.ifMatch("\(other), \(tag)", matches: tag))
        #expect(EntityTag.ifMatch("\(other),\(tag)", matches: tag))
        #expect(EntityTag.ifMatch("*", matches: tag))
        #expect(!EntityTag.ifMatch(other, matches: tag))
        #expect(!EntityTag.ifMatch("\(other), \(other)", matches: tag))
        #expect(!EntityTag.ifMatch("", matches: tag))
    }

    @Test func weakTagsNeverMatch() {
        let tag = EntityTag.of(Array("feature".utf8))
        #expect(!EntityTag.ifMatch("W/\(tag)", matches: tag))
        // Unquoted, the hash is not the tag either.
        #expect(!EntityTag.ifMatch(String(tag.dropFirst().dropLast()), matches: tag))
    }

    // MARK: - One Feature from a request body

    @Test func aValidFeatureGivesItsFields() throws {
        let record = try ImportReader.feature(try Self.parse("""
            {"type":"Feature","geometry":{"type":"Point","coordinates":[54.6532,59.0152]},
             "properties":{"name":"АНО «Среда»","kind":"ngo","region_iso":"RU-PER","founded_year":2015,"phone":null,
                           "categories":["экология","дети и молодежь"]}}
            """))
        #expect(record.text("name") == "АНО «Среда»")
        #expect(record.text("kind") == "ngo")
        #expect(record.text("lat") == "59.0152")
        #expect(record.text("lon") == "54.6532")
        #expect(record.text("region_iso") == "RU-PER")
        #expect(record.text("founded_year") == "2015")
        #expect(record.fields["phone"] == nil)
        #expect(record.list("categories") == ["экология", "дети и молодежь"])
        #expect(record.text("id") == nil)
    }

    @Test func aFeatureKeepsItsID() throws {
        let record = try ImportReader.feature(try Self.parse(#"{"type":"Feature","id":22,"geometry":null,"properties":{"name":"X"}}"#))
        #expect(record.text("id") == "22")
    }

    @Test func anUnknownPropertyIsRefusedByName() throws {
        let json = try Self.parse("""
            {"type":"Feature","geometry":{"type":"Point","coordinates":[54.6532,59.0152]},
             "properties":{"name":"АНО","kind":"ngo","colour":"red"}}
            """)
        let record = try ImportReader.feature(json)
        #expect(record.readProblems.map(\.field) == ["colour"])
        #expect(record.readProblems.first?.reason.contains("unknown") == true)
    }

    /// One answer names every problem: wrong types and unknown names as read, the values' own
    /// problems from the validator, and a misread field once.
    @Test func theValidatorNamesReadProblemsWithItsOwn() throws {
        let json = try Self.parse("""
            {"type":"Feature","geometry":{"type":"Point","coordinates":[40.5,55.5]},
             "properties":{"name":"АНО","kind":"zoo","colour":"red","inn":5902293058,"founded_year":"1995","email":"nowhere"}}
            """)
        let record = try ImportReader.feature(json)
        #expect(record.readProblems.map(\.field) == ["colour", "founded_year", "inn"])
        let validator = OrganisationValidator(kinds: [.ngo], regions: Fixtures.squareRegions, currentYear: 2026)
        guard case .rejected(let problems) = validator.validate(record) else { Issue.record("accepted"); return }
        #expect(problems.map(\.field).sorted() == ["colour", "email", "founded_year", "inn", "kind"])
        #expect(problems.first { $0.field == "inn" }?.reason == "must be a string")
        // Its types right and its name known, the same organisation passes the reading.
        let right = try ImportReader.feature(try Self.parse("""
            {"type":"Feature","geometry":{"type":"Point","coordinates":[40.5,55.5]},"properties":{"name":"АНО","kind":"ngo","founded_year":1995}}
            """))
        #expect(right.readProblems.isEmpty)
        guard case .accepted = validator.validate(right) else { Issue.record("rejected"); return }
    }

    @Test func derivedPropertiesAreNotUnknown() throws {
        let record = try ImportReader.feature(try Self.parse("""
            {"type":"Feature","geometry":{"type":"Point","coordinates":[54.6532,59.0152]},
             "properties":{"name":"АНО","kind":"ngo","region_name":"Пермский край","distance_to_center_km":145.5,
                           "created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}}
            """))
        #expect(record.text("name") == "АНО")
    }

    @Test(arguments: [#"[1,2]"#, #""name""#, #"7"#])
    func propertiesMustBeAnObject(properties: String) throws {
        let json = try Self.parse(#"{"type":"Feature","geometry":null,"properties":"# + properties + "}")
        let problems = Self.problems { _ = try ImportReader.feature(json) }
        #expect(problems.map(\.field) == ["properties"])
    }

    @Test func aLineIsNotAPoint() throws {
        let json = try Self.parse(#"{"type":"Feature","geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]},"properties":{"name":"X"}}"#)
        #expect(Self.problems { _ = try ImportReader.feature(json) }.map(\.field) == ["geometry"])
    }

    @Test(arguments: [#"{"type":"FeatureCollection","features":[]}"#, #"[]"#, #""Feature""#])
    func onlyAFeatureIsAFeature(text: String) throws {
        let json = try Self.parse(text)
        #expect(Self.problems { _ = try ImportReader.feature(json) }.map(\.field) == ["*"])
    }

    @Test func bodiesMustBeJSON() {
        let problems = Self.problems { _ = try ImportReader.json(Array("{\"name\": ".utf8)) }
        #expect(problems.map(\.field) == ["*"])
        #expect(Self.problems { _ = try ImportReader.json([]) }.count == 1)
    }

    @Test func brokenJSONSaysWhereByLineAndColumn() {
        // "around character 25" from Foundation is a byte offset; Cyrillic takes two bytes a letter.
        let body = Self.problems { _ = try ImportReader.json(Array("{\"name\": \"Жжж\",\n  \"kind\": x}".utf8)) }
        #expect(body.first?.reason.contains("at line 2, column 11") == true, "\(body)")
        let cyrillic = Self.problems { _ = try ImportReader.json(Array("{\n\"имя\": x}".utf8)) }  // x is the 8th character, the 11th byte
        #expect(cyrillic.first?.reason.contains("at line 2, column 8") == true, "\(cyrillic)")
        #expect(Self.problems { _ = try ImportReader.json([]) }.first?.reason.contains("empty") == true)
        let file = Self.problems { _ = try ImportReader.geoJSON(Data("{\"type\":\"FeatureCollection\",\n\"features\":[{".utf8)) }
        #expect(file.first?.line == 2 && file.first?.reason.contains("ends before") == true, "\(file)")
    }

    @Test func bodiesMayBeAnyJSONValue() throws {
        #expect(try ImportReader.json(Array("3".utf8)) as? Int == 3)
        #expect(try ImportReader.json(Array("null".utf8)) is NSNull)
    }

    // MARK: - Who may edit

    @Test func anUnscopedTokenMayEditEveryRegion() {
        for role in Editor.Role.allCases {
            let editor = Editor(name: "all", role: role, regionCode: nil)
            #expect(editor.mayEdit(regionCode: "59"))
            #expect(editor.mayEdit(regionCode: "14"))
        }
    }

    @Test func aScopedTokenMayEditItsRegionOnly() {
        let perm = Editor(name: "perm", role: .editor, regionCode: "59")
        #expect(perm.mayEdit(regionCode: "59"))
        #expect(!perm.mayEdit(regionCode: "14"))
        #expect(!perm.mayEdit(regionCode: "5"))
        #expect(!perm.mayEdit(regionCode: ""))
    }

    @Test func changesNameTheirActionAndOrganisation() {
        let record = ImportRecord(line: 1, fields: [:])
        #expect(OrganisationChange.create(record).action == .create)
        #expect(OrganisationChange.create(record).id == nil)
        #expect(OrganisationChange.replace(id: 3, record).action == .replace)
        #expect(OrganisationChange.update(id: 4, record).id == 4)
        #expect(OrganisationChange.delete(id: 5).action == .delete)
        #expect(OrganisationChange.delete(id: 5).id == 5)
    }

    @Test func anEditedFeatureIsTaggedByItsBytes() {
        let bytes = Array(#"{"type":"Feature"}"#.utf8)
        #expect(EditedFeature(id: 1, feature: EncodedFeature(id: 1, kind: .ngo, bytes: bytes)).entityTag == EntityTag.of(bytes))
        #expect(EditedFeature(id: 1, feature: nil).entityTag == nil)
    }
}
