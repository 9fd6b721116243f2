import Foundation
import Hummingbird

extension Request {
    /// Decodes a JSON body into `type`; a body that is not valid JSON, or lacks a field, or has one of the wrong type,
    /// is a 400 problem naming the field. Bodies over the context's limit are a 413.
    func decodeJSON<T: Decodable>(as type: T.Type, context: HubRequestContext) async throws -> T {
        let buffer = try await collectBody(context: context)
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: buffer))
        } catch let error as DecodingError {
            throw Problem.decoding(error)
        }
    }

    /// The whole body; a body over the context's limit is a 413.
    func collectBody(context: HubRequestContext) async throws -> ByteBuffer {
        do {
            return try await body.collect(upTo: context.bodyLimit)
        } catch {
            throw Problem.tooLarge("the body is larger than \(context.bodyLimit) bytes")
        }
    }
}

/// A JSON integer that must fit in 64 bits. Foundation's decoder calls a number too large for `Int64` (`1e30`)
/// "not valid JSON" without saying where; this says which field, and why.
struct WholeNumber: Decodable, Hashable {
    let value: Int64

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int64.self) {
            self.value = value
            return
        }
        let number = try container.decode(Double.self)
        throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a whole number from \(Int64.min) to \(Int64.max), got \(number)")
    }
}
