import ArgumentParser
import TillwireAPI

/// `tillwire openapi`: the API's OpenAPI 3.1 document, or its reference page, without a running hub or a key.
struct OpenAPI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openapi",
        abstract: "Print the hub API's OpenAPI 3.1 document (or, with --html, its reference page).",
        discussion: """
            The same document a hub serves at /v1/openapi.json, and the same page as /v1/reference; both of those \
            need an API key, this does not. Example: tillwire openapi --html > tillwire-api.html
            """)

    @Flag(help: "Print the reference page as HTML instead of the JSON document.")
    var html = false

    func run() {
        print(html ? APIDocumentation.referenceHTML : APIDocumentation.openAPIJSON, terminator: "")
    }
}
