import Foundation

/// Order bodies as the platforms send them, written here from each platform's documented order resource, for the
/// connectors' tests and the hub's serve tests (test targets cannot import each other).
public enum PlatformFixtures {
    /// An order paid in EUR on a USD shop: the `*_set` fields carry both, and the hub books the shop's money.
    public static func shopifyOrder(id: String = "820982911946154508", financial: String = "paid", fulfillment: String = "null", cancelledAt: String = "null",
                      updatedAt: String = "2026-11-29T10:05:00-05:00", refunds: String = "[]") -> String {
        """
        {"id": \(id), "admin_graphql_api_id": "gid://shopify/Order/\(id)", "name": "#1001", "order_number": 1001,
         "email": "jane@example.com", "created_at": "2026-11-29T10:00:00-05:00", "updated_at": "\(updatedAt)", "cancelled_at": \(cancelledAt),
         "currency": "USD", "presentment_currency": "EUR", "taxes_included": false,
         "total_price": "53.44", "total_price_set": {"shop_money": {"amount": "53.44", "currency_code": "USD"}, "presentment_money": {"amount": "49.40", "currency_code": "EUR"}},
         "subtotal_price": "44.48", "total_tax": "3.96", "total_discounts": "4.00", "total_outstanding": "0.00",
         "financial_status": "\(financial)", "fulfillment_status": \(fulfillment),
         "customer": {"id": 207119551, "email": "jane@example.com", "first_name": "Jane", "last_name": "Doe"},
         "shipping_address": {"first_name": "Jane", "last_name": "Doe", "address1": "1 Main St", "city": "Springfield", "province_code": "IL", "zip": "62701", "country_code": "US"},
         "line_items": [
           {"id": 466157049, "variant_id": 39072856, "sku": "TSHIRT-M-BLUE", "title": "T-shirt", "quantity": 2, "price": "19.99",
            "price_set": {"shop_money": {"amount": "19.99", "currency_code": "USD"}, "presentment_money": {"amount": "18.50", "currency_code": "EUR"}},
            "discount_allocations": [{"amount": "4.00", "discount_application_index": 0, "amount_set": {"shop_money": {"amount": "4.00", "currency_code": "USD"}, "presentment_money": {"amount": "3.70", "currency_code": "EUR"}}}],
            "tax_lines": [{"title": "IL State Tax", "price": "2.88", "rate": 0.08, "price_set": {"shop_money": {"amount": "2.88", "currency_code": "USD"}, "presentment_money": {"amount": "2.66", "currency_code": "EUR"}}}]},
           {"id": 518995019, "variant_id": 49148385, "sku": "MUG-CERAMIC", "title": "Mug", "quantity": 1, "price": "8.50",
            "discount_allocations": [], "tax_lines": [{"title": "IL State Tax", "price": "0.68", "rate": 0.08}]}],
         "shipping_lines": [{"id": 369256396, "code": "Standard", "price": "5.00", "discount_allocations": [], "tax_lines": [{"title": "IL State Tax", "price": "0.40", "rate": 0.08}]}],
         "refunds": \(refunds)}
        """
    }

    /// 2 × T-shirt at 19.99 with 4.00 off and 20 % VAT, 1 × mug as a variation, shipping 4.90 + VAT.
    public static func wooOrder(id: Int = 727, status: String = "processing", modified: String = "2026-11-29T15:05:00", paid: String? = "2026-11-29T15:01:00",
                      refunds: String = "[]") -> String {
        """
        {"id": \(id), "parent_id": 0, "number": "\(id)", "order_key": "wc_order_58d2d042d1d", "created_via": "checkout", "version": "9.4.0",
         "status": "\(status)", "currency": "GBP", "date_created": "2026-11-29T15:00:00", "date_created_gmt": "2026-11-29T15:00:00",
         "date_modified": "\(modified)", "date_modified_gmt": "\(modified)", "discount_total": "4.00", "discount_tax": "0.80",
         "shipping_total": "4.90", "shipping_tax": "0.98", "cart_tax": "8.90", "total": "59.26", "total_tax": "9.88", "prices_include_tax": false,
         "customer_id": 26, "billing": {"first_name": "Ann", "last_name": "Smith", "email": "ann@example.co.uk", "country": "GB", "state": "", "postcode": "LS1 4AP"},
         "shipping": {"first_name": "Ann", "last_name": "Smith", "country": "GB", "state": "", "postcode": "LS1 4AP"},
         "payment_method": "stripe", "transaction_id": "ch_1", "date_paid": \(paid.map { "\"\($0)\"" } ?? "null"), "date_paid_gmt": \(paid.map { "\"\($0)\"" } ?? "null"),
         "line_items": [
           {"id": 315, "name": "T-shirt", "product_id": 93, "variation_id": 0, "quantity": 2, "tax_class": "", "subtotal": "39.98", "subtotal_tax": "8.00",
            "total": "35.98", "total_tax": "7.20", "taxes": [{"id": 1, "total": "7.196", "subtotal": "7.996"}], "sku": "TSHIRT-M-BLUE", "price": 17.99},
           {"id": 316, "name": "Mug - Blue", "product_id": 22, "variation_id": 23, "quantity": 1, "tax_class": "", "subtotal": "8.50", "subtotal_tax": "1.70",
            "total": "8.50", "total_tax": "1.70", "taxes": [{"id": 1, "total": "1.7", "subtotal": "1.7"}], "sku": "MUG-BLUE", "price": 8.5}],
         "shipping_lines": [{"id": 317, "method_title": "Flat rate", "method_id": "flat_rate", "total": "4.90", "total_tax": "0.98"}],
         "fee_lines": [], "coupon_lines": [{"id": 318, "code": "autumn", "discount": "4.00", "discount_tax": "0.80"}], "refunds": \(refunds)}
        """
    }
}
