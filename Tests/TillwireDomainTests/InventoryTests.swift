import Foundation
import Testing
import TillwireDomain
import TillwireTesting

@Suite struct InventoryTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func movement(_ delta: Int64, _ reason: MovementReason) throws -> InventoryMovement {
        try InventoryMovement(sku: "SKU-1", location: "store-1", delta: delta, reason: reason, occurredAt: t0, source: "pos", sourceKey: "k")
    }

    @Test(arguments: MovementReason.allCases)
    func movementSignFollowsTheReason(_ reason: MovementReason) throws {
        switch reason.requiredSign {
        case .some(-1):
            #expect(try movement(-2, reason).delta == -2)
            #expect(throws: DomainError.movementSignMismatch(reason: reason, delta: 2)) { try movement(2, reason) }
        case .some(1):
            #expect(try movement(2, reason).delta == 2)
            #expect(throws: DomainError.movementSignMismatch(reason: reason, delta: -2)) { try movement(-2, reason) }
        default:
            #expect(try movement(2, reason).delta == 2)
            #expect(try movement(-2, reason).delta == -2)
        }
    }

    @Test func zeroAndAbsurdQuantitiesAreRefused() {
        #expect(throws: DomainError.self) { try movement(0, .countCorrection) }
        #expect(throws: DomainError.self) { try movement(1_000_001, .receipt) }
        #expect(throws: DomainError.self) {
            try InventoryMovement(sku: "SKU-1", location: "store-1", delta: 1, reason: .receipt, occurredAt: t0, source: "pos", sourceKey: "")
        }
    }

    @Test func availableToPromiseSubtractsReservedAndSafetyStock() throws {
        let position = InventoryPosition(sku: "SKU-1", location: "store-1", onHand: 10, reserved: 3, safetyStock: 2)
        #expect(position.availableToPromise == 5)
        #expect(try position.reserving(5, policy: InventoryPolicy()).availableToPromise == 0)
        #expect(throws: DomainError.insufficientStock(sku: "SKU-1", location: "store-1", requested: 6, available: 5)) {
            try position.reserving(6, policy: InventoryPolicy())
        }
        #expect(try position.reserving(6, policy: InventoryPolicy(allowBackorder: true)).availableToPromise == -1)
        #expect(throws: DomainError.self) { try position.reserving(0, policy: InventoryPolicy()) }
    }

    @Test func aCountCorrectsAgainstTheBalanceAtItsTime() throws {
        // 10 received, count of 8 taken; 3 sold after the count: the correction is −2, the sale is kept.
        #expect(try InventoryMovement.countCorrection(counted: 8, balanceAtCountTime: 10) == -2)
        #expect(try InventoryMovement.countCorrection(counted: 5, balanceAtCountTime: 5) == 0)
        #expect(throws: DomainError.self) { try InventoryMovement.countCorrection(counted: -1, balanceAtCountTime: 0) }
        #expect(throws: DomainError.self) { try InventoryMovement.countCorrection(counted: .min, balanceAtCountTime: 1) }
        #expect(throws: DomainError.self) { try InventoryMovement.countCorrection(counted: 5, balanceAtCountTime: .min) }
    }

    @Test func decodingAMovementRunsTheSameChecks() throws {
        let valid = #"{"sku":"SKU-1","location":"store-1","delta":-2,"reason":"sale","occurredAt":0,"source":"pos","sourceKey":"k"}"#
        #expect(try JSONDecoder().decode(InventoryMovement.self, from: Data(valid.utf8)).delta == -2)
        for bad in [valid.replacingOccurrences(of: #""delta":-2"#, with: #""delta":2"#),
                    valid.replacingOccurrences(of: #""delta":-2"#, with: #""delta":0"#),
                    valid.replacingOccurrences(of: #""delta":-2"#, with: #""delta":-9223372036854775807"#)] {
            #expect(throws: DecodingError.self) { try JSONDecoder().decode(InventoryMovement.self, from: Data(bad.utf8)) }
        }
    }

    @Test func aReservationEndsExactlyOnce() throws {
        let reservation = Reservation(id: "r-1", order: "o-1", sku: "SKU-1", location: "store-1", quantity: 2, expiresAt: t0)
        let consumed = try reservation.ended(as: .consumed)
        #expect(consumed.state == .consumed)
        #expect(throws: DomainError.reservationNotActive("r-1", state: .consumed)) { try consumed.ended(as: .released) }
    }

    /// Stock conservation on the pure model: random movements, reservations and endings; after each, on hand is the
    /// sum of movements, reserved the sum of active reservations, and no accepted reservation leaves ATP negative.
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func conservationOverRandomOperations(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        var position = InventoryPosition(sku: "SKU-1", location: "store-1", safetyStock: Int64.random(in: 0...3, using: &random))
        var ledger: [Int64] = []
        var active: [Reservation] = []
        for step in 0..<500 {
            switch Int.random(in: 0..<3, using: &random) {
            case 0:
                let reason = MovementReason.allCases.randomElement(using: &random)!
                let size = Int64.random(in: 1...9, using: &random)
                let move = try InventoryMovement(
                    sku: "SKU-1", location: "store-1", delta: (reason.requiredSign ?? 1) * size, reason: reason,
                    occurredAt: t0, source: "pos", sourceKey: "m-\(step)")
                position = position.applying(move)
                ledger.append(move.delta)
            case 1:
                let quantity = Int64.random(in: 1...5, using: &random)
                if quantity > position.availableToPromise {
                    #expect(throws: DomainError.self) { try position.reserving(quantity, policy: InventoryPolicy()) }
                } else {
                    position = try position.reserving(quantity, policy: InventoryPolicy())
                    active.append(Reservation(id: ReservationID(trusted: "r-\(step)"), order: "o", sku: "SKU-1", location: "store-1", quantity: quantity, expiresAt: t0))
                    #expect(position.availableToPromise >= 0, "step \(step)")
                }
            default:
                guard !active.isEmpty else { continue }
                let ended = active.remove(at: Int.random(in: 0..<active.count, using: &random))
                position = position.ending(try ended.ended(as: .released))
            }
            #expect(position.onHand == ledger.reduce(0, +))
            #expect(position.reserved == active.map(\.quantity).reduce(0, +))
        }
    }
}

@Suite struct ReservationLifecycleTests {
    @Test func aReservationEndsOnceAlongTheTable() throws {
        let active = Reservation(id: "r", order: "o", sku: "S", location: "L", quantity: 1, expiresAt: Date())
        for final in [ReservationState.consumed, .released, .expired] {
            let ended = try active.ended(as: final)
            #expect(ended.state == final)
            for again in [ReservationState.consumed, .released, .expired] {
                #expect(throws: DomainError.self, "\(final) → \(again)") { try ended.ended(as: again) }
            }
        }
        for state in ReservationState.allCases where state != .active {
            #expect(ReservationState.transitions[state, default: []].isEmpty, "\(state) is final")
        }
    }

    @Test func theDiagramInTheDocsIsTheOneTheCodeFollows() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/lifecycles/reservation.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        guard let start = text.range(of: "```mermaid\n"), let end = text.range(of: "\n```", range: start.upperBound..<text.endIndex) else {
            Issue.record("docs/lifecycles/reservation.md has no mermaid block")
            return
        }
        #expect(String(text[start.upperBound..<end.lowerBound]) == ReservationState.mermaidDiagram(),
                "regenerate the block from ReservationState.mermaidDiagram()")
    }
}
