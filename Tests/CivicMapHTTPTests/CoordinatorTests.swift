import CivicMapCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CivicMapHTTP

@Suite("Coordinator endpoints over HTTP")
struct CoordinatorTests {
    @Test func nearestSitesCarryDistanceAndProgrammes() async throws {
        try await Server.run("/matching/nearest-sites?organization=20&k=2") { response in
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/geo+json")
            let body = try Server.json(response)
            let origin = try #require(body["origin"] as? [String: Any])
            #expect(origin["id"] as? Int == 20)
            let features = try #require(body["features"] as? [[String: Any]])
            #expect(features.count == 2 && body["numberReturned"] as? Int == 2)
            let first = try #require(features.first?["properties"] as? [String: Any])
            #expect(first["name"] as? String == "НКО-лидеры Пермского края — площадки стажировок")
            #expect(first["distance_km"] as? Double == 145.552679)
            #expect(first["programmes"] is [Any])
        }
    }

    @Test func matchingDownloadsAsExcelCSV() async throws {
        try await Server.run("/matching/nearest-sites?organization=20&k=3&f=csv&dialect=excel") { response in
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(response.headers[.contentDisposition] == "attachment; filename=\"nearest-sites-20.csv\"")
            let bytes = Array(Data(buffer: response.body))
            #expect(bytes.starts(with: [0xEF, 0xBB, 0xBF]))
            let lines = String(decoding: bytes.dropFirst(3), as: UTF8.self).split(separator: "\r\n")
            #expect(lines.count == 4)
            #expect(lines[0].hasSuffix(";Расстояние, км"))
            #expect(lines[1].hasPrefix("21;") && lines[1].hasSuffix(";145,552679"))
        }
    }

    @Test func remoteOrganisationsPageWithExactCount() async throws {
        try await Server.run("/matching/remote-organizations?site=1&radius_km=900&threshold_km=50&limit=1") { response in
            #expect(response.status == .ok)
            let body = try Server.json(response)
            let matched = try #require(body["numberMatched"] as? Int)
            #expect(matched >= 1)
            #expect((body["features"] as? [Any])?.count == 1)
            let rels = (body["links"] as? [[String: Any]] ?? []).compactMap { $0["rel"] as? String }
            #expect(rels.contains("next") == (matched > 1))
        }
    }

    @Test func remoteOrganisationsLinksStateTheDefaultsTaken() async throws {
        try await Server.run("/matching/remote-organizations?site=1&limit=1&threshold_km=60.5") { response in
            #expect(response.status == .ok)
            let links = try #require(Server.json(response)["links"] as? [[String: Any]])
            let selfLink = try #require(links.first { $0["rel"] as? String == "self" }?["href"] as? String)
            let query = try #require(URLComponents(string: selfLink)?.queryItems)
            #expect(query.filter { $0.name == "radius_km" }.map(\.value) == ["150"])
            #expect(query.filter { $0.name == "threshold_km" }.map(\.value) == ["60.5"])
            #expect(query.filter { $0.name == "same_region" }.map(\.value) == ["true"])
        }
    }

    @Test(arguments: [
        ("/matching/nearest-sites", "organization", HTTPResponse.Status.badRequest),
        ("/matching/nearest-sites?organization=abc", "organization", .badRequest),
        ("/matching/nearest-sites?organization=20&k=0", "k", .badRequest),
        ("/matching/nearest-sites?organization=20&k=101", "k", .badRequest),
        ("/matching/nearest-sites?organization=20&same_region=maybe", "same_region", .badRequest),
        ("/matching/nearest-sites?organization=20&f=csv&dialect=lotus", "dialect", .badRequest),
        ("/matching/nearest-sites?organization=20&f=xml", "f", .badRequest),
        ("/matching/remote-organizations?site=20", "site", .badRequest),
        ("/matching/remote-organizations?site=1&radius_km=-5", "radius_km", .badRequest),
        ("/matching/remote-organizations?site=1&colour=red", "colour", .badRequest),
        ("/programmes?from=tomorrow", "from", .badRequest),
        ("/programmes?status=open&status=closed", "status", .badRequest),
        ("/reports/regions/RU-PER?threshold_km=far", "threshold_km", .badRequest),
        ("/reports/regions/RU-PER?f=csv&decimal=comma", "decimal", .badRequest),
        // Formats only where they are offered.
        ("/collections/ngo/items?f=csv", "f", .badRequest),
        ("/collections/ngo/items/20?f=csv", "f", .badRequest),
        ("/programmes?f=html", "f", .badRequest),
        ("/matching/nearest-sites?organization=20&f=html", "f", .badRequest),
        ("/conformance?f=csv", "f", .badRequest),
        ("/?f=csv", "f", .badRequest),
    ])
    func badInputIsAProblemNamingTheParameter(uri: String, parameter: String, status: HTTPResponse.Status) async throws {
        try await Server.run(uri) { response in try Server.expectProblem(response, status: status, parameter: parameter) }
    }

    @Test(arguments: ["/matching/nearest-sites?organization=99999", "/reports/regions/RU-XX", "/matching/remote-organizations?site=99999"])
    func missingThingsAre404(uri: String) async throws {
        try await Server.run(uri) { response in try Server.expectProblem(response, status: .notFound) }
    }

    @Test func regionReportAsJSON() async throws {
        try await Server.run("/reports/regions/RU-SA?threshold_km=50&top=2", headers: [.accept: "application/json"]) { response in
            #expect(response.status == .ok)
            let body = try Server.json(response)
            #expect((body["region"] as? [String: Any])?["iso"] as? String == "RU-SA")
            let totals = try #require(body["totals"] as? [String: Any])
            let byKind = try #require(body["by_kind"] as? [[String: Any]])
            #expect(totals["organizations"] as? Int == byKind.compactMap { $0["organizations"] as? Int }.reduce(0, +))
            #expect(totals["remote"] as? Int == byKind.compactMap { $0["remote"] as? Int }.reduce(0, +))
            let bins = try #require((body["distances"] as? [String: Any])?["bins"] as? [[String: Any]])
            #expect(bins.compactMap { $0["organizations"] as? Int }.reduce(0, +) == totals["organizations"] as? Int)
            #expect((body["most_remote"] as? [Any])?.count == 2)
            let coverage = try #require(body["coverage"] as? [String: Any])
            #expect((coverage["settlements"] as? Int ?? 0) > 0)
        }
    }

    @Test func aSiteIsNeverItsOwnMatch() async throws {
        try await Server.run("/matching/remote-organizations?site=21&kind=internship_site&threshold_km=0&radius_km=20000&same_region=false&limit=100") { response in
            let body = try Server.json(response)
            let ids = (body["features"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
            #expect(!ids.isEmpty && !ids.contains(21))
            #expect(body["numberMatched"] as? Int == ids.count)
        }
    }

    @Test func percentEncodedRegionInThePath() async throws {
        try await Server.run("/reports/regions/RU%2DPER?f=json") { response in
            #expect(response.status == .ok)
            let region = try Server.json(response)["region"] as? [String: Any]
            #expect(region?["code"] as? String == "59")
        }
    }

    @Test func regionReportForBrowsersIsThePage() async throws {
        try await Server.run("/reports/regions/RU-PER", headers: [.accept: "text/html,application/xhtml+xml"]) { response in
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(String(buffer: response.body).contains("report.js"))
        }
    }

    @Test func regionReportAsWindows1251CSV() async throws {
        try await Server.run("/reports/regions/59?f=csv&delimiter=semicolon&encoding=windows-1251&header=ru") { response in
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/csv; charset=windows-1251")
            let text = String(decoding: Windows1251.decode(Array(Data(buffer: response.body))), as: UTF8.self)
            #expect(text.hasPrefix("Отчёт по региону\r\nПараметр;Значение\r\nРегион;Пермский край\r\n"))
            #expect(text.contains("\r\nПо видам\r\nВид;Организаций;Удалённых;Доля удалённых\r\n"))
            // The most remote: kinds named as «По видам» names them, distances as the list gives them.
            #expect(text.contains(";НКО;Кудымкар;145.552679;"), "\(text)")
            // The kinds asked for, named in Russian too (helper-19 saw «ngo, tos, internship_site»).
            #expect(text.range(of: #"\r\nВиды;[^\r]*НКО[^\r]*ТОС"#, options: .regularExpression) != nil, "\(text.prefix(400))")
        }
        // A programme's selection status in Russian when the headers are (helper-19 saw «open»).
        try await Server.run("/programmes?status=completed,cancelled&from=2020-01-01&f=csv&header=ru") { response in
            let text = String(decoding: Data(buffer: response.body), as: UTF8.self)
            #expect(text.contains(",завершён,") || text.contains(",отменён,"), "\(text.prefix(600))")
            #expect(!text.contains(",completed,") && !text.contains(",cancelled,"))
        }
    }

    @Test func programmesOfPastYearsOnRequest() async throws {
        try await Server.run("/programmes?status=completed,cancelled&from=2020-01-01") { response in
            #expect(response.status == .ok)
            let body = try Server.json(response)
            let features = try #require(body["features"] as? [[String: Any]])
            let titles = features.compactMap { ($0["properties"] as? [String: Any])?["title"] as? String }
            #expect(titles.count == 2 && body["numberMatched"] as? Int == 2)
            #expect(titles.first == "Стажировка лидеров НКО Челябинской области в Якутии")
            #expect((features.first?["geometry"] as? [String: Any])?["type"] as? String == "Point")
        }
    }

    @Test func exportsTakeTheItemsParametersAndADialect() async throws {
        try await Server.run("/export/organizations.csv?near=56.2502,58.0105&radius_km=200&dialect=excel") { response in
            #expect(response.status == .ok)
            #expect(response.headers[.contentDisposition] == "attachment; filename=\"organizations.csv\"")
            let text = String(decoding: Array(Data(buffer: response.body)).dropFirst(3), as: UTF8.self)
            let lines = text.split(separator: "\r\n")
            #expect(lines[0].hasSuffix(";Расстояние, км"))
            // The header and the three demo organisations within 200 km of Perm, nearest first;
            // Проектная среда (Кудымкар) is the farthest, at 145.55 km.
            #expect(lines.count == 4)
            #expect(lines.last?.hasPrefix("20;") == true && lines.last?.hasSuffix(";145,552679") == true)
            // Under Russian headers, kinds as a spreadsheet writes them (the import reads them back).
            #expect(lines.last?.split(separator: ";", omittingEmptySubsequences: false).dropFirst(2).first == "НКО", "\(lines.last ?? "")")
        }
        try await Server.run("/export/organizations.csv?kind=internship_site") { response in  // codes under English headers
            let rows = String(decoding: Array(Data(buffer: response.body)), as: UTF8.self).split(separator: "\r\n")
            #expect(rows.count > 1 && rows.dropFirst().allSatisfy { $0.contains(",internship_site,") })
        }
    }
}

@Suite("The coordinator endpoints in the API definition")
struct CoordinatorOpenAPITests {
    @Test func pathsAndDialectParametersAreDeclared() async throws {
        try await Server.run("/api") { response in
            let paths = try #require(try Server.json(response)["paths"] as? [String: Any])
            for path in ["/matching/nearest-sites", "/matching/remote-organizations", "/programmes", "/reports/regions/{region}", "/export/{collectionId}.csv"] {
                let get = try #require((paths[path] as? [String: Any])?["get"] as? [String: Any], "\(path) missing")
                let names = (get["parameters"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                #expect(names.contains("dialect") && names.contains("encoding"), "\(path): \(names)")
            }
        }
    }
}
