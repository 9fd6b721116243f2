import Foundation
import Hummingbird

extension Request {
    /// Decodes a JSON body into `type`; a body that is not valid JSON, or lacks a field, or has one of the wrong type,
    /// is a 400 problem naming the field. Bodies over the context's limit are a 413.
    func decodeJSON<T: Decodable>(as type: T.Type, context: HubRequestContext) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: context.bodyLimit)
        } catch {
            throw Problem(kind: "too-large", title: "Content too large", status: .contentTooLarge,
                          detail: "the body is larger than \(context.bodyLimit) bytes")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: buffer))
        } catch let error as DecodingError {
            throw Problem.decoding(error)
        }
    }
}
