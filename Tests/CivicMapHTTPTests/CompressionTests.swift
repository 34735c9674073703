import CZlib
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CivicMapHTTP

@Suite("gzip for the clients that ask for it")
struct CompressionTests {
    /// The identity bytes of a gzip body (zlib's inflate, gzip format).
    static func gunzip(_ data: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        #expect(inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK)
        defer { inflateEnd(&stream) }
        var input = data, output: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 1 << 16), code = Z_OK
        input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            repeat {
                chunk.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress
                    stream.avail_out = uInt(target.count)
                    code = inflate(&stream, Z_NO_FLUSH)
                    output += target.prefix(target.count - Int(stream.avail_out))
                }
            } while code == Z_OK
        }
        #expect(code == Z_STREAM_END)
        return output
    }

    static func bytes(_ response: TestResponse) -> [UInt8] { Array(Data(buffer: response.body)) }

    @Test(arguments: [
        ("gzip", true), ("gzip, deflate, br", true), ("br;q=1.0, gzip;q=0.8", true), ("GZIP", true), ("x-gzip", true),
        ("*", true), ("gzip;q=0", false), ("*, gzip;q=0", false), ("deflate, br", false), ("identity", false), ("", false),
    ])
    func acceptEncodingIsRead(header: String, gzip: Bool) {
        #expect(CompressionMiddleware<BasicRequestContext>.acceptsGzip(header.isEmpty ? [] : [header]) == gzip)
    }

    @Test func aPageIsCompressedWhenAskedAndReadsBackTheSame() async throws {
        let uri = "/collections/organizations/items?limit=50"
        let identity = try await Self.fetch(uri, headers: [:])
        try await Server.run(uri, headers: [.acceptEncoding: "gzip, deflate, br"]) { response in
            #expect(response.status == .ok)
            #expect(response.headers[.contentEncoding] == "gzip")
            #expect(response.headers[.contentLength] == nil)
            #expect(response.headers[.vary]?.contains("Accept-Encoding") == true)
            #expect(response.headers[.vary]?.contains("Accept") == true)
            let compressed = Self.bytes(response)
            #expect(compressed.count * 3 < identity.count, "\(compressed.count) of \(identity.count)")
            // The same page but for the moment it was made.
            func withoutTime(_ bytes: [UInt8]) throws -> NSDictionary {
                var page = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
                page["timeStamp"] = nil
                return page as NSDictionary
            }
            let read = try withoutTime(Self.gunzip(compressed)), expected = try withoutTime(identity)
            #expect(read == expected)
        }
    }

    @Test func aStreamedExportIsCompressedAsItStreams() async throws {
        let uri = "/export/organizations.csv"
        let identity = try await Self.fetch(uri, headers: [:])
        try await Server.run(uri, headers: [.acceptEncoding: "gzip"]) { response in
            #expect(response.headers[.contentEncoding] == "gzip")
            #expect(Self.gunzip(Self.bytes(response)) == identity)
        }
    }

    /// A single Feature's strong tag must match its bytes for `If-Match`; HEAD has no body; a
    /// client that does not ask gets the identity form, told that another one exists.
    @Test(arguments: [
        ("/collections/ngo/items/3", HTTPRequest.Method.get, "gzip"),
        ("/collections/organizations/items?limit=50", .head, "gzip"),
        ("/collections/organizations/items?limit=50", .get, "identity"),
    ])
    func leftAlone(uri: String, method: HTTPRequest.Method, accept: String) async throws {
        try await Server.run(uri, method: method, headers: [.acceptEncoding: accept]) { response in
            #expect(response.status == .ok)
            #expect(response.headers[.contentEncoding] == nil)
        }
    }

    static func fetch(_ uri: String, headers: HTTPFields) async throws -> [UInt8] {
        let box = Box()
        try await Server.run(uri, headers: headers) { response in
            #expect(response.headers[.contentEncoding] == nil)
            box.set(Self.bytes(response))
        }
        return box.get()
    }

    final class Box: @unchecked Sendable {
        private let lock = NSLock()
        private var value: [UInt8] = []
        func set(_ v: [UInt8]) { lock.withLock { value = v } }
        func get() -> [UInt8] { lock.withLock { value } }
    }
}
