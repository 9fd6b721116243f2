import Foundation
import Hummingbird
import TillwireConnectors
import TillwireDomain

/// `POST /hooks/<system>`: the webhook deliveries of each connected platform. No API key: each receiver verifies
/// its platform's signature before anything is stored (a 401 otherwise). A verified delivery is stored with its
/// processing job and acknowledged at once (200), within the platforms' answer deadlines (Shopify: 5 s); a repeat is
/// acknowledged too and changes nothing.
enum WebhookRoutes {
    struct Receipt: ResponseEncodable {
        /// `stored`, `duplicate` or `ignored`.
        let status: String
    }

    static func add(to router: Router<HubRequestContext>, receivers: [any WebhookReceiver], maxBodyBytes: Int) {
        guard !receivers.isEmpty else { return }
        let bySystem = Dictionary(receivers.map { ($0.system.rawValue, $0) }) { first, _ in first }
        router.post("/hooks/{system}") { request, context -> Receipt in
            var context = context
            context.bodyLimit = maxBodyBytes
            let name = try context.parameters.require("system")
            guard let receiver = bySystem[name] else { throw Problem.notFound("no webhook receiver for \(name)") }
            let body = try await request.collectBody(context: context)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            do {
                switch try await receiver.receive(WebhookDelivery(headers: headers, body: Data(buffer: body), receivedAt: Date())) {
                case .stored: return Receipt(status: "stored")
                case .duplicate: return Receipt(status: "duplicate")
                case .ignored: return Receipt(status: "ignored")
                }
            } catch let refused as WebhookRefused {
                context.logger.warning("webhook refused", metadata: ["system": "\(name)", "reason": "\(refused.reason)"])
                throw refused
            }
        }
    }
}
