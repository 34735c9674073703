// swift-tools-version:6.2
import PackageDescription

// Four modules give a compiler-checked layering: the domain cannot run SQL,
// and the HTTP layer cannot touch GRDB (it sees only the store protocol).
let package = Package(
    name: "CivicMap",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "civicmap", targets: ["civicmap"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // SHA-256 of API tokens (Hummingbird already builds it).
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        // NIOCore's body-limit error, mapped to 413 (Hummingbird already builds it).
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        // HTTP/1 parts as HTTPTypes, to answer requests NIO's parser refuses (Hummingbird builds it).
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
    ],
    targets: [
        // PROJ's C API (geodesic.h: Karney's algorithms) from Debian's libproj-dev.
        .systemLibrary(
            name: "CProj",
            pkgConfig: "proj",
            providers: [.apt(["libproj-dev"])]
        ),
        // zlib from Debian's zlib1g-dev: gzip for the clients that ask for it.
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(
            name: "CivicMapCore",
            dependencies: ["CProj"]
        ),
        .target(
            name: "CivicMapStore",
            dependencies: [
                "CivicMapCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "CivicMapHTTP",
            dependencies: [
                "CivicMapCore", "CZlib",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "civicmap",
            dependencies: [
                "CivicMapCore",
                "CivicMapStore",
                "CivicMapHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "CivicMapCoreTests", dependencies: ["CivicMapCore"]),
        .testTarget(name: "CivicMapStoreTests", dependencies: ["CivicMapStore", "CivicMapCore"]),
        .testTarget(
            name: "CivicMapHTTPTests",
            dependencies: [
                "CivicMapHTTP", "CivicMapStore", "CivicMapCore", "CZlib",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
    ]
)
