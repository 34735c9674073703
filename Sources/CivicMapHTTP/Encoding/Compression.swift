import CZlib
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// gzip for the clients that ask for it (browsers, GDAL, QGIS, `curl --compressed`): GeoJSON,
/// JSON, CSV, the page's scripts and styles shrink several times, which is what a phone on a
/// slow link waits for (the regions' outlines: 2.2 MB). Bodies are compressed as they stream,
/// so an export stays streamed. Level 1, as nginx's default: most of the gain for little CPU.
///
/// Left alone: small bodies, images and tiles, bodies already encoded, and responses with a
/// strong entity tag (single Features), whose tag an `If-Match` must find byte for byte.
struct CompressionMiddleware<Context: RequestContext>: RouterMiddleware {
    static var minimumLength: Int { 1024 }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let wanted = Self.acceptsGzip(request.headers[values: .acceptEncoding])
        var response = try await next(request, context)
        guard Self.compressible(response) || Self.revalidatesCompressible(response) else { return response }
        // Caches in front keep the two forms apart.
        response.headers[.vary] = response.headers[.vary].map { $0 + ", Accept-Encoding" } ?? "Accept-Encoding"
        // HEAD has no body to compress; it keeps the length of the identity form.
        guard wanted, response.status == .ok, request.method != .head, (response.body.contentLength ?? .max) >= Self.minimumLength else { return response }
        response.headers[.contentEncoding] = "gzip"
        response.headers[.contentLength] = nil
        let body = response.body
        response.body = ResponseBody { writer in
            try await body.write(GzipWriter(parent: writer))
        }
        return response
    }

    /// A 304 for what would be compressed (a weakly tagged page): it repeats the 200's `Vary`.
    static func revalidatesCompressible(_ response: Response) -> Bool {
        response.status == .notModified && response.headers[.eTag]?.hasPrefix("W/") == true
    }

    static func compressible(_ response: Response) -> Bool {
        guard response.status.code == 200, response.headers[.contentEncoding] == nil,
            let type = response.headers[.contentType]?.lowercased()
        else { return false }
        if let tag = response.headers[.eTag], !tag.hasPrefix("W/") { return false }
        return type.hasPrefix("text/") || type.contains("json") || type.contains("javascript") || type.contains("svg")
    }

    /// Whether `Accept-Encoding` takes gzip: named, or `*`, with a weight above 0 (RFC 9110 §12.5.3).
    static func acceptsGzip(_ values: [String]) -> Bool {
        var gzip: Bool?, any: Bool?
        for item in values.flatMap({ $0.split(separator: ",") }) {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let coding = parts.first else { continue }
            let weight = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            switch coding {
            case "gzip", "x-gzip": gzip = weight > 0
            case "*": any = weight > 0
            default: break
            }
        }
        return gzip ?? any ?? false
    }
}

/// Passes a body on gzip-compressed, chunk by chunk.
struct GzipWriter: ResponseBodyWriter {
    var parent: any ResponseBodyWriter
    let deflater = Deflater()

    mutating func write(_ buffer: ByteBuffer) async throws {
        let out = try deflater.compress(buffer, finish: false)
        if out.readableBytes > 0 { try await parent.write(out) }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        var parent = self.parent
        try await parent.write(try deflater.compress(ByteBuffer(), finish: true))
        try await parent.finish(trailingHeaders)
    }
}

/// One zlib deflate stream in gzip format; freed with its owner.
final class Deflater {
    private var stream = z_stream()
    private let ready: Bool

    init(level: Int32 = 1) {
        // windowBits 15 + 16: a gzip header and trailer rather than zlib's.
        ready = deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                              Int32(MemoryLayout<z_stream>.size)) == Z_OK
    }

    deinit { if ready { deflateEnd(&stream) } }

    struct Failure: Error { let code: Int32 }

    /// What deflate gives for `input`; with `finish`, everything left and the trailer.
    func compress(_ input: ByteBuffer, finish: Bool) throws -> ByteBuffer {
        guard ready else { throw Failure(code: Z_STREAM_ERROR) }
        var input = input
        var output = ByteBuffer()
        try input.withUnsafeMutableReadableBytes { source in
            stream.next_in = source.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.avail_in = uInt(source.count)
            var done = false
            while !done {
                var code = Z_OK
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: 64 * 1024) { target in
                    stream.next_out = target.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.avail_out = uInt(target.count)
                    code = deflate(&stream, finish ? Z_FINISH : Z_NO_FLUSH)
                    return target.count - Int(stream.avail_out)
                }
                // Z_BUF_ERROR: no progress possible, which only an empty input without finishing may cause.
                guard code == Z_OK || code == Z_STREAM_END || (code == Z_BUF_ERROR && !finish) else { throw Failure(code: code) }
                // Room left over means deflate took all the input (and, finishing, wrote the end).
                done = finish ? code == Z_STREAM_END : stream.avail_out > 0
            }
            stream.next_in = nil
        }
        return output
    }
}
