import ConnectorPOSLog
import Foundation
import HTTPTypes
import Hummingbird
import TillwireConnectors
import TillwireDomain
import TillwireEngine
import TillwireStorage

/// An RFC 9457 problem: every API error is one, served as `application/problem+json`.
///
/// `type` is a stable URI per kind of error (`urn:tillwire:problem:<kind>`), so that clients can branch on it;
/// `detail` is for people; `field` names the offending input when there is one.
public struct Problem: HTTPResponseError, Codable, Equatable {
    public let type: String
    public let title: String
    /// The HTTP status code, repeated in the body as RFC 9457 says.
    public let statusCode: Int
    public let detail: String
    public let field: String?
    public var instance: String?
    /// The request id, so that a report can be matched with the logs.
    public var requestID: String?
    /// Every bad item of a refused batch (an RFC 9457 extension member); nil otherwise.
    public var errors: [ItemError]?
    /// What is available, when a reservation asked for more (an extension member).
    public var available: Int64?
    /// Why a return was refused, line by line (an extension member).
    public var refusals: [ReturnRefusal]?
    /// Headers sent with the problem (`Retry-After`, `WWW-Authenticate`); not part of the body.
    public var headers: [String: String] = [:]

    /// One bad item of a batch: its index, the field (`movements[3].sku`) and why.
    public typealias ItemError = InventoryService.ItemProblem

    public init(kind: String, title: String, status: HTTPResponse.Status, detail: String, field: String? = nil) {
        self.type = "urn:tillwire:problem:\(kind)"
        self.title = title
        self.statusCode = status.code
        self.detail = detail
        self.field = field
    }

    enum CodingKeys: String, CodingKey {
        case type, title, detail, field, instance, errors, available, refusals
        case statusCode = "status"
        case requestID = "request_id"
    }

    public var status: HTTPResponse.Status { HTTPResponse.Status(code: statusCode) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var problem = self
        problem.instance = problem.instance ?? request.uri.path
        problem.requestID = problem.requestID ?? context.id
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = try encoder.encode(problem)
        var fields: HTTPFields = [.contentType: "application/problem+json"]
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    public static func notFound(_ detail: String) -> Problem {
        Problem(kind: "not-found", title: "Not found", status: .notFound, detail: detail)
    }

    public static func unavailable(_ detail: String) -> Problem {
        Problem(kind: "unavailable", title: "Service unavailable", status: .serviceUnavailable, detail: detail)
    }

    public static func unauthenticated(_ detail: String) -> Problem {
        var problem = Problem(kind: "unauthenticated", title: "Unauthenticated", status: .unauthorized, detail: detail)
        problem.headers["WWW-Authenticate"] = "Bearer"
        return problem
    }

    public static func forbidden(_ detail: String) -> Problem {
        Problem(kind: "forbidden", title: "Forbidden", status: .forbidden, detail: detail)
    }

    public static func tooLarge(_ detail: String) -> Problem {
        Problem(kind: "too-large", title: "Content too large", status: .contentTooLarge, detail: detail)
    }

    public static func timedOut(_ detail: String) -> Problem {
        var problem = Problem(kind: "timeout", title: "Request timed out", status: .serviceUnavailable, detail: detail)
        problem.headers["Retry-After"] = "1"
        return problem
    }

    public static func invalid(_ detail: String, field: String? = nil) -> Problem {
        Problem(kind: "invalid-request", title: "Invalid request", status: .badRequest, detail: detail, field: field)
    }

    public static let internalError = Problem(
        kind: "internal", title: "Internal error", status: .internalServerError,
        detail: "The hub failed to handle the request; the request id is in the logs with the cause.")
}

extension Problem {
    /// The one place where errors become HTTP statuses.
    public init(_ error: any Error) {
        switch error {
        case let problem as Problem:
            self = problem
        case let error as HTTPError:
            let kind = error.status.code == 404 ? "not-found" : "http-\(error.status.code)"
            self.init(kind: kind, title: error.status.reasonPhrase, status: error.status,
                      detail: error.body ?? error.status.reasonPhrase)
        case let error as DecodingError:
            self = Problem.decoding(error)
        case let error as InventoryService.InvalidItems:
            let count = error.problems.count
            self.init(kind: "invalid-request", title: "Invalid request", status: .badRequest,
                      detail: count == 1 ? "\(error.problems[0].detail); nothing was applied" : "\(count) problems in the request; nothing was applied",
                      field: error.problems.first?.field)
            errors = error.problems
        case let error as POSLogError:
            self.init(kind: "poslog-unreadable", title: "Not a POSLog document", status: .unprocessableContent,
                      detail: "\(error.reason); nothing was applied")
        case let error as POSLogIntakeError:
            switch error.kind {
            case .unknown:
                self.init(kind: "poslog-refused", title: "POSLog refused", status: .unprocessableContent, detail: "\(error.description); nothing was applied")
            case .forbidden:
                self.init(kind: "forbidden", title: "Forbidden", status: .forbidden, detail: "\(error.description); nothing was applied")
            }
        case let error as OrderService.ConflictingCapture:
            self.init(kind: "conflict", title: "Conflict", status: .conflict, detail: error.description)
        case let error as OrderService.FulfilmentRefused:
            self.init(kind: "conflict", title: "Conflict", status: .conflict, detail: error.description)
        case let error as ReturnRefused:
            self.init(kind: "return-refused", title: "Return refused", status: .unprocessableContent,
                      detail: error.refusals.count == 1 ? error.refusals[0].description : "\(error.refusals.count) reasons: \(error.refusals.map(\.description).joined(separator: "; "))",
                      field: error.refusals.first?.line.map { "lines[\($0)]" })
            refusals = error.refusals
        case let error as PricingService.NotOwner:
            self.init(kind: "not-owner", title: "Not the system of record", status: .forbidden, detail: error.description)
        case let error as PricingService.PromotionRefused:
            self.init(kind: error.conflict ? "promotion-conflict" : "promotion-refused", title: error.conflict ? "Conflict" : "Promotion refused",
                      status: error.conflict ? .conflict : .unprocessableContent, detail: error.description, field: error.problems.first?.field)
            errors = error.problems.enumerated().map { index, problem in
                ItemError(index: index, field: problem.field, detail: problem.detail + (problem.conflictsWith.map { " (conflicts with \($0))" } ?? ""))
            }
        case let error as WebhookRefused:
            self.init(kind: "unauthenticated", title: "Unauthenticated", status: .unauthorized, detail: error.reason)
        case let error as PricingService.AlreadyRedeemed:
            self.init(kind: "conflict", title: "Conflict", status: .conflict, detail: error.description, field: "reference")
        case let error as ReturnService.ConflictingReturn:
            self.init(kind: "conflict", title: "Conflict", status: .conflict, detail: error.description)
        case let error as ReturnService.ReturnStateRefused:
            self.init(kind: "conflict", title: "Conflict", status: .conflict, detail: error.description)
        case let error as DomainError:
            self.init(kind: "rule-violated", title: "Refused by a business rule", status: .unprocessableContent, detail: error.description)
        case let error as StorageError:
            switch error {
            case .versionConflict, .conflict, .checkpointMoved:
                self.init(kind: "conflict", title: "Conflict", status: .conflict, detail: error.description)
            case .rejected(let rule):
                if case let .insufficientStock(_, _, _, available) = rule {
                    self.init(kind: "insufficient-stock", title: "Not enough stock", status: .conflict, detail: rule.description)
                    self.available = available
                } else {
                    self.init(rule)
                }
            case .notFound:
                self.init(kind: "not-found", title: "Not found", status: .notFound, detail: error.description)
            case .unavailable, .schemaMismatch, .closed:
                self = .unavailable("storage: \(error.description)")
            }
        default:
            self = .internalError
        }
    }
}

extension Problem {
    /// A body that did not decode: which field, and what was wrong with it.
    static func decoding(_ error: DecodingError) -> Problem {
        func path(_ keys: [any CodingKey]) -> String? {
            let text = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.isEmpty ? nil : String(text.drop { $0 == "." })
        }
        switch error {
        case let .keyNotFound(key, context):
            return .invalid("the field is required", field: path(context.codingPath + [key]))
        case let .valueNotFound(type, context):
            return .invalid("a \(type) is required, got null", field: path(context.codingPath))
        case let .typeMismatch(type, context):
            return .invalid("expected \(typeName(type))", field: path(context.codingPath))
        case let .dataCorrupted(context):
            let underlying = context.underlyingError.map { " (\($0.localizedDescription))" } ?? ""
            return .invalid(context.codingPath.isEmpty ? "the body is not valid JSON\(underlying)" : context.debugDescription,
                            field: path(context.codingPath))
        @unknown default:
            return .invalid("the body could not be read")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type: "a number"
        default: "\(type)".hasPrefix("Array") ? "a list" : "an object"
        }
    }
}
