import CivicMapCore
import CivicMapStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import CivicMapHTTP

/// The write API through the real router, over its own database (these tests write, so not
/// `Server.shared`'s) with the demo data and three tokens. Tests change only organisations they
/// create themselves, so they stay independent however they are scheduled.
struct EditingServer: Sendable {
    let database: CivicMapDatabase
    /// Role admin, every region: named "http-admin".
    let admin: String
    /// Role editor, every region: named "http-editor".
    let editor: String
    /// Role editor, Perm Krai (RU-PER, code 59) only: named "http-perm".
    let permEditor: String

    static let shared: Result<EditingServer, any Error> = Result {
        // Its own file: these tests write.
        let database = try Server.demoDatabase()
        return EditingServer(
            database: database,
            admin: try database.createToken(name: "http-admin", role: .admin, region: nil, expiresAt: nil, by: "cli:test"),
            editor: try database.createToken(name: "http-editor", role: .editor, region: nil, expiresAt: nil, by: "cli:test"),
            permEditor: try database.createToken(name: "http-perm", role: .editor, region: "RU-PER", expiresAt: nil, by: "cli:test"))
    }

    static func run(_ test: @escaping @Sendable (any TestClientProtocol, EditingServer) async throws -> Void) async throws {
        let server = try shared.get()
        let app = buildApplication(
            configuration: CivicMapConfiguration(), source: server.database, editor: server.database, logger: Logger(label: "test"))
        try await app.test(.router) { client in try await test(client, server) }
    }

    static let requestID = HTTPField.Name("X-Request-Id")!
    static let items = "/collections/organizations/items"

    static func headers(_ token: String?, type: String? = "application/geo+json", ifMatch: String? = nil) -> HTTPFields {
        var fields = HTTPFields()
        if let token { fields[.authorization] = "Bearer \(token)" }
        if let type { fields[.contentType] = type }
        if let ifMatch { fields[.ifMatch] = ifMatch }
        return fields
    }

    /// An NGO in Perm as a GeoJSON Feature; `extra` is appended to its properties.
    static func feature(
        name: String, id: Int? = nil, region: String = "RU-PER", coordinates: String = "[56.2502,58.0105]", extra: String = ""
    ) -> ByteBuffer {
        let idMember = id.map { #""id":\#($0),"# } ?? ""
        let geometry = #""geometry":{"type":"Point","coordinates":\#(coordinates)}"#
        let properties = #""properties":{"name":"\#(name)","kind":"ngo","region_iso":"\#(region)","settlement":"Пермь"\#(extra)}"#
        return ByteBuffer(string: #"{"type":"Feature",\#(idMember)\#(geometry),\#(properties)}"#)
    }

    static func uniqueName(_ prefix: String) -> String { "\(prefix) \(UUID().uuidString.prefix(8))" }

    /// POSTs a new NGO in Perm; returns its id and ETag.
    static func create(_ client: any TestClientProtocol, token: String, name: String) async throws -> (id: Int, tag: String) {
        try await client.execute(uri: items, method: .post, headers: headers(token), body: feature(name: name)) { (response: TestResponse) -> (id: Int, tag: String) in
            #expect(response.status == .created, "\(String(buffer: response.body))")
            let id = try #require(try Server.json(response)["id"] as? Int)
            let tag = try #require(response.headers[.eTag])
            return (id, tag)
        }
    }

    static func get(_ client: any TestClientProtocol, _ id: Int, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await client.execute(uri: "\(items)/\(id)", method: .get, headers: headers)
    }

    /// The fields named by a 422 problem's `errors`.
    static func fields(_ response: TestResponse) throws -> [String] {
        (try Server.json(response)["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
    }

    static func properties(_ response: TestResponse) throws -> [String: Any] {
        try #require(try Server.json(response)["properties"] as? [String: Any])
    }
}

@Suite("Write API over HTTP")
struct EditingHTTPTests {
    typealias S = EditingServer

    // MARK: - Credentials and bodies

    @Test(arguments: [nil, "Bearer cm_" + String(repeating: "0", count: 64), "Bearer", "Basic dXNlcjpwYXNz"] as [String?])
    func writesNeedAKnownBearerToken(authorization: String?) async throws {
        try await S.run { client, _ in
            var headers = S.headers(nil)
            if let authorization { headers[.authorization] = authorization }
            try await client.execute(uri: S.items, method: .post, headers: headers, body: S.feature(name: S.uniqueName("Без токена"))) { response in
                try Server.expectProblem(response, status: .unauthorized)
                #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            }
        }
    }

    @Test(arguments: ["text/plain", "application/x-www-form-urlencoded", nil] as [String?])
    func featuresMustBeSentAsJSON(contentType: String?) async throws {
        try await S.run { client, server in
            let headers = S.headers(server.admin, type: contentType)
            try await client.execute(uri: S.items, method: .post, headers: headers, body: S.feature(name: S.uniqueName("Текст"))) { response in
                try Server.expectProblem(response, status: .unsupportedMediaType)
            }
        }
    }

    @Test func aBodyOverOneMebibyteIsTooLarge() async throws {
        try await S.run { client, server in
            let body = ByteBuffer(string: #"{"type":"Feature","properties":{"description":""# + String(repeating: "a", count: 1 << 20) + #""}}"#)
            try await client.execute(uri: S.items, method: .post, headers: S.headers(server.admin), body: body) { response in
                try Server.expectProblem(response, status: .contentTooLarge)
            }
        }
    }

    // MARK: - Create and read with entity tags

    /// A page carries a weak entity tag: asked again with it, 304 until a write changes the data.
    @Test func pagesRevalidateUntilTheDataChanges() async throws {
        // Its own database: the other tests' writes would change the version under it.
        let database = try Server.demoDatabase()
        let editor = try database.createToken(name: "http-etag", role: .editor, region: nil, expiresAt: nil, by: "cli:test")
        let app = buildApplication(configuration: CivicMapConfiguration(), source: database, editor: database, logger: Logger(label: "test"))
        try await app.test(.router) { client in
            let page = "\(S.items)?region_iso=RU-PER&limit=5"
            let (tag, vary) = try await client.execute(uri: page, method: .get) { response -> (String, String?) in
                #expect(response.status == .ok && response.headers[.cacheControl] == "no-cache")
                return (try #require(response.headers[.eTag]), response.headers[.vary])
            }
            #expect(tag.hasPrefix("W/\""))
            #expect(vary == "Accept, Accept-Encoding")
            try await client.execute(uri: page, method: .get, headers: [.ifNoneMatch: tag]) { response in
                #expect(response.status == .notModified && response.body.readableBytes == 0)
                #expect(response.headers[.vary] == vary)  // RFC 9110 §15.4.5: what the 200 would say
            }
            try await client.execute(uri: "\(page)&offset=5", method: .get, headers: [.ifNoneMatch: tag]) { response in
                #expect(response.status == .ok)  // another page: another tag
            }
            _ = try await S.create(client, token: editor, name: S.uniqueName("АНО «Новая»"))
            try await client.execute(uri: page, method: .get, headers: [.ifNoneMatch: tag]) { response in
                #expect(response.status == .ok && response.headers[.eTag] != tag)
            }
        }
    }

    @Test func aCreatedFeatureReadsBackWithItsETag() async throws {
        try await S.run { client, server in
            let name = S.uniqueName("АНО «Создана»")
            let (id, tag) = try await client.execute(
                uri: S.items, method: .post, headers: S.headers(server.editor), body: S.feature(name: name)
            ) { (response: TestResponse) -> (Int, String) in
                #expect(response.status == .created)
                #expect(response.headers[.contentType] == "application/geo+json")
                let body = try Server.json(response)
                let id = try #require(body["id"] as? Int)
                #expect(response.headers[.location]?.hasSuffix("/collections/organizations/items/\(id)") == true)
                let tag = try #require(response.headers[.eTag])
                #expect(tag.count == 18 && tag.hasPrefix("\"") && tag.hasSuffix("\""))
                #expect((body["properties"] as? [String: Any])?["name"] as? String == name)
                return (id, tag)
            }
            #expect(id > 23)

            let read = try await S.get(client, id)
            #expect(read.status == .ok)
            #expect(read.headers[.eTag] == tag)
            #expect(try S.properties(read)["name"] as? String == name)
            #expect(try S.properties(read)["region_code"] as? String == "59")

            let notModified = try await S.get(client, id, headers: [.ifNoneMatch: tag])
            #expect(notModified.status == .notModified)
            #expect(notModified.headers[.eTag] == tag)
            #expect(read.headers[.vary] == "Accept" && notModified.headers[.vary] == read.headers[.vary])
            #expect(notModified.body.readableBytes == 0)

            let otherTag = try await S.get(client, id, headers: [.ifNoneMatch: #""0000000000000000""#])
            #expect(otherTag.status == .ok)
        }
    }

    @Test func postCannotChooseTheID() async throws {
        try await S.run { client, server in
            try await client.execute(uri: S.items, method: .post, headers: S.headers(server.admin), body: S.feature(name: S.uniqueName("С id"), id: 5)) { response in
                try Server.expectProblem(response, status: .unprocessableContent)
                #expect(try S.fields(response) == ["id"])
            }
        }
    }

    @Test func anUnknownPropertyIsNamed() async throws {
        try await S.run { client, server in
            let body = S.feature(name: S.uniqueName("Цветная"), extra: #","colour":"red""#)
            try await client.execute(uri: S.items, method: .post, headers: S.headers(server.admin), body: body) { response in
                try Server.expectProblem(response, status: .unprocessableContent)
                #expect(try S.fields(response) == ["colour"])
            }
        }
    }

    @Test func oneAnswerNamesEveryProblem() async throws {
        try await S.run { client, server in
            let body = S.feature(name: S.uniqueName("Много ошибок"), extra: #","colour":"red","inn":5902293058,"email":"nowhere","founded_year":"1995","website":"ftp://x""#)
            try await client.execute(uri: S.items, method: .post, headers: S.headers(server.admin), body: body) { response in
                try Server.expectProblem(response, status: .unprocessableContent)
                #expect(try S.fields(response).sorted() == ["colour", "email", "founded_year", "inn", "website"])
            }
        }
    }

    /// The write API holds Features to the JSON types of its definition: nothing stored from
    /// a point given as strings or in 3D, an ИНН as a number, a year as text, a region twice over.
    @Test(arguments: [
        ("[\"56.2502\",\"58.0105\"]", "", "geometry"), ("[56.2502,58.0105,120]", "", "geometry"),
        ("[56.2502,58.0105]", #","inn":5902293058"#, "inn"), ("[56.2502,58.0105]", #","founded_year":"2015""#, "founded_year"),
        ("[56.2502,58.0105]", #","categories":"экология""#, "categories"), ("[56.2502,58.0105]", #","region_code":"14""#, "region_code"),
    ])
    func featuresMustHaveTheDefinitionsTypes(coordinates: String, extra: String, field: String) async throws {
        try await S.run { client, server in
            let body = S.feature(name: S.uniqueName("Типы"), coordinates: coordinates, extra: extra)
            try await client.execute(uri: S.items, method: .post, headers: S.headers(server.admin), body: body) { response in
                try Server.expectProblem(response, status: .unprocessableContent)
                #expect(try S.fields(response) == [field])
            }
        }
    }

    @Test func regionsAreReadOnly() async throws {
        try await S.run { client, server in
            try await client.execute(uri: "/collections/regions/items", method: .post, headers: S.headers(server.admin), body: S.feature(name: "Регион")) { response in
                try Server.expectProblem(response, status: .methodNotAllowed)
                let allow = try #require(response.headers[.allow])
                #expect(allow.contains("GET"))
                #expect(!allow.contains("POST"))
            }
            // With the write API, an item answers every method it serves and refuses the rest.
            try await client.execute(uri: "/collections/organizations/items/1", method: .post, headers: S.headers(server.admin)) { response in
                try Server.expectProblem(response, status: .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, HEAD, PUT, PATCH, DELETE")
            }
        }
    }

    // MARK: - Changes guarded by If-Match

    @Test func patchNeedsTheCurrentETag() async throws {
        try await S.run { client, server in
            let (id, tag) = try await S.create(client, token: server.editor, name: S.uniqueName("АНО «Правка»"))
            let uri = "\(S.items)/\(id)"
            let patch = ByteBuffer(string: #"{"properties":{"phone":"+7 342 200-00-00"}}"#)
            let type = "application/merge-patch+json"

            try await client.execute(uri: uri, method: .patch, headers: S.headers(server.editor, type: type), body: patch) { response in
                try Server.expectProblem(response, status: .preconditionRequired)
            }
            let newTag = try await client.execute(
                uri: uri, method: .patch, headers: S.headers(server.editor, type: type, ifMatch: tag), body: patch
            ) { (response: TestResponse) -> String in
                #expect(response.status == .ok)
                #expect(try S.properties(response)["phone"] as? String == "+7 342 200-00-00")
                return try #require(response.headers[.eTag])
            }
            #expect(newTag != tag)
            #expect(try await S.get(client, id).headers[.eTag] == newTag)

            let lost = ByteBuffer(string: #"{"properties":{"phone":"+7 342 999-99-99"}}"#)
            try await client.execute(uri: uri, method: .patch, headers: S.headers(server.editor, type: type, ifMatch: tag), body: lost) { response in
                try Server.expectProblem(response, status: .preconditionFailed)
            }
            let read = try await S.get(client, id)
            #expect(read.headers[.eTag] == newTag)
            #expect(try S.properties(read)["phone"] as? String == "+7 342 200-00-00")
        }
    }

    @Test func putReplacesButCannotChangeTheID() async throws {
        try await S.run { client, server in
            let (id, tag) = try await S.create(client, token: server.editor, name: S.uniqueName("АНО «Замена»"))
            let uri = "\(S.items)/\(id)"
            let moved = S.feature(name: "Другая", id: id + 1000)
            try await client.execute(uri: uri, method: .put, headers: S.headers(server.editor, ifMatch: tag), body: moved) { response in
                try Server.expectProblem(response, status: .unprocessableContent)
                #expect(try S.fields(response) == ["id"])
            }
            #expect(try await S.get(client, id).headers[.eTag] == tag)

            let renamed = S.uniqueName("АНО «Заменена»")
            try await client.execute(uri: uri, method: .put, headers: S.headers(server.editor, ifMatch: tag), body: S.feature(name: renamed, id: id)) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.eTag] != tag)
                let name = try S.properties(response)["name"] as? String
                #expect(name == renamed)
            }
        }
    }

    @Test func aScopedTokenCannotChangeAnotherRegion() async throws {
        try await S.run { client, server in
            // Organisation 3 is in Yakutia; the token is for Perm Krai.
            let tag = try #require(try await S.get(client, 3).headers[.eTag])
            let patch = ByteBuffer(string: #"{"properties":{"phone":"+7 4112 00-00-00"}}"#)
            try await client.execute(
                uri: "\(S.items)/3", method: .patch, headers: S.headers(server.permEditor, type: "application/merge-patch+json", ifMatch: tag), body: patch
            ) { response in
                try Server.expectProblem(response, status: .forbidden)
            }
            #expect(try await S.get(client, 3).headers[.eTag] == tag)

            let yakutsk = S.feature(name: S.uniqueName("В Якутске"), region: "RU-SA", coordinates: "[129.7229,62.0311]")
            try await client.execute(uri: S.items, method: .post, headers: S.headers(server.permEditor), body: yakutsk) { response in
                try Server.expectProblem(response, status: .forbidden)
            }

            // In its own region the token writes.
            let (id, own) = try await S.create(client, token: server.permEditor, name: S.uniqueName("В Перми"))
            try await client.execute(
                uri: "\(S.items)/\(id)", method: .patch, headers: S.headers(server.permEditor, type: "application/merge-patch+json", ifMatch: own), body: patch
            ) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func deleteWithTheETagRemovesTheFeature() async throws {
        try await S.run { client, server in
            let (id, tag) = try await S.create(client, token: server.editor, name: S.uniqueName("АНО «Удалить»"))
            let uri = "\(S.items)/\(id)"
            try await client.execute(uri: uri, method: .delete, headers: S.headers(server.editor, type: nil)) { response in
                try Server.expectProblem(response, status: .preconditionRequired)
            }
            try await client.execute(uri: uri, method: .delete, headers: S.headers(server.editor, type: nil, ifMatch: tag)) { response in
                #expect(response.status == .noContent)
                #expect(response.body.readableBytes == 0)
            }
            try Server.expectProblem(try await S.get(client, id), status: .notFound)
            try await client.execute(uri: uri, method: .delete, headers: S.headers(server.editor, type: nil, ifMatch: tag)) { response in
                try Server.expectProblem(response, status: .notFound)
            }
        }
    }

    // MARK: - The audit log

    /// Admins read every entry; an editor reads its own (to find the number of a change to
    /// revert), never another token's name.
    @Test func theAuditLogIsForAdminsAndEachTokensOwnEntries() async throws {
        try await S.run { client, server in
            let (id, tag) = try await S.create(client, token: server.admin, name: S.uniqueName("АНО «Журнал»"))
            let patch = ByteBuffer(string: #"{"properties":{"phone":"+7 342 300-00-00"}}"#)
            try await client.execute(
                uri: "\(S.items)/\(id)", method: .patch, headers: S.headers(server.editor, type: "application/merge-patch+json", ifMatch: tag), body: patch
            ) { response in
                #expect(response.status == .ok)
            }
            let uri = "/audit?organization=\(id)"
            try await client.execute(uri: uri, method: .get, headers: S.headers(server.editor, type: nil)) { response in
                #expect(response.status == .ok)
                let entries = try #require(try Server.json(response)["entries"] as? [[String: Any]])
                #expect(entries.map { $0["action"] as? String } == ["update"] && entries.map { $0["actor"] as? String } == ["http-editor"])
            }
            try await client.execute(uri: uri, method: .get, headers: S.headers(server.permEditor, type: nil)) { response in
                let matched = try Server.json(response)["numberMatched"] as? Int
                #expect(response.status == .ok && matched == 0)
            }
            try await client.execute(uri: "\(uri)&actor=http-admin", method: .get, headers: S.headers(server.editor, type: nil)) { response in
                try Server.expectProblem(response, status: .forbidden)
            }
            try await client.execute(uri: uri, method: .get) { response in
                try Server.expectProblem(response, status: .unauthorized)
            }
            try await client.execute(uri: uri, method: .get, headers: S.headers(server.admin, type: nil)) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                let body = try Server.json(response)
                #expect(body["numberMatched"] as? Int == 2)
                let entries = try #require(body["entries"] as? [[String: Any]])
                #expect(entries.map { $0["action"] as? String } == ["update", "create"])
                #expect(entries.map { $0["actor"] as? String } == ["http-editor", "http-admin"])
                #expect(entries.allSatisfy { $0["organization_id"] as? Int == id })
                #expect(entries.last?["before"] is NSNull)
                let after = (entries.first?["after"] as? [String: Any])?["properties"] as? [String: Any]
                #expect(after?["phone"] as? String == "+7 342 300-00-00")
            }
            try await client.execute(uri: "/audit?limit=5", method: .get, headers: S.headers(server.admin, type: nil)) { response in
                let entries = try #require(try Server.json(response)["entries"] as? [[String: Any]])
                let ids = entries.compactMap { $0["id"] as? Int }
                #expect(ids.count == entries.count && !ids.isEmpty)
                #expect(ids == ids.sorted(by: >))
            }
        }
    }

    @Test func theAuditLogFiltersByActionAndTimeAndNamesAWrongFilter() async throws {
        try await S.run { client, server in
            let (id, _) = try await S.create(client, token: server.admin, name: S.uniqueName("АНО «Фильтр»"))
            let today = TimeStamp.today()
            try await client.execute(uri: "/audit?action=create&since=\(today)&until=\(today)&limit=1000", method: .get,
                                     headers: S.headers(server.admin, type: nil)) { response in
                #expect(response.status == .ok)
                let entries = try #require(try Server.json(response)["entries"] as? [[String: Any]])
                #expect(entries.allSatisfy { $0["action"] as? String == "create" && ($0["at"] as? String)?.hasPrefix(today) == true })
                #expect(entries.contains { $0["organization_id"] as? Int == id })
            }
            try await client.execute(uri: "/audit?action=create&until=2000-01-01", method: .get, headers: S.headers(server.admin, type: nil)) { response in
                let matched = try Server.json(response)["numberMatched"] as? Int
                #expect(matched == 0)
            }
            for (query, parameter) in [("action=edit", "action"), ("since=2026-02-30", "since"), ("until=07.12.2026", "until")] {
                try await client.execute(uri: "/audit?\(query)", method: .get, headers: S.headers(server.admin, type: nil)) { response in
                    try Server.expectProblem(response, status: .badRequest, parameter: parameter)
                }
            }
        }
    }

    @Test func anExpiredTokenIsRefusedWithWhen() async throws {
        try await S.run { client, server in
            let expires = TimeStamp.string(Date().addingTimeInterval(2))
            let token = try server.database.createToken(name: S.uniqueName("short"), role: .admin, region: nil, expiresAt: expires, by: "cli:test")
            try await Task.sleep(for: .seconds(3))
            try await client.execute(uri: "/audit", method: .get, headers: S.headers(token, type: nil)) { response in
                try Server.expectProblem(response, status: .unauthorized)
                let detail = try Server.json(response)["detail"] as? String
                #expect(detail?.contains("expired at \(expires)") == true, "\(detail ?? "")")
                #expect(response.headers[.wwwAuthenticate] != nil)
            }
        }
    }

    // MARK: - Imports

    @Test func anImportIsAllOrNothingAndNamesEveryProblem() async throws {
        try await S.run { client, server in
            let good = S.uniqueName("АНО «Загрузка»")
            let csv = """
                name,kind,region_iso,settlement,lat,lon
                \(good),ngo,RU-PER,Пермь,58.0105,56.2502
                Плохая,zoo,RU-PER,Пермь,58.0105,56.2502
                Якутская,ngo,RU-SA,Якутск,62.0311,129.7229

                """
            func post(_ query: String, token: String?, type: String = "text/csv", body: String = csv) async throws -> TestResponse {
                try await client.execute(uri: "/import\(query)", method: .post, headers: S.headers(token, type: type), body: ByteBuffer(string: body))
            }
            // A Perm editor: the bad kind and the Yakutian row, together; nothing written.
            let refused = try await post("", token: server.permEditor)
            try Server.expectProblem(refused, status: .unprocessableContent)
            let report = try Server.json(refused)
            #expect(report["written"] as? Bool == false && report["rejected"] as? Int == 2, "\(report)")
            #expect(try S.fields(refused) == ["kind", "region_iso"])
            #expect(report["read_as"] as? String == "utf-8, delimiter ','")
            // A dry run with partial says what would be written, and writes nothing; without
            // dry_run, the Perm row is written.
            func stored() async throws -> Int? {
                try await client.execute(uri: "\(S.items)?q=\(good.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)", method: .get) {
                    try Server.json($0)["numberMatched"] as? Int
                }
            }
            let dryAll = try Server.json(try await post("?dry_run=true", token: server.permEditor))
            #expect(dryAll["would_write"] as? Bool == false && dryAll["written"] as? Bool == false, "\(dryAll)")
            for (query, written, count) in [("?partial=true&dry_run=true", false, 0), ("?partial=true", true, 1)] {
                let response = try await post(query, token: server.permEditor)
                #expect(response.status == .ok)
                let report = try Server.json(response)
                #expect(report["added"] as? Int == 1 && report["written"] as? Bool == written, "\(query): \(report)")
                #expect(report["would_write"] as? Bool == (written ? nil : true), "\(query): \(report)")
                // A written import names its audit entry, which `civicmap revert` undoes.
                #expect((report["audit_entry"] as? Int).map { $0 > 0 } ?? false == written, "\(query): \(report)")
                #expect(try await stored() == count, "\(query)")
            }
            // The import is one audit entry of its token.
            try await client.execute(uri: "/audit?action=import&actor=http-perm", method: .get, headers: S.headers(server.admin, type: nil)) { response in
                let matched = try Server.json(response)["numberMatched"] as? Int ?? 0
                #expect(matched >= 1)
            }
            // The same rows as a GeoJSON FeatureCollection: the second time, unchanged.
            let geojson = #"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[56.2502,58.0105]},"properties":{"name":"\#(good)","kind":"ngo","region_iso":"RU-PER","settlement":"Пермь"}}]}"#
            let again = try await post("", token: server.admin, type: "application/geo+json", body: geojson)
            #expect(again.status == .ok)
            let unchanged = try Server.json(again)["unchanged"] as? Int
            #expect(unchanged == 1, "\(String(buffer: again.body))")
            // Refusals before any work: no token, a type it cannot read, a flag it cannot read.
            try Server.expectProblem(try await post("", token: nil), status: .unauthorized)
            let excel = try await post("", token: server.admin, type: "application/vnd.ms-excel")
            try Server.expectProblem(excel, status: .unsupportedMediaType)
            try Server.expectProblem(try await post("?partial=maybe", token: server.admin), status: .badRequest, parameter: "partial")
        }
    }

    /// Over the API the server gives new organisations their ids: a row whose id names no stored
    /// organisation is refused (an id near the top of the range left no next one for anybody);
    /// a stored organisation's id updates it.
    @Test func anImportCannotChooseNewIDs() async throws {
        try await S.run { client, server in
            let csv = """
                id,name,kind,region_iso,settlement,lat,lon
                9007199254740991,\(S.uniqueName("АНО «Большой номер»")),ngo,RU-PER,Пермь,58.0105,56.2502

                """
            try await client.execute(uri: "/import", method: .post, headers: S.headers(server.permEditor, type: "text/csv"),
                                     body: ByteBuffer(string: csv)) { response in
                try Server.expectProblem(response, status: .unprocessableContent)
                let errors = try #require(try Server.json(response)["errors"] as? [[String: Any]])
                #expect(errors.map { $0["field"] as? String } == ["id"])
                #expect((errors.first?["reason"] as? String)?.contains("names no organisation here") == true)
            }
            let (id, _) = try await S.create(client, token: server.admin, name: S.uniqueName("АНО «Своя»"))
            let update = "id,name,kind,region_iso,settlement,lat,lon\n\(id),\(S.uniqueName("АНО «Своя» новое имя")),ngo,RU-PER,Пермь,58.0105,56.2502\n"
            try await client.execute(uri: "/import", method: .post, headers: S.headers(server.permEditor, type: "text/csv"),
                                     body: ByteBuffer(string: update)) { response in
                #expect(response.status == .ok)
                let updated = try Server.json(response)["updated"] as? Int
                #expect(updated == 1, "\(String(buffer: response.body))")
            }
        }
    }

    @Test func bodiesOverTheLimitsAreRefusedNamingThem() async throws {
        try await S.run { client, server in
            let lines = ByteBuffer(string: "name,kind,lat,lon\n" + String(repeating: ",,,\n", count: 100_001))
            try await client.execute(uri: "/import?dry_run=true", method: .post, headers: S.headers(server.admin, type: "text/csv"), body: lines) { response in
                try Server.expectProblem(response, status: .contentTooLarge)
                let detail = try Server.json(response)["detail"] as? String
                #expect(detail?.contains("at most 100000 rows") == true, "\(detail ?? "")")
            }
            let big = ByteBuffer(string: #"{"type":"Feature","properties":{"description":""# + String(repeating: "x", count: 1 << 20) + #""}}"#)
            try await client.execute(uri: S.items, method: .post, headers: S.headers(server.admin), body: big) { response in
                try Server.expectProblem(response, status: .contentTooLarge)
                let detail = try Server.json(response)["detail"] as? String
                #expect(detail?.contains("1 MiB (1048576 bytes)") == true, "\(detail ?? "")")
            }
        }
    }

    /// A coordinator's wrong file, undone over the API by the token that imported it.
    @Test func aTokenRevertsItsOwnImport() async throws {
        try await S.run { client, server in
            let name = S.uniqueName("АНО «Ошибочная»")
            let csv = "name,kind,region_iso,settlement,lat,lon\n\(name),ngo,RU-PER,Пермь,58.0105,56.2502\n"
            func found() async throws -> Int? {
                let q = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                return try await client.execute(uri: "\(S.items)?q=\(q)", method: .get) { try Server.json($0)["numberMatched"] as? Int }
            }
            let entry = try await client.execute(uri: "/import", method: .post, headers: S.headers(server.permEditor, type: "text/csv"),
                                                 body: ByteBuffer(string: csv)) { try #require(try Server.json($0)["audit_entry"] as? Int) }
            #expect(try await found() == 1)
            func revert(_ entry: String, token: String?) async throws -> TestResponse {
                try await client.execute(uri: "/audit/\(entry)/revert", method: .post, headers: S.headers(token, type: nil))
            }
            // Not its own: an admin's entry is not the Perm editor's to undo, nor to know of.
            let (_, _) = try await S.create(client, token: server.admin, name: S.uniqueName("АНО «Чужая»"))
            let adminEntry = try await client.execute(uri: "/audit?actor=http-admin&limit=1", method: .get, headers: S.headers(server.admin, type: nil)) {
                try #require((try Server.json($0)["entries"] as? [[String: Any]])?.first?["id"] as? Int)
            }
            let hidden = try await revert(String(adminEntry), token: server.permEditor)
            try Server.expectProblem(hidden, status: .notFound)
            #expect(!(String(buffer: hidden.body).contains("http-admin")))
            try Server.expectProblem(try await revert("abc", token: server.permEditor), status: .badRequest)
            try Server.expectProblem(try await revert("999999999", token: server.admin), status: .notFound)
            try Server.expectProblem(try await revert(String(entry), token: nil), status: .unauthorized)

            let undone = try await revert(String(entry), token: server.permEditor)
            #expect(undone.status == .ok, "\(String(buffer: undone.body))")
            let report = try Server.json(undone)
            #expect(report["removed"] as? Int == 1 && report["restored"] as? Int == 0, "\(report)")
            #expect((report["reverted"] as? [String: Any])?["id"] as? Int == entry)
            #expect(try await found() == 0)
            // Once undone, undoing it again is refused, naming the revert that did.
            let again = try await revert(String(entry), token: server.permEditor)
            try Server.expectProblem(again, status: .conflict)
            let revertEntry = try #require(report["revert_entry"] as? Int)
            #expect((try Server.json(again)["detail"] as? String)?.contains("already undone by entry \(revertEntry)") == true)

            // Imported again, then changed by an admin: the editor's revert waits for the admin's change,
            // and names it without saying who made it (the audit log is admins' to read).
            let second = try await client.execute(uri: "/import", method: .post, headers: S.headers(server.permEditor, type: "text/csv"),
                                                  body: ByteBuffer(string: csv)) { try #require(try Server.json($0)["audit_entry"] as? Int) }
            let q = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let id = try await client.execute(uri: "\(S.items)?q=\(q)", method: .get) {
                try #require((try Server.json($0)["features"] as? [[String: Any]])?.first?["id"] as? Int)
            }
            let tag = try #require(try await S.get(client, id).headers[.eTag])
            try await client.execute(uri: "\(S.items)/\(id)", method: .patch,
                                     headers: S.headers(server.admin, type: "application/merge-patch+json", ifMatch: tag),
                                     body: ByteBuffer(string: #"{"properties":{"phone":"+7 342 300-00-00"}}"#)) { #expect($0.status == .ok) }
            let blocked = try await revert(String(second), token: server.permEditor)
            try Server.expectProblem(blocked, status: .conflict)
            let detail = try Server.json(blocked)["detail"] as? String ?? ""
            #expect(detail.contains("another token's") && !detail.contains("http-admin"), "\(detail)")
        }
    }

    @Test func importsTakeTurns() {
        let turn = ImportTurn()
        #expect(turn.take())
        #expect(!turn.take())
        turn.give()
        #expect(turn.take())
    }

    // MARK: - Operations

    @Test func metricsCountRequestsByRoutePattern() async throws {
        try await S.run { client, _ in
            #expect(try await S.get(client, 22).status == .ok)
            #expect(try await S.get(client, 999_999).status == .notFound)
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                let text = String(buffer: response.body)
                let route = #"route="/collections/{collectionId}/items/{featureId}""#
                #expect(text.contains(#"civicmap_http_requests_total{method="GET","# + route + #",status="200"} 1"# + "\n"), "\(text)")
                #expect(text.contains(#"civicmap_http_requests_total{method="GET","# + route + #",status="404"} 1"# + "\n"))
                #expect(!text.contains("items/22"))
                #expect(text.contains("civicmap_http_requests_in_flight"))
            }
        }
    }

    @Test func everyResponseCarriesARequestID() async throws {
        try await S.run { client, server in
            var ids: [String?] = []
            let (id, tag) = try await S.create(client, token: server.editor, name: S.uniqueName("АНО «Запрос»"))
            ids.append(try await S.get(client, id).headers[S.requestID])
            ids.append(try await S.get(client, id, headers: [.ifNoneMatch: tag]).headers[S.requestID])  // 304
            ids.append(try await S.get(client, 999_999).headers[S.requestID])  // 404
            let requests: [(String, HTTPRequest.Method, HTTPFields)] = [
                (S.items, .post, S.headers(nil)),  // 401
                (S.items, .post, S.headers(server.editor)),  // 201
                ("/nowhere", .get, HTTPFields()),  // no route
                ("/health", .get, HTTPFields()),
                ("/metrics", .get, HTTPFields()),
            ]
            for (uri, method, headers) in requests {
                let body = method == .post ? S.feature(name: S.uniqueName("АНО «Запрос»")) : nil
                let response = try await client.execute(uri: uri, method: method, headers: headers, body: body)
                ids.append(response.headers[S.requestID])
            }
            #expect(ids.count == 8)
            #expect(ids.allSatisfy { $0?.isEmpty == false }, "\(ids)")
            #expect(Set(ids.compactMap { $0 }).count == ids.count)
        }
    }
}
