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
