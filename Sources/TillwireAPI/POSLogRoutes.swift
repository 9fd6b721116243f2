import ConnectorPOSLog
import Foundation
import Hummingbird
import TillwireDomain
import TillwireEngine

/// `POST /v1/poslog` (scope `inventory:write`): one NRF/ARTS POSLog document (2.x or 6) as the body, applied at once,
/// exactly once per transaction however often it is sent (docs/connectors/poslog.md). A document that does not parse,
/// or names a store or SKU the hub does not know, is a 422 and nothing from it is applied; a store's key may send its
/// own store's transactions only (403). Bodies are limited by `api.max_body_bytes`; a larger day goes through the
/// drop folder.
enum POSLogRoutes {
    struct Result: ResponseEncodable {
        let version: String
        let transactions: Int
        let applied: Int
        let duplicates: Int
        let recorded_only: Int
        let unmeasured_lines: Int
    }

    static func add(to v1: RouterGroup<HubRequestContext>, intake: POSLogIntake) {
        v1.group("/poslog").add(middleware: RequireScope("inventory:write")).post { request, context -> Result in
            let body = try await request.collectBody(context: context)
            let document = try POSLogParser.parse(Data(buffer: body))
            guard let client = context.client else { throw Problem.unauthenticated("an API key is required") }
            let report = try await intake.apply(document, permitted: client.locations == nil ? nil : { client.mayAct(for: $0) })
            return Result(version: document.version.rawValue, transactions: document.transactions.count, applied: report.applied,
                          duplicates: report.duplicates, recorded_only: report.recordedOnly, unmeasured_lines: report.unmeasuredLines)
        }
    }
}
