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
        .executable(name: "coffer", targets: ["CofferCLI"]),
        .executable(name: "coffer-bench", targets: ["CofferBench"]),
        .executable(name: "coffer-vectors", targets: ["CofferVectors"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", exact: "2.0.1"),
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
        // `coffer`: the command line (one file per noun), on swift-argument-parser.
        .executableTarget(
            name: "CofferCLI",
            dependencies: [
                "CofferCrypto",
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
        .testTarget(
            name: "CofferCLITests",
            dependencies: ["CofferCrypto"]
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
