import ConnectorTryton
import Foundation

/// What the demo does in a real Tryton before the hub starts, as the retailer's ERP team would have: the retailer's
/// products in Tryton's product master (by code, the hub's SKU), with a list price and stock at the warehouse. A
/// product already there (an earlier demo on the same database) is left as it is.
enum DemoTryton {
    static func prepare(_ retailer: DemoRetailer, configuration: TrytonConfiguration) async throws {
        let rpc = TrytonRPC(configuration: configuration)
        func first(_ answer: Any) -> Any? { (answer as? [Any])?.first }
        guard let storage = first(try await rpc.call("model.stock.location.search", [[["code", "=", configuration.stockLocation]], 0, 1, NSNull()])) else {
            throw Demo.Refused(description: "Tryton has no stock location \(configuration.stockLocation) (tryton.stock_location)")
        }
        for product in retailer.products {
            let existing = try await rpc.call("model.product.product.search", [[["code", "=", product.sku]], 0, 1, NSNull()]) as? [Any] ?? []
            guard existing.isEmpty else { continue }
            _ = try await rpc.call("model.product.template.create", [[[
                "name": product.name, "type": "goods", "default_uom": 1, "salable": true, "sale_uom": 1,
                "list_price": ["__class__": "Decimal", "decimal": decimal(product.prices["USD"]!)], "account_category": 1,
                "products": [["create", [["suffix_code": product.sku]]]],
            ] as [String: Any]]])
            guard let id = first(try await rpc.call("model.product.product.search", [[["code", "=", product.sku]], 0, 1, NSNull()])) else {
                throw Demo.Refused(description: "Tryton did not keep product \(product.sku)")
            }
            let stock = retailer.openingStock.first { $0.sku == product.sku && $0.location == retailer.warehouse.id }?.units ?? 0
            guard let inventory = first(try await rpc.call("model.stock.inventory.create", [[["location": storage, "lines": [["create", [["product": id, "quantity": Double(stock)]]]]] as [String: Any]]])) else {
                throw Demo.Refused(description: "Tryton did not take the stock of \(product.sku)")
            }
            _ = try await rpc.call("model.stock.inventory.confirm", [[inventory]])
        }
    }
}
