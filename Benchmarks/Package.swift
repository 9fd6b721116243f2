// swift-tools-version: 6.1
import PackageDescription

// A separate package, so that the main build and test run stay fast. Run with Benchmarks/run (release build).
let package = Package(
    name: "TillwireBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Tillwire", path: ".."),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        .executableTarget(name: "tillwire-bench", dependencies: [
            .product(name: "TillwireKit", package: "Tillwire"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
        ]),
    ]
)
