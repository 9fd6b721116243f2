import Foundation

/// The demo's retailer, generated from a seed: the same seed gives the same stores, products, prices and stock on
/// every machine (a small linear congruential generator, not the system's random numbers).
public struct DemoRetailer: Sendable {
    public struct Country: Sendable {
        public let code: String
        public let currency: String
        /// `vat_inclusive` or `sales_tax_exclusive`, as `tax.countries` spells it.
        public let taxKind: String
        /// Basis points.
        public let taxRate: Int64
        public let name: String
    }

    public struct Store: Sendable {
        public let id: String
        /// The id its tills write in POSLog (`BusinessUnit/UnitID`): the hub reads `us-1` as `store-us-1`.
        public let posID: String
        public let name: String
        public let country: Country
    }

    public struct Product: Sendable {
        public let sku: String
        public let name: String
        /// Shelf price in minor units, per currency code.
        public let prices: [String: Int64]
    }

    public let seed: UInt64
    public let name: String
    public let countries: [Country]
    public let stores: [Store]
    public let warehouse: (id: String, name: String)
    public let products: [Product]
    /// Opening stock: units per (SKU, location).
    public let openingStock: [(sku: String, location: String, units: Int64)]

    static let allCountries = [
        Country(code: "US", currency: "USD", taxKind: "sales_tax_exclusive", taxRate: 725, name: "United States"),
        Country(code: "GB", currency: "GBP", taxKind: "vat_inclusive", taxRate: 2_000, name: "United Kingdom"),
        Country(code: "DE", currency: "EUR", taxKind: "vat_inclusive", taxRate: 1_900, name: "Germany"),
    ]
    static let places: [String: [String]] = [
        "US": ["New York, Broadway", "Chicago, State Street", "Austin, Congress Avenue", "Seattle, Pike Street", "Boston, Newbury Street", "Denver, Larimer Square"],
        "GB": ["London, Carnaby Street", "Manchester, King Street", "Leeds, Briggate", "Bristol, Park Street", "Glasgow, Buchanan Street", "Bath, Milsom Street"],
        "DE": ["Berlin, Kastanienallee", "Hamburg, Mönckebergstraße", "München, Sendlinger Straße", "Köln, Ehrenstraße", "Leipzig, Petersstraße", "Frankfurt, Berger Straße"],
    ]
    static let materials = ["Merino", "Linen", "Oak", "Stoneware", "Canvas", "Cotton", "Walnut", "Wool"]
    static let items: [(code: String, name: String, base: Int64)] = [
        ("SCARF", "scarf", 3_900), ("JUMPER", "jumper", 8_900), ("MUG", "mug", 1_400), ("TOTE", "tote bag", 2_400),
        ("LAMP", "desk lamp", 7_900), ("BEANIE", "beanie", 2_200), ("THROW", "throw", 6_900), ("BOWL", "bowl", 1_900),
    ]

    public init(seed: UInt64) {
        var random = Generator(seed: seed)
        self.seed = seed
        name = ["Northwind Goods", "Harbour & Pine", "Kestrel Home", "Blue Fern Supply"][Int(seed % 4)]
        countries = Self.allCountries
        var stores: [Store] = []
        for country in countries {
            let picked = random.shuffled(Self.places[country.code]!).prefix(4)
            for (index, place) in picked.enumerated() {
                let pos = "\(country.code.lowercased() == "gb" ? "uk" : country.code.lowercased())-\(index + 1)"
                stores.append(Store(id: "store-\(pos)", posID: pos, name: place, country: country))
            }
        }
        self.stores = stores
        warehouse = ("dc-central", "Central distribution centre")
        var products: [Product] = []
        for item in Self.items {
            let material = Self.materials[random.next(below: Self.materials.count)]
            let base = item.base + Int64(random.next(below: 6)) * 100
            // Shelf prices end in .99 or .00, per market.
            products.append(Product(sku: "\(material.uppercased().prefix(3))-\(item.code)", name: "\(material) \(item.name)", prices: [
                "USD": base + 1_000 - 1, "GBP": base - 1, "EUR": base + 500,
            ]))
        }
        self.products = products
        var stock: [(String, String, Int64)] = []
        for product in products {
            stock.append((product.sku, warehouse.id, Int64(40 + random.next(below: 60))))
            for store in stores { stock.append((product.sku, store.id, Int64(4 + random.next(below: 9)))) }
        }
        openingStock = stock
    }

    /// The store that loses its line to the hub in the demo, and runs a store agent.
    public var offlineStore: Store { stores(in: "DE")[0] }

    public func stores(in country: String) -> [Store] { stores.filter { $0.country.code == country } }

    public func country(_ code: String) -> Country { countries.first { $0.code == code }! }

    /// A deterministic generator: 64-bit LCG (Knuth's MMIX constants), high bits out.
    struct Generator {
        var state: UInt64

        init(seed: UInt64) { state = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407 }

        mutating func next(below bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }

        mutating func shuffled<T>(_ values: [T]) -> [T] {
            var values = values
            for index in stride(from: values.count - 1, to: 0, by: -1) { values.swapAt(index, next(below: index + 1)) }
            return values
        }
    }
}
