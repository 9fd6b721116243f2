import ConnectorPOSLog
import Foundation
import Testing
import TillwireDomain
import TillwireEngine
import TillwireStorage
import TillwireStorageSQLite

/// A store's POSLog day file applied to the hub on a real SQLite store: once per transaction however often the file
/// arrives, sales and returns moving the store's stock, voided lines and cancelled or control transactions moving
/// nothing, weighed goods not counted as pieces; a file naming an unknown store or SKU applies nothing.
@Suite struct POSLogIntakeTests {
    func hub() async throws -> (SQLiteStore, POSLogIntake) {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        _ = try await store.commit(Commit(catalog: [
            .putLocation(try Location(id: "store-12", kind: .store, name: "Camden")),
            .putProduct(try Product(sku: "SHIRT-M", name: "T-shirt")), .putProduct(try Product(sku: "MUG", name: "Mug")),
            .putProduct(try Product(sku: "BANANA-LOOSE", name: "Bananas")),
        ]))
        let inventory = InventoryService(store: store)
        _ = try await inventory.record([
            try InventoryMovement(sku: "SHIRT-M", location: "store-12", delta: 10, reason: .receipt, occurredAt: Date(), source: "erp", sourceKey: "r1"),
            try InventoryMovement(sku: "MUG", location: "store-12", delta: 6, reason: .receipt, occurredAt: Date(), source: "erp", sourceKey: "r2"),
        ], correlation: "receipts")
        return (store, POSLogIntake(store: store, inventory: inventory))
    }

    @Test func aDayFileIsAppliedOnceHoweverOftenItArrives() async throws {
        let (store, intake) = try await hub()
        let document = try POSLogParser.parse(try POSLogParserTests.fixture("store12-v2.xml"))
        let first = try await intake.apply(document)
        #expect(first == .init(applied: 2, duplicates: 0, recordedOnly: 2, unmeasuredLines: 1), "\(first)")
        #expect(try await store.position(sku: "SHIRT-M", location: "store-12").onHand == 9, "10, 2 sold, 1 returned")
        #expect(try await store.position(sku: "MUG", location: "store-12").onHand == 6, "the voided line and the cancelled sale move nothing")
        let again = try await intake.apply(document)
        #expect(again == .init(applied: 0, duplicates: 2, recordedOnly: 2, unmeasuredLines: 1), "\(again)")
        #expect(try await store.position(sku: "SHIRT-M", location: "store-12").onHand == 9, "the same file again changes nothing")
        let control = try await store.readStream(StreamID(trusted: "pos/store-12/2026-11-27"), fromVersion: 1, limit: 10)
        #expect(control.map(\.type) == [POSLogIntake.Recorded.eventType, POSLogIntake.Recorded.eventType], "the sign-off and the cancelled sale, once each")
    }

    @Test func aFileNamingAnUnknownStoreOrProductAppliesNothing() async throws {
        let (store, intake) = try await hub()
        let text = String(decoding: try POSLogParserTests.fixture("store12-v2.xml"), as: UTF8.self)
        let otherStore = try POSLogParser.parse(Data(text.replacingOccurrences(of: "<RetailStoreID>12</RetailStoreID>", with: "<RetailStoreID>99</RetailStoreID>").utf8))
        await #expect { try await intake.apply(otherStore) } throws: { "\($0)".contains("store 99 is not a location") }
        let otherSKU = try POSLogParser.parse(Data(text.replacingOccurrences(of: "<ItemID>SHIRT-M</ItemID>", with: "<ItemID>HAT</ItemID>").utf8))
        await #expect { try await intake.apply(otherSKU) } throws: { "\($0)".contains("SKU HAT is not a product") }
        #expect(try await store.position(sku: "SHIRT-M", location: "store-12").onHand == 10, "nothing applied")
    }

    @Test func aTransactionThatCannotBeRecordedRefusesTheDocumentBeforeAnyIsApplied() async throws {
        let (store, intake) = try await hub()
        let text = String(decoding: try POSLogParserTests.fixture("store12-v2.xml"), as: UTF8.self)
        // The first transaction is fine; a later one returns two million shirts, more than one movement may carry.
        let last = try #require(text.range(of: "<Quantity>1</Quantity>", options: .backwards))
        let document = try POSLogParser.parse(Data(text.replacingCharacters(in: last, with: "<Quantity>2000000</Quantity>").utf8))
        await #expect { try await intake.apply(document) } throws: { "\($0)".contains("cannot be recorded") }
        #expect(try await store.position(sku: "SHIRT-M", location: "store-12").onHand == 10, "nothing applied, not even the first sale")
        #expect(try await store.readStream(StreamID(trusted: "pos/store-12/2026-11-27"), fromVersion: 1, limit: 10).isEmpty)
    }

    @Test func aStoresKeyLearnsNothingOfOtherStores() async throws {
        let (_, intake) = try await hub()
        let text = String(decoding: try POSLogParserTests.fixture("store12-v2.xml"), as: UTF8.self)
        let unknown = try POSLogParser.parse(Data(text.replacingOccurrences(of: "<RetailStoreID>12</RetailStoreID>", with: "<RetailStoreID>99</RetailStoreID>").utf8))
        let onlyStore14: (LocationID) -> Bool = { $0 == "store-14" }
        for document in [unknown, try POSLogParser.parse(Data(text.utf8))] {
            await #expect { try await intake.apply(document, permitted: onlyStore14) } throws: { error in
                (error as? POSLogIntakeError)?.kind == .forbidden
            }
        }
    }
}
