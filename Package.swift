// swift-tools-version: 6.1
import PackageDescription

// Boundaries live here: see docs/architecture.md for what each target may import and why.
let package = Package(
    name: "Tillwire",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tillwire", targets: ["tillwire"]),
        // For the Benchmarks/ package, which measures the storage layer and the HTTP stack in a release build.
        .library(name: "TillwireKit", targets: [
            "TillwireDomain", "TillwireStorage", "TillwireStorageSQLite", "TillwireStoragePostgres", "TillwireEngine",
            "TillwireAPI",
        ]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        // Already built for PostgresNIO; named here for API key hashing and, later, webhook signatures.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        // Already in the graph through Hummingbird; named so the API can spell header names.
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // Already in the graph through HummingbirdTesting; the connectors' HTTP transport.
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // Spans across intake, commands, jobs and calls to external systems; exported over OTLP/HTTP only when
        // configured (`tracing.otlp_endpoint`). The HTTP exporter alone: the default traits add gRPC (+75 s build).
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        // Canonical model and pure rules. Foundation only: no I/O, no other package.
        .target(name: "TillwireDomain"),

        // Storage protocols, the unit of work (Commit) and StorageError. No database driver.
        // Instrumentation: a job carries the trace context of the command that enqueued it (`NewJob.traceParent`).
        .target(name: "TillwireStorage", dependencies: [
            "TillwireDomain",
            .product(name: "Instrumentation", package: "swift-distributed-tracing"),
        ]),

        // The embedded default backend: one SQLite file, WAL, synchronous=FULL, group commit.
        .target(name: "TillwireStorageSQLite", dependencies: [
            "TillwireStorage", "TillwireDomain",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),

        // The shared backend for several hub instances.
        .target(name: "TillwireStoragePostgres", dependencies: [
            "TillwireStorage", "TillwireDomain",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),

        // Long-lived work over the storage protocols: job worker, retry policy.
        .target(name: "TillwireEngine", dependencies: [
            "TillwireStorage", "TillwireDomain",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Tracing", package: "swift-distributed-tracing"),
        ]),

        // What every connector shares: webhook intake (signatures, the durable inbox), the HTTP transport.
        .target(name: "TillwireConnectors", dependencies: [
            "TillwireStorage", "TillwireDomain", "TillwireEngine",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // A django-oscar shop (REST API and its webhook plugin) as a sales channel.
        .target(name: "ConnectorOscar", dependencies: [
            "TillwireConnectors", "TillwireStorage", "TillwireDomain", "TillwireEngine",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // A Shopify shop: webhooks, the GraphQL Admin API (inventory, fulfilment, refunds), the reconciliation poll.
        .target(name: "ConnectorShopify", dependencies: [
            "TillwireConnectors", "TillwireStorage", "TillwireDomain", "TillwireEngine",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // A WooCommerce store: webhooks, REST API v3 (stock batches, order status and notes, refunds), the poll.
        .target(name: "ConnectorWooCommerce", dependencies: [
            "TillwireConnectors", "TillwireStorage", "TillwireDomain", "TillwireEngine",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Tryton 8.2 as the ERP, over JSON-RPC: product master, stock snapshots, releases as confirmed sales.
        .target(name: "ConnectorTryton", dependencies: [
            "TillwireConnectors", "TillwireStorage", "TillwireDomain", "TillwireEngine",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // NRF/ARTS POSLog 2.x and 6 read into transactions (Foundation's XML parser only).
        // Taken over HTTP (`POST /v1/poslog`) and from the drop folder (`FileIntake`).
        .target(name: "ConnectorPOSLog", dependencies: [
            "TillwireConnectors", "TillwireEngine", "TillwireStorage", "TillwireDomain",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // CSV files from legacy systems (stock counts, till sales), streamed from the drop folder (`FileIntake`).
        .target(name: "ConnectorCSV", dependencies: [
            "TillwireConnectors", "TillwireEngine", "TillwireStorage", "TillwireDomain",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // HTTP: routes, request ids, problem+json. Knows storage only through its protocols.
        .target(name: "TillwireAPI", dependencies: [
            "TillwireStorage", "TillwireDomain", "TillwireEngine", "TillwireConnectors", "ConnectorPOSLog",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),

        // The one place where everything is wired: config -> store -> services -> ServiceGroup.
        .target(name: "TillwireApp", dependencies: [
            "TillwireDomain", "TillwireStorage", "TillwireStorageSQLite", "TillwireStoragePostgres",
            "TillwireEngine", "TillwireAPI", "TillwireConnectors", "ConnectorOscar", "ConnectorShopify", "ConnectorWooCommerce", "ConnectorTryton", "ConnectorPOSLog", "ConnectorCSV",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "OTel", package: "swift-otel"),
            .product(name: "Tracing", package: "swift-distributed-tracing"),
        ]),

        // The store agent: a store's own process, with its own SQLite file, between its tills and the hub.
        .target(name: "TillwireStoreAgent", dependencies: [
            "TillwireDomain", "TillwireStorage", "TillwireAPI", "TillwireConnectors",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // `tillwire demo`: a generated retailer, and the scenarios played against a hub in this process. Its shops are
        // the same local stand-ins the tests use (TillwireTesting), its ERP a simulation of its own.
        .target(name: "TillwireDemo", dependencies: [
            "TillwireApp", "TillwireAPI", "TillwireConnectors", "TillwireDomain", "TillwireEngine", "TillwireStorage", "TillwireStorageSQLite",
            "TillwireStoreAgent", "TillwireTesting", "ConnectorTryton",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // The executable: a thin shell of commands over TillwireApp.
        .executableTarget(name: "tillwire", dependencies: [
            "TillwireApp", "TillwireDemo", "TillwireStoreAgent", "ConnectorTryton", "TillwireAPI", "TillwireEngine", "TillwireStorage", "TillwireDomain",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Conformance suite every storage backend runs, fixtures, a manual clock. No test framework import,
        // so that it is an ordinary library; failures are thrown as ConformanceFailure.
        // The fake platforms (Shopify, WooCommerce) are local HTTP servers that speak the platform's documented protocol;
        // `tillwire demo` runs them as its stand-in shops.
        .target(name: "TillwireTesting", dependencies: [
            "TillwireStorage", "TillwireDomain", "TillwireEngine", "TillwireConnectors",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ]),

        .testTarget(name: "TillwireDomainTests", dependencies: ["TillwireDomain", "TillwireTesting"]),
        .testTarget(name: "TillwireStorageSQLiteTests", dependencies: [
            "TillwireStorageSQLite", "TillwireStorage", "TillwireTesting", "TillwireDomain",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "TillwireStoragePostgresTests", dependencies: [
            "TillwireStoragePostgres", "TillwireStorage", "TillwireTesting", "TillwireDomain", "TillwireEngine",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "TillwireEngineTests", dependencies: [
            "TillwireEngine", "TillwireStorageSQLite", "TillwireStorage", "TillwireTesting", "TillwireDomain",
        ]),
        .testTarget(name: "ConnectorOscarTests", dependencies: [
            "ConnectorOscar", "TillwireConnectors", "TillwireDomain", "TillwireEngine", "TillwireStorage", "TillwireStorageSQLite",
        ]),
        .testTarget(name: "ConnectorShopifyTests", dependencies: [
            "ConnectorShopify", "TillwireConnectors", "TillwireDomain", "TillwireEngine", "TillwireStorage", "TillwireStorageSQLite", "TillwireTesting",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "ConnectorWooCommerceTests", dependencies: [
            "ConnectorWooCommerce", "TillwireConnectors", "TillwireDomain", "TillwireEngine", "TillwireStorage", "TillwireStorageSQLite", "TillwireTesting",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "ConnectorTrytonTests", dependencies: [
            "ConnectorTryton", "TillwireConnectors", "TillwireTesting", "TillwireDomain", "TillwireEngine", "TillwireStorage", "TillwireStorageSQLite",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "ConnectorPOSLogTests", dependencies: [
            "ConnectorPOSLog", "TillwireConnectors", "TillwireTesting",
            .product(name: "Logging", package: "swift-log"), "TillwireEngine", "TillwireStorage", "TillwireStorageSQLite", "TillwireDomain",
        ], exclude: ["Fixtures"]),
        .testTarget(name: "ConnectorCSVTests", dependencies: [
            "ConnectorCSV", "TillwireConnectors", "TillwireTesting", "TillwireEngine", "TillwireStorage", "TillwireStorageSQLite", "TillwireDomain",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "TillwireStoreAgentTests", dependencies: ["TillwireStoreAgent", "TillwireTesting"]),
        .testTarget(name: "TillwireAppTests", dependencies: [
            "TillwireApp", "TillwireAPI", "TillwireStorageSQLite", "TillwireStoragePostgres", "TillwireStorage",
            "TillwireDomain", "TillwireEngine", "TillwireTesting", "tillwire", "ConnectorShopify", "ConnectorTryton",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
    ]
)
