import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TillwireTesting

/// `tillwire serve` as a user runs it: it starts on the embedded default, answers, and stops cleanly on SIGTERM;
/// a bad configuration stops it at once with the key named.
@Suite(.serialized) struct ServeTests {
    @Test func servesAndShutsDownGracefullyOnSIGTERM() async throws {
        let folder = try TemporaryFolder()
        let child = try ChildProcess(
            try tillwireExecutable(), ["serve"],
            environment: ["TILLWIRE_HTTP_PORT": "0", "TILLWIRE_STORAGE_SQLITE_PATH": folder.path("hub.sqlite")])
        let base = try await child.servingAddress()
        for (path, expected) in [("/healthz", #""status":"ok""#), ("/readyz", #""status":"ready""#)] {
            let (data, response) = try await URLSession.shared.data(from: URL(string: base + path)!)
            #expect((response as? HTTPURLResponse)?.statusCode == 200)
            #expect(String(decoding: data, as: UTF8.self).contains(expected))
        }
        #expect(FileManager.default.fileExists(atPath: folder.path("hub.sqlite")))
        child.signal(SIGTERM)
        #expect(try await child.exit() == 0, "graceful shutdown exits 0; stderr:\n\(child.standardError.suffix(1500))")
        #expect(child.standardError.contains("tillwire stopped"))
    }

    @Test func aBadConfigurationFailsAtStartNamingTheKey() async throws {
        let child = try ChildProcess(try tillwireExecutable(), ["serve"], environment: ["TILLWIRE_HTTP_PORT": "http"])
        #expect(try await child.exit() != 0)
        #expect(child.standardError.contains("http.port (environment variable TILLWIRE_HTTP_PORT) must be an integer"))
    }
}
