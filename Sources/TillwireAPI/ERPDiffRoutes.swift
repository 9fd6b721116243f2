import Foundation
import Hummingbird
import TillwireDomain
import TillwireEngine

/// `GET /v1/finance/erp-diff?from=&to=` (scope `finance:read`): during an ERP migration, where the shadow ERP disagrees
/// with the primary over the entries of some business days (`ERPDiff`; docs/erp-migration.md). 409 when no shadow
/// ERP is configured.
enum ERPDiffRoutes {
    struct DocumentView: Codable {
        let document: String
        let total: String
    }

    struct DifferenceView: Codable {
        let entry: String
        let business_day: String
        let location: String?
        let currency: String
        let hub_total: String
        let primary: DocumentView?
        let shadow: DocumentView?
        let problem: String
    }

    struct ReportView: ResponseEncodable {
        let primary: String
        let shadow: String
        let from: String
        let to: String
        let compared: Int
        let agreeing: Int
        let not_posted_yet: Int
        let truncated: Bool
        let differences: [DifferenceView]

        init(_ report: ERPDiff.Report) {
            primary = report.primary.rawValue
            shadow = report.shadow.rawValue
            from = report.from
            to = report.to
            compared = report.compared
            agreeing = report.compared - report.differences.count
            not_posted_yet = report.notPostedYet
            truncated = report.truncated
            differences = report.differences.map { difference in
                let amount = { (units: Int64) in
                    (try? Currency(difference.currency)).map { Money(minorUnits: units, currency: $0).decimalString } ?? "\(units)"
                }
                return DifferenceView(entry: difference.entry, business_day: difference.businessDay, location: difference.location, currency: difference.currency,
                                      hub_total: amount(difference.hubTotal),
                                      primary: difference.primary.map { DocumentView(document: $0.document, total: amount($0.total)) },
                                      shadow: difference.shadow.map { DocumentView(document: $0.document, total: amount($0.total)) }, problem: difference.problem)
            }
        }
    }

    static func add(to v1: RouterGroup<HubRequestContext>, diff: ERPDiff?) {
        v1.group("/finance/erp-diff").add(middleware: RequireScope("finance:read")).get { request, _ -> ReportView in
            let query = request.uri.queryParameters
            guard let from = query["from"].map(String.init) else { throw Problem.invalid("the first business day, YYYY-MM-DD", field: "from") }
            let to = query["to"].map(String.init) ?? from
            for (field, last) in [("from", from), ("to", to)] {
                do {
                    _ = try ERPDiff.days(from: from, to: last)
                } catch let refused as ERPDiffRefused {
                    throw Problem.invalid(refused.description, field: field)
                }
            }
            guard let diff else {
                throw Problem(kind: "no-shadow-erp", title: "No shadow ERP", status: .conflict,
                              detail: "no shadow ERP is configured (tryton_shadow.*): there is nothing to compare the primary with")
            }
            return ReportView(try await diff.run(from: from, to: to))
        }
    }
}
