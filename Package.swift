// swift-tools-version:6.1
import PackageDescription

// Coffer: encryption and key management with keys their users control.
//
// Dependencies point inward: `CofferCrypto` (the crypto core) depends on swift-crypto and the
// system zlib and getrandom only, and performs no I/O or logging. Executables and later server/store targets
// depend on the core, never the other way round.
let package = Package(
    name: "Coffer",
    products: [
        .library(name: "CofferCrypto", targets: ["CofferCrypto"]),
        .library(name: "CofferStore", targets: ["CofferStore"]),
        .library(name: "CofferStoreSQLite", targets: ["CofferStoreSQLite"]),
        .library(name: "CofferStorePostgres", targets: ["CofferStorePostgres"]),
        .executable(name: "coffer", targets: ["CofferCLI"]),
        .executable(name: "coffer-bench", targets: ["CofferBench"]),
        .executable(name: "coffer-vectors", targets: ["CofferVectors"]),
        .executable(name: "coffer-store-torture", targets: ["CofferStoreTorture"]),
        .executable(name: "coffer-store-bench", targets: ["CofferStoreBench"]),
        .executable(name: "coffer-server", targets: ["CofferServerMain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", exact: "2.0.1"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", exact: "1.13.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", exact: "1.33.2"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", exact: "1.8.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", exact: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", exact: "1.7.4"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", exact: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
        .package(url: "https://github.com/apple/swift-configuration.git", exact: "1.4.0"),
        .package(url: "https://github.com/apple/swift-system.git", exact: "1.8.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", exact: "1.37.0"),
    ],
    targets: [
        // The system zlib (RFC 1950), used only for the envelope's optional compression.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // getrandom(2) from the C library (header only), the crypto core's CSPRNG for nonces.
        .systemLibrary(name: "CSystemRandom", path: "Sources/CSystemRandom"),
        .target(
            name: "CofferCrypto",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                "CZlib",
                "CSystemRandom",
            ]
        ),
        // The key store: keys, versions, identities and policies sealed under a root key, over a
        // small backend port (in memory here; SQLite and PostgreSQL in their own targets).
        // Compact JSON for hot paths (audit lines, crypto responses), byte-compatible with
        // JSONEncoder's sorted-keys output. No dependencies.
        .target(name: "CofferJSON"),
        .target(
            name: "CofferStore",
            dependencies: [
                "CofferCrypto",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // The embedded default backend: one SQLite file in WAL mode (sqlite-nio bundles SQLite).
        .target(
            name: "CofferStoreSQLite",
            dependencies: [
                "CofferStore",
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The backend for several nodes: PostgreSQL through postgres-nio, with LISTEN/NOTIFY for
        // cache eviction across nodes.
        .target(
            name: "CofferStorePostgres",
            dependencies: [
                "CofferStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // PKCS#11 (the C API of HSMs) from p11-kit's header; modules are loaded at run time.
        .systemLibrary(name: "CPKCS11", path: "Sources/CPKCS11", pkgConfig: "p11-kit-1"),
        // A small Swift binding of PKCS#11: sessions, AES keys that stay in the token, AES-GCM.
        .target(name: "CofferPKCS11", dependencies: ["CPKCS11"]),
        // The key store's HSM root key over CofferPKCS11.
        .target(
            name: "CofferStorePKCS11",
            dependencies: ["CofferStore", "CofferPKCS11", "CofferCrypto", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The server's operations, independent of HTTP: encrypt, decrypt, rewrap, data keys, HMAC,
        // signatures over the key store (compatibility front ends reuse them).
        .target(
            name: "CofferService",
            dependencies: ["CofferStore", "CofferCrypto", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The HTTP API on Hummingbird 2: routes declared as data over the operations layer.
        .target(
            name: "CofferServer",
            dependencies: [
                "CofferService", "CofferStore", "CofferStoreSQLite", "CofferStorePostgres", "CofferStorePKCS11", "CofferCrypto", "CofferAudit", "CofferJSON",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // `coffer-server`: the service itself (`coffer server` starts it, so the `coffer` CLI stays
        // free of NIO and starts fast).
        .executableTarget(
            name: "CofferServerMain",
            dependencies: [
                "CofferServer", "CofferStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `coffer-store-bench`: the key store's lookups, writes and start-up on every backend.
        .executableTarget(
            name: "CofferStoreBench",
            dependencies: [
                "CofferStore", "CofferStoreSQLite", "CofferStorePostgres", "CofferCrypto",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        // `coffer-store-torture`: the child process the crash tests kill at random moments.
        .executableTarget(
            name: "CofferStoreTorture",
            dependencies: [
                "CofferStore", "CofferStoreSQLite", "CofferStorePostgres", "CofferCrypto",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        // The server's hash-chained audit log: writer, rotation, verification (used by the server
        // and by `coffer audit verify`, so it stays free of NIO).
        .target(
            name: "CofferAudit",
            dependencies: ["CofferCrypto", "CofferJSON", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // `coffer`: the command line (one file per noun), on swift-argument-parser.
        .executableTarget(
            name: "CofferCLI",
            dependencies: [
                "CofferCrypto",
                "CofferAudit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // `coffer-bench`: throughput of the formats next to raw swift-crypto and Python's
        // `cryptography` on the same machine, in one run (docs/PERFORMANCE.md).
        .executableTarget(
            name: "CofferBench",
            dependencies: [
                "CofferCrypto",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // `coffer-vectors`: the deterministic generator of docs/vectors/*.json.
        .executableTarget(
            name: "CofferVectors",
            dependencies: ["CofferCrypto"]
        ),
        // Runs the built `coffer` executable as a subprocess.
        // What several test targets share: a live `coffer-server` process and the record of the
        // secrets tests use, for the scan of the suite's logs.
        .target(name: "CofferTestSupport", path: "Tests/CofferTestSupport"),
        .testTarget(
            name: "CofferCLITests",
            dependencies: [
                "CofferCLI", "CofferCrypto", "CofferAudit", "CofferTestSupport",
                // The live server's HTTP/2, mutual TLS and certificate reload, seen by a Swift client.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // PKCS#11 against a real SoftHSM2 token, and the key store's HSM root key (one process-wide
        // module initialisation, so both live in this target).
        .testTarget(
            name: "CofferPKCS11Tests",
            dependencies: ["CofferPKCS11", "CofferStorePKCS11", "CofferStore", "CofferCrypto"]
        ),
        // The key-store conformance suite, run against every backend, plus crash and concurrency
        // tests with real child processes.
        .testTarget(
            name: "CofferStoreTests",
            dependencies: ["CofferStore", "CofferStoreSQLite", "CofferStorePostgres", "CofferCrypto", "CofferTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "SQLiteNIO", package: "sqlite-nio")]
        ),
        .testTarget(
            name: "CofferServerTests",
            dependencies: [
                "CofferServer", "CofferStore", "CofferAudit", "CofferCrypto", "CofferTestSupport", "CofferJSON",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "CofferServiceTests",
            dependencies: ["CofferService", "CofferStore", "CofferCrypto"]
        ),
        .testTarget(
            name: "CofferCryptoTests",
            dependencies: [
                "CofferCrypto",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
