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
    ],
    targets: [
        // PROJ's C API (geodesic.h: Karney's algorithms) from Debian's libproj-dev.
        .systemLibrary(
            name: "CProj",
            pkgConfig: "proj",
            providers: [.apt(["libproj-dev"])]
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
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "CivicMapHTTP",
            dependencies: [
                "CivicMapCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
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
                "CivicMapHTTP", "CivicMapStore", "CivicMapCore",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
    ]
)
