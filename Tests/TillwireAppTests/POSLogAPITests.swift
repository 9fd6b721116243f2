import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TillwireAPI
import TillwireDomain
import TillwireEngine
import TillwireStorage

/// `POST /v1/poslog` on a real SQLite store: a store's till sale applied once however often it is sent, refused whole
/// (and nothing applied) when it does not parse, names an unknown SKU, or comes with a key of another store.
@Suite struct POSLogAPITests {
    static func sale(store: String, sequence: Int, sku: String = "SHIRT-M", quantity: String = "2") -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <POSLog xmlns="http://www.nrf-arts.org/IXRetail/namespace/v6.0.0/poslog">
          <Transaction>
            <BusinessUnit><UnitID TypeCode="RetailStore">\(store)</UnitID></BusinessUnit>
            <WorkstationID>1</WorkstationID>
            <SequenceNumber>\(sequence)</SequenceNumber>
            <BusinessDayDate>2026-11-29</BusinessDayDate>
            <EndDateTime>2026-11-29T09:01:44+00:00</EndDateTime>
            <RetailTransaction>
              <LineItem><SequenceNumber>1</SequenceNumber>
                <Sale><ItemID>\(sku)</ItemID><Quantity>\(quantity)</Quantity><ExtendedAmount>48.00</ExtendedAmount></Sale>
              </LineItem>
            </RetailTransaction>
          </Transaction>
        </POSLog>
        """
    }

    func post(_ client: some TestClientProtocol, key: String?, _ body: String) async throws -> (HTTPResponse.Status, [String: Any]) {
        var headers: HTTPFields = [.contentType: "application/xml"]
        if let key { headers[.authorization] = "Bearer \(key)" }
        return try await client.execute(uri: "/v1/poslog", method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
            (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:])
        }
    }

    @Test func aTillSaleIsAppliedOnceAndWhatCannotBeTakenChangesNothing() async throws {
        let inventory = InventoryAPITests()
        let fixture = try await inventory.fixture()
        _ = try await InventoryService(store: fixture.store).record([
            try InventoryMovement(sku: "SHIRT-M", location: "store-12", delta: 10, reason: .receipt, occurredAt: Date(), source: "erp", sourceKey: "r1"),
        ], correlation: "receipts")
        @Sendable func onHand() async throws -> Int64 { try await fixture.store.position(sku: "SHIRT-M", location: "store-12").onHand }
        try await inventory.app(fixture).test(.router) { client in
            let (status, result) = try await post(client, key: fixture.keys["store12"], Self.sale(store: "12", sequence: 1))
            #expect(status == .ok, "\(result)")
            #expect(result["applied"] as? Int == 1 && result["version"] as? String == "6", "\(result)")
            #expect(try await onHand() == 8)
            let (again, repeated) = try await post(client, key: fixture.keys["store12"], Self.sale(store: "12", sequence: 1))
            #expect(again == .ok && repeated["duplicates"] as? Int == 1 && repeated["applied"] as? Int == 0, "\(repeated)")
            #expect(try await onHand() == 8, "the same transaction again changes nothing")

            for (why, key, body, expected, type) in [
                ("another store's key", fixture.keys["store12"], Self.sale(store: "14", sequence: 2), HTTPResponse.Status.forbidden, "forbidden"),
                ("a read-only key", fixture.keys["reader"], Self.sale(store: "12", sequence: 3), .forbidden, "forbidden"),
                ("no key", nil, Self.sale(store: "12", sequence: 4), .unauthorized, nil),
                ("cut short", fixture.keys["inventory"], String(Self.sale(store: "12", sequence: 5).dropLast(12)), .unprocessableContent, "poslog-unreadable"),
                ("not XML", fixture.keys["inventory"], #"{"movements":[]}"#, .unprocessableContent, "poslog-unreadable"),
                ("an unknown SKU", fixture.keys["inventory"], Self.sale(store: "12", sequence: 6, sku: "HAT"), .unprocessableContent, "poslog-refused"),
                ("an unknown store", fixture.keys["inventory"], Self.sale(store: "99", sequence: 7), .unprocessableContent, "poslog-refused"),
                ("an unknown store, to a store's key", fixture.keys["store12"], Self.sale(store: "99", sequence: 8), .forbidden, "forbidden"),
            ] as [(String, String?, String, HTTPResponse.Status, String?)] {
                let (status, problem) = try await post(client, key: key, body)
                #expect(status == expected, "\(why): \(problem)")
                if let type { #expect((problem["type"] as? String)?.hasSuffix(type) == true, "\(why): \(problem)") }
                #expect(try await onHand() == 8, "\(why): nothing applied")
            }
        }
    }
}
