/// JSON written by hand, for the few responses whose encoding cost matters: strings escaped as RFC 8259 requires.
/// A class, so that nested objects and arrays can write to it from their closures.
final class JSONText {
    private(set) var text = ""

    init() {
        text.reserveCapacity(4_096)
    }

    func string(_ value: String) {
        text.append("\"")
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text.append("\\\"")
            case "\\": text.append("\\\\")
            case "\n": text.append("\\n")
            case "\r": text.append("\\r")
            case "\t": text.append("\\t")
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                text.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: text.unicodeScalars.append(scalar)
            }
        }
        text.append("\"")
    }

    func number(_ value: Int64) { text.append(String(value)) }

    func bool(_ value: Bool) { text.append(value ? "true" : "false") }

    /// An object; `fields` is called with a function that writes one member: its key, then its value.
    func object(_ fields: (_ field: (String, () -> Void) -> Void) -> Void) {
        text.append("{")
        var first = true
        fields { key, value in
            if !first { self.text.append(",") }
            first = false
            self.string(key)
            self.text.append(":")
            value()
        }
        text.append("}")
    }

    func array<T>(_ items: [T], _ item: (T) -> Void) {
        text.append("[")
        for (index, element) in items.enumerated() {
            if index > 0 { text.append(",") }
            item(element)
        }
        text.append("]")
    }
}
