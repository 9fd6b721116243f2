import Testing
import TillwireApp

@Suite struct ConfigurationTests {
    @Test func noConfigurationMeansTheEmbeddedDefault() throws {
        let configuration = try HubConfiguration.load(yaml: nil, environment: [:])
        #expect(configuration.storageBackend == .sqlite)
        #expect(configuration.sqlitePath == "./tillwire-data/tillwire.sqlite")
        #expect(configuration.httpHost == "127.0.0.1" && configuration.httpPort == 8080)
    }

    @Test func theFileIsReadAndTheEnvironmentOverridesIt() throws {
        let yaml = """
            http:
              port: 9000
            storage:
              backend: postgres
              postgres:
                url: postgres://hub:secret@db:5432/tillwire
                max_connections: 8
            log:
              level: debug
              format: json
            """
        let configuration = try HubConfiguration.load(yaml: yaml, environment: ["TILLWIRE_HTTP_PORT": "9100", "TILLWIRE_UNRELATED": "x"])
        #expect(configuration.httpPort == 9100)
        #expect(configuration.storageBackend == .postgres)
        #expect(configuration.postgresMaxConnections == 8)
        #expect(configuration.logLevel == .debug && configuration.logFormat == .json)
        #expect(configuration.redactedPostgresURL == "postgres://hub:***@db:5432/tillwire", "the password never reaches a log")
    }

    @Test(arguments: [
        ("http:\n  port: eighty", "http.port", "must be an integer from 0 to 65535, got 'eighty'"),
        ("http:\n  prot: 80", "http.prot", "is not a known key"),
        ("storage:\n  backend: oracle", "storage.backend", "must be one of sqlite, postgres, got 'oracle'"),
        ("storage:\n  backend: postgres", "storage.postgres.url", "is required when storage.backend is postgres"),
        ("log:\n  level: loud", "log.level", "must be one of trace"),
        ("http: 8080", "http", "needs nested keys"),
    ])
    func aBadValueNamesItsKeyAndWhy(yaml: String, key: String, reason: String) {
        do {
            _ = try HubConfiguration.load(yaml: yaml, origin: "hub.yaml", environment: [:])
            Issue.record("accepted a bad configuration: \(yaml)")
        } catch {
            #expect(error.key == key)
            #expect(error.reason.hasPrefix(reason), "\(error.reason)")
            #expect(error.description.contains("hub.yaml"))
        }
    }

    @Test func aBadEnvironmentValueNamesTheVariable() {
        #expect(throws: ConfigurationError(key: "http.port", origin: "environment variable TILLWIRE_HTTP_PORT", reason: "must be an integer from 0 to 65535, got '99999'")) {
            try HubConfiguration.load(yaml: nil, environment: ["TILLWIRE_HTTP_PORT": "99999"])
        }
    }

    @Test func invalidYAMLIsReported() {
        #expect(throws: ConfigurationError.self) { try HubConfiguration.load(yaml: "http: [unclosed", environment: [:]) }
    }
}
