import Foundation
import Testing
import TillwireDomain
import TillwireApp
import TillwireEngine

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
        ("store_agents:\n  offline_after_seconds: 30\n  record_every_seconds: 30", "store_agents.record_every_seconds", "must be at most half of store_agents.offline_after_seconds"),
        ("store_agents:\n  alert_after_seconds: 2", "store_agents.alert_after_seconds", "must be an integer from 5"),
        ("slos:\n  checkout:\n    metric: http_server_request_duration\n    objective: 0.99", "slos.checkout.threshold_seconds", "is required for a new objective"),
        ("slos:\n  refund:\n    objective: 99", "slos.refund.objective", "must be a share above 0 and below 1"),
        ("slos:\n  refund:\n    metric: cpu_seconds", "slos.refund.metric", "must be one of http_server_request_duration"),
        ("slos:\n  refund:\n    goal: 1", "slos.refund.goal", "is not a known key"),
        ("slos:\n  refund:\n    match:\n      http_route: /v1/returns", "slos.refund.match", "tillwire_refund_latency_seconds has no dimension 'http_route'"),
        ("observability:\n  read_every_seconds: 0", "observability.read_every_seconds", "must be an integer from 1"),
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

    @Test func eachExternalSystemGetsItsOwnResilienceSettings() throws {
        let yaml = """
            systems:
              erp:
                rate_per_second: 2
                burst: 10
                concurrency: 4
                breaker:
                  failure_rate: 0.25
                  open_seconds: 60
                maintenance:
                  - weekly sun 02:00-04:00 Europe/Berlin
                  - 2026-12-01T02:00:00Z/2026-12-01T04:00:00Z
              shopify: {}
            workers:
              concurrency: 8
            """
        let configuration = try HubConfiguration.load(yaml: yaml, environment: [:])
        let erp = try #require(configuration.systems["erp"])
        #expect(erp.rate == RateLimit(perSecond: 2, burst: 10))
        #expect(erp.concurrency == 4)
        #expect(erp.breaker.failureRateThreshold == 0.25 && erp.breaker.openDuration == .seconds(60))
        #expect(erp.breaker.windowSize == 20 && erp.breaker.minimumCalls == 10 && erp.breaker.halfOpenProbes == 3, "defaults")
        #expect(erp.maintenance.map(\.description) == [
            "weekly sun 02:00-04:00 Europe/Berlin", "2026-12-01T02:00:00Z/2026-12-01T04:00:00Z"])
        #expect(configuration.systems["shopify"] == SystemPolicy(), "a system without settings gets the defaults")
        #expect(configuration.workerConcurrency == 8, "the rest of the file is still read")
    }

    @Test(arguments: [
        ("systems:\n  erp:\n    rate_per_second: fast\n", "systems.erp.rate_per_second"),
        ("systems:\n  erp:\n    burst: 3\n", "systems.erp.burst"),
        ("systems:\n  erp:\n    breaker:\n      failure_rate: 2\n", "systems.erp.breaker.failure_rate"),
        ("systems:\n  erp:\n    maintenance: sunday night\n", "systems.erp.maintenance"),
        ("systems:\n  erp:\n    maintenance:\n      - weekly someday 02:00-04:00\n", "systems.erp.maintenance"),
        ("systems:\n  erp:\n    retries: 3\n", "systems.erp.retries"),
    ])
    func badSystemSettingsNameTheKey(yaml: String, key: String) {
        #expect { try HubConfiguration.load(yaml: yaml, environment: [:]) } throws: { error in
            (error as? ConfigurationError)?.key == key
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

    @Test func serviceLevelObjectivesChangeADefaultOrAddOne() throws {
        let configuration = try HubConfiguration.load(yaml: """
            slos:
              availability_inquiry:
                threshold_seconds: 0.02
              checkout_quote:
                metric: http_server_request_duration
                match:
                  http_route: /v1/pricing/quote
                threshold_seconds: 0.1
                objective: 0.995
            observability:
              slo_window_seconds: 600
              order_aging_after_seconds: 3600
            """, environment: ["TILLWIRE_OBSERVABILITY_READ_EVERY_SECONDS": "5"])
        let objectives = Dictionary(uniqueKeysWithValues: configuration.serviceLevels.map { ($0.name, $0) })
        #expect(objectives["availability_inquiry"]?.threshold == .milliseconds(20), "a default's threshold changed")
        #expect(objectives["availability_inquiry"]?.objective == 0.99 && objectives["availability_inquiry"]?.match == ["http_route": "/v1/availability"],
                "the rest of the default kept")
        #expect(objectives["checkout_quote"] == ServiceLevelObjective(name: "checkout_quote", metric: "http_server_request_duration",
                                                                      match: ["http_route": "/v1/pricing/quote"], threshold: .milliseconds(100), objective: 0.995))
        #expect(Set(objectives.keys) == ["availability_inquiry", "sale_to_channel", "financial_posting", "refund", "checkout_quote"])
        #expect(configuration.serviceLevelWindow == .seconds(600) && configuration.orderAgingAfter == .seconds(3600)
                && configuration.operationsInterval == .seconds(5))
        #expect(HubConfiguration().serviceLevels == ServiceLevelObjective.defaults)
    }

    @Test func channelsNameTheirLocationsAndBuffer() throws {
        let yaml = """
            channels:
              web-uk:
                locations: [dc-1, store-12]
                buffer: 2
              leeds-app:
                locations: [store-14]
            inventory:
              publish_window_ms: 200
            """
        let configuration = try HubConfiguration.load(yaml: yaml, environment: [:])
        #expect(configuration.channels == [
            try ChannelPolicy(channel: "leeds-app", locations: ["store-14"]),
            try ChannelPolicy(channel: "web-uk", locations: ["dc-1", "store-12"], buffer: 2),
        ])
        #expect(configuration.publishWindow == .milliseconds(200))
        for (bad, key) in [("channels:\n  web:\n    buffer: 2", "channels.web.locations"), ("channels:\n  web:\n    locations: [dc-1]\n    buffer: -1", "channels.web.buffer"),
                           ("channels:\n  web:\n    locations: [dc-1]\n    colour: red", "channels.web.colour")] {
            #expect(throws: ConfigurationError.self) { try HubConfiguration.load(yaml: bad, environment: [:]) }
            do { _ = try HubConfiguration.load(yaml: bad, environment: [:]) } catch { #expect(error.key == key, "\(error)") }
        }
    }

    @Test func taxRulesAndStrictChannelsAreReadNamingTheBadKey() throws {
        let yaml = """
            tax:
              home_country: GB
              countries:
                GB: {kind: vat_inclusive, rates: [0, 500, 2000]}
                US: {kind: sales_tax_exclusive}
            orders:
              strict_channels: [amazon-uk]
            """
        let configuration = try HubConfiguration.load(yaml: yaml, environment: [:])
        #expect(configuration.orders.taxRules == ["GB": TaxRule(country: "GB", kind: .vatInclusive, rates: [0, 500, 2000]),
                                                  "US": TaxRule(country: "US", kind: .salesTaxExclusive)])
        #expect(configuration.orders.homeCountry == "GB" && configuration.orders.strictChannels == ["amazon-uk"])
        for (bad, key) in [("tax:\n  countries:\n    gb: {kind: vat_inclusive}", "tax.countries"),
                           ("tax:\n  countries:\n    GB: {kind: vat}", "tax.countries.GB.kind"),
                           ("tax:\n  countries:\n    GB: {kind: vat_inclusive, rates: [20%]}", "tax.countries.GB.rates"),
                           ("tax:\n  home_country: Britain", "tax.home_country"),
                           ("orders:\n  strict: [x]", "orders.strict")] {
            do {
                _ = try HubConfiguration.load(yaml: bad, environment: [:])
                Issue.record("\(bad) was accepted")
            } catch { #expect(error.key == key, "\(error)") }
        }
    }

    @Test func returnsAndFinanceAreReadNamingTheBadKey() throws {
        let yaml = """
            returns:
              window_days: 14
              shipping: full_return
              accept_unreferenced: true
            finance:
              system: tryton
              time_zone: Europe/London
              daily_posting_locations: store-1, store-2
              accounts:
                revenue: "7000"
                tenders:
                  cash: "1000"
                  web-uk: "1210"
            """
        let configuration = try HubConfiguration.load(yaml: yaml, environment: ["TILLWIRE_RETURNS_RECEIPT_WINDOW_DAYS": "10"])
        #expect(configuration.returns.rules.window == .seconds(14 * 86_400) && configuration.returns.rules.shipping == .fullReturn)
        #expect(configuration.returns.rules.acceptUnreferenced && configuration.returns.receiptWindow == .seconds(10 * 86_400))
        #expect(configuration.finance.system == "tryton" && configuration.finance.timeZone.identifier == "Europe/London")
        #expect(configuration.finance.dailyLocations == ["store-1", "store-2"])
        #expect(configuration.finance.chart.revenue == "7000" && configuration.finance.chart.taxPayable == "2200")
        #expect(configuration.finance.chart.tender("cash") == "1000" && configuration.finance.chart.tender("card") == "1200")
        for (bad, key) in [("returns:\n  shipping: sometimes", "returns.shipping"),
                           ("returns:\n  accept_unreferenced: maybe", "returns.accept_unreferenced"),
                           ("returns:\n  window: 3", "returns.window"),
                           ("finance:\n  time_zone: Mars/Olympus", "finance.time_zone"),
                           ("finance:\n  system: erp.main", "finance.system"),
                           ("finance:\n  accounts:\n    tenders: [cash]", "finance.accounts.tenders")] {
            do {
                _ = try HubConfiguration.load(yaml: bad, environment: [:])
                Issue.record("\(bad) was accepted")
            } catch { #expect(error.key == key, "\(error)") }
        }
    }

    @Test func shopConnectorsAreReadWithTheirSecretsFromTheEnvironment() throws {
        let yaml = """
            channels:
              web-us:
                locations: [dc-1]
              web-uk:
                locations: [dc-1]
            shopify:
              url: https://tillwire-test.myshopify.com/
              channel: web-us
              location_id: gid://shopify/Location/655441491
              poll_interval_seconds: 60
            oscar:
              url: http://127.0.0.1:8001
              channel: web-uk
              username: hub
            """
        let environment = ["TILLWIRE_SHOPIFY_ACCESS_TOKEN": "shpat_x", "TILLWIRE_SHOPIFY_WEBHOOK_SECRET": "s1",
                           "TILLWIRE_OSCAR_PASSWORD": "p", "TILLWIRE_OSCAR_WEBHOOK_SECRET": "s2"]
        let configuration = try HubConfiguration.load(yaml: yaml, environment: environment)
        let shop = try #require(configuration.shopify)
        #expect(shop.shopURL == "https://tillwire-test.myshopify.com" && shop.channel == "web-us" && shop.system == "shopify")
        #expect(shop.location.rawValue == "655441491" && shop.accessToken == "shpat_x" && shop.webhookSecret == "s1")
        #expect(shop.pollInterval == .seconds(60) && shop.apiVersion == "2026-04" && shop.pollOverlap == .seconds(600), "the rest are defaults")
        #expect(configuration.oscar?.channel == "web-uk" && configuration.oscar?.password == "p")
        for (change, key) in [("", "shopify.access_token"), ("TILLWIRE_SHOPIFY_LOCATION_ID=Main warehouse", "shopify.location_id"),
                              ("TILLWIRE_SHOPIFY_CHANNEL=web-fr", "shopify.channel"), ("TILLWIRE_SHOPIFY_URL=myshop", "shopify.url"),
                              ("TILLWIRE_SHOPIFY_API_VERSION=latest", "shopify.api_version"), ("TILLWIRE_SHOPIFY_SYSTEM=oscar", "shopify.system")] {
            var bad = environment
            bad["TILLWIRE_SHOPIFY_ACCESS_TOKEN"] = key == "shopify.access_token" ? nil : "shpat_x"
            let parts = change.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { bad[parts[0]] = parts[1] }
            #expect { try HubConfiguration.load(yaml: yaml, environment: bad) } throws: { ($0 as? ConfigurationError)?.key == key }
        }
        let woo = yaml + "\nwoocommerce:\n  url: https://shop.example.com/\n  channel: web-us\n  consumer_key: ck_1\n"
        let wooSecrets = environment.merging(["TILLWIRE_WOOCOMMERCE_CONSUMER_SECRET": "cs_1", "TILLWIRE_WOOCOMMERCE_WEBHOOK_SECRET": "w1"]) { $1 }
        #expect(performing: { try HubConfiguration.load(yaml: woo, environment: wooSecrets) }, throws: { error in
            (error as? ConfigurationError)?.key == "woocommerce.channel"
        })
        // Each shop's channel is told about its orders through the shop's own system.
        let twoShops = """
            channels:
              web-us:
                locations: [dc-1]
              web-uk:
                locations: [dc-1]
            shopify:
              url: https://tillwire-test.myshopify.com
              channel: web-us
              location_id: "655441491"
            woocommerce:
              url: https://shop.example.com/
              channel: web-uk
              consumer_key: ck_1
            """
        let shops = try HubConfiguration.load(yaml: twoShops, environment: wooSecrets.filter { !$0.key.hasPrefix("TILLWIRE_OSCAR") })
        #expect(shops.woocommerce?.storeURL == "https://shop.example.com" && shops.woocommerce?.consumerSecret == "cs_1" && shops.woocommerce?.system == "woocommerce")
        #expect(shops.orders.system(of: "web-uk") == "woocommerce" && shops.orders.system(of: "web-us") == "shopify")
    }

    @Test func trytonIsTheFulfillingSystemWithItsPasswordFromTheEnvironment() throws {
        let yaml = """
            orders:
              fulfilment_system: erp
            tryton:
              url: http://127.0.0.1:8000/
              database: tryton
              username: tillwire
            """
        let configuration = try HubConfiguration.load(yaml: yaml, environment: ["TILLWIRE_TRYTON_PASSWORD": "s3cret"])
        let tryton = try #require(configuration.tryton)
        #expect(tryton.url == "http://127.0.0.1:8000" && tryton.database == "tryton" && tryton.password == "s3cret" && tryton.system == "erp")
        #expect(tryton.stockLocation == "STO" && tryton.party == "Tillwire channels", "the defaults")
        #expect(performing: { try HubConfiguration.load(yaml: yaml, environment: [:]) }, throws: { ($0 as? ConfigurationError)?.key == "tryton.password" })
    }

    @Test func theERPsPullAndItsShadowAreReadNamingTheBadKey() throws {
        let base = """
            orders:
              fulfilment_system: erp
            finance:
              system: erp
            tryton:
              url: http://127.0.0.1:8000
              database: tryton
              username: tillwire
              password: s3cret
              stock_hub_location: dc-1
              price_lists: web-us/US, web-ca/CA
              pull_interval_seconds: 600
            """
        let configuration = try HubConfiguration.load(yaml: base + """

            tryton_shadow:
              url: http://127.0.0.1:8001
              database: next
              username: tillwire
              password: other
            """, environment: [:])
        #expect(configuration.erpPull.stockLocation == "dc-1" && configuration.erpPull.interval == .seconds(600))
        #expect(configuration.erpPull.priceLists == [.init(channel: "web-us", country: "US"), .init(channel: "web-ca", country: "CA")])
        let shadow = try #require(configuration.trytonShadow)
        #expect(shadow.system == "erp-shadow" && shadow.database == "next")
        #expect(configuration.systems["erp-shadow"]?.concurrency == 1, "a shadow takes one worker at most unless told otherwise")
        for (yaml, key) in [
            (base.replacingOccurrences(of: "web-ca/CA", with: "web-ca/Canada"), "tryton.price_lists"),
            (base.replacingOccurrences(of: "600", with: "30"), "tryton.pull_interval_seconds"),
            (base + "\npricing:\n  owner: pim\n", "tryton.price_lists"),
            (base.replacingOccurrences(of: "finance:\n  system: erp", with: "finance:\n  system: ledger") + "\ntryton_shadow:\n  url: http://127.0.0.1:8001\n  database: n\n  username: u\n  password: p\n", "tryton_shadow.url"),
            ("tryton_shadow:\n  url: http://127.0.0.1:8001\n", "tryton_shadow.url"),
        ] {
            #expect(performing: { try HubConfiguration.load(yaml: yaml, environment: [:]) }, throws: { ($0 as? ConfigurationError)?.key == key })
        }
    }
}
