import Foundation

/// A readable reference page made from `OpenAPIDocument`: one section per route with its summary, parameters,
/// request body and answers, and the schemas at the end. Plain HTML with no script, so it can be saved and read
/// offline (`tillwire openapi --html > api.html`) or served at `/v1/reference`.
enum OpenAPIReference {
    static let html: String = render(OpenAPIDocument.json)

    static func render(_ json: String) -> String {
        guard let document = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            preconditionFailure("the OpenAPI document is not a JSON object")
        }
        let info = document["info"] as? [String: Any] ?? [:]
        let title = info["title"] as? String ?? "API"
        var page = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>
        body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
        code,pre{font:13px ui-monospace,monospace;background:#f4f4f4;padding:0 .2rem}
        h2{border-top:1px solid #ddd;padding-top:1rem}.method{font-weight:bold;text-transform:uppercase}
        table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
        </style></head><body>
        <h1>\(escape(title)) <small>\(escape(info["version"] as? String ?? ""))</small></h1>
        <p>\(escape(info["description"] as? String ?? ""))</p>

        """
        let paths = document["paths"] as? [String: [String: Any]] ?? [:]
        page += "<ul>" + paths.keys.sorted().map { "<li><a href=\"#\(anchor($0))\"><code>\(escape($0))</code></a></li>" }.joined() + "</ul>\n"
        for path in paths.keys.sorted() {
            page += "<h2 id=\"\(anchor(path))\"><code>\(escape(path))</code></h2>\n"
            for method in ["get", "post", "put", "patch", "delete"] {
                guard let operation = paths[path]?[method] as? [String: Any] else { continue }
                page += "<h3><span class=\"method\">\(method)</span> <code>\(escape(path))</code></h3>\n"
                page += "<p>\(escape(operation["summary"] as? String ?? ""))</p>\n"
                if let security = operation["security"] as? [Any], security.isEmpty { page += "<p>No API key needed.</p>\n" }
                let parameters = (operation["parameters"] as? [[String: Any]] ?? []).map { resolve($0, in: document) }
                if !parameters.isEmpty {
                    page += "<table><tr><th>parameter</th><th>in</th><th>schema</th><th>meaning</th></tr>"
                    for parameter in parameters {
                        page += "<tr><td><code>\(escape(parameter["name"] as? String ?? ""))</code>\((parameter["required"] as? Bool ?? false) ? " (required)" : "")</td>"
                            + "<td>\(escape(parameter["in"] as? String ?? ""))</td><td><code>\(escape(compact(parameter["schema"])))</code></td>"
                            + "<td>\(escape(parameter["description"] as? String ?? ""))</td></tr>"
                    }
                    page += "</table>\n"
                }
                if let body = operation["requestBody"] as? [String: Any],
                   let schema = ((body["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"] {
                    page += "<p>Body (JSON): \(schemaLink(schema))</p>\n"
                }
                let responses = operation["responses"] as? [String: Any] ?? [:]
                page += "<table><tr><th>status</th><th>answer</th></tr>"
                for status in responses.keys.sorted() {
                    let response = resolve(responses[status] as? [String: Any] ?? [:], in: document)
                    let content = response["content"] as? [String: [String: Any]] ?? [:]
                    let shapes = content.keys.sorted().map { type in "<code>\(escape(type))</code> \(content[type]?["schema"].map(schemaLink) ?? "")" }
                    page += "<tr><td>\(escape(status))</td><td>\(escape(response["description"] as? String ?? "")) \(shapes.joined(separator: ", "))</td></tr>"
                }
                page += "</table>\n"
            }
        }
        let schemas = (document["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:]
        page += "<h2 id=\"schemas\">Schemas</h2>\n"
        for name in schemas.keys.sorted() {
            page += "<h3 id=\"schema-\(anchor(name))\">\(escape(name))</h3><pre>\(escape(pretty(schemas[name])))</pre>\n"
        }
        return page + "</body></html>\n"
    }

    /// Follows a `$ref` to a component (parameters and responses), one level.
    private static func resolve(_ object: [String: Any], in document: [String: Any]) -> [String: Any] {
        guard let reference = object["$ref"] as? String, reference.hasPrefix("#/") else { return object }
        var node: Any? = document
        for part in reference.dropFirst(2).split(separator: "/") { node = (node as? [String: Any])?[String(part)] }
        return node as? [String: Any] ?? object
    }

    private static func schemaLink(_ schema: Any) -> String {
        if let reference = (schema as? [String: Any])?["$ref"] as? String, let name = reference.split(separator: "/").last {
            return "<a href=\"#schema-\(anchor(String(name)))\">\(escape(String(name)))</a>"
        }
        return "<code>\(escape(compact(schema)))</code>"
    }

    private static func compact(_ value: Any?) -> String {
        guard let value, let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    private static func pretty(_ value: Any?) -> String {
        guard let value, let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .prettyPrinted]) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    private static func anchor(_ text: String) -> String {
        String(text.map { $0.isLetter || $0.isNumber ? $0 : "-" })
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

/// The API's own description, for the CLI (`tillwire openapi`) and the routes that serve it.
public enum APIDocumentation {
    public static var openAPIJSON: String { OpenAPIDocument.json }
    public static var referenceHTML: String { OpenAPIReference.html }
}
