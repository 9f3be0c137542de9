// swift-tools-version: 6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "sandi",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sandi", targets: ["sandi"]),
        .library(name: "SandiCore", targets: ["SandiCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.0"),
    ],
    targets: [
        // Domain: codes, policies, plans, numbers, ports. No I/O.
        .target(
            name: "SandiCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            resources: [.copy("Resources/messages"), .copy("Resources/numbering"), .copy("Resources/assistant")],
            swiftSettings: strict
        ),
        // In-memory twins of every port, a manual clock, and the store contract suite.
        .target(
            name: "SandiTesting",
            dependencies: ["SandiCore"],
            swiftSettings: strict
        ),
        // What the SQL storage adapters share: decoding domain records from rows, JSON columns.
        .target(
            name: "SandiStorage",
            dependencies: ["SandiCore"],
            swiftSettings: strict
        ),
        // A wrapper around SQLite's page cache (C: SQLite's configuration call is variadic).
        .target(
            name: "CSandiSQLite",
            dependencies: [.product(name: "SQLiteNIO", package: "sqlite-nio")]
        ),
        // Storage adapter over sqlite-nio.
        .target(
            name: "SandiSQLite",
            dependencies: [
                "SandiCore", "SandiStorage", "CSandiSQLite",
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Storage adapter over PostgresClient (postgres-nio): several nodes on one database.
        .target(
            name: "SandiPostgres",
            dependencies: [
                "SandiCore", "SandiStorage",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Channel providers: the built-in simulator (and, later, real providers).
        .target(
            name: "SandiProviders",
            dependencies: [
                "SandiCore", "SandiSMPP",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // SMPP 3.4 for SMS: PDU codec, GSM 03.38 / UCS-2 encoding and segmentation, a pure session
        // state machine, NIO framing and a client (bind, keep-alive, window, throttling, receipts).
        .target(
            name: "SandiSMPP",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Background workers as swift-service-lifecycle services.
        .target(
            name: "SandiWorkers",
            dependencies: [
                "SandiCore",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // HTTP adapter: router, controllers, problem+json.
        .target(
            name: "SandiHTTP",
            dependencies: [
                "SandiCore", "SandiProviders",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            resources: [.copy("Resources/openapi.yaml")],
            swiftSettings: strict
        ),
        // The cockpit at /dashboard: sign-in (password + TOTP), sessions, roles, pages from rollups.
        .target(
            name: "SandiDashboard",
            dependencies: [
                "SandiCore", "SandiHTTP", "SandiProviders",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Composition root: configuration, storage choice, service group.
        .target(
            name: "SandiApp",
            dependencies: [
                "SandiCore", "SandiSQLite", "SandiPostgres", "SandiProviders", "SandiWorkers", "SandiHTTP", "SandiTesting", "SandiDashboard",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "sandi",
            dependencies: [
                "SandiApp", "SandiDashboard",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "SandiCoreTests", dependencies: ["SandiCore", "SandiTesting", .product(name: "Crypto", package: "swift-crypto")], resources: [.copy("Resources")], swiftSettings: strict),
        .testTarget(
            name: "SandiSMPPTests",
            dependencies: [
                "SandiSMPP", "SandiApp", "SandiCore", "SandiProviders",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SandiStorageTests",
            dependencies: ["SandiCore", "SandiStorage", "SandiTesting", "SandiSQLite", "SandiPostgres"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SandiAppTests",
            dependencies: [
                "SandiApp", "SandiHTTP", "SandiCore", "SandiTesting", "SandiSQLite", "SandiPostgres", "SandiWorkers", "SandiProviders", "SandiDashboard",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
            ],
            swiftSettings: strict
        ),
    ]
)
