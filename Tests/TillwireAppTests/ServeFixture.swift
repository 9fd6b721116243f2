import Foundation
import TillwireAPI
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

/// A hub's SQLite file in `folder`, migrated, holding `catalog` and an admin key, for a `tillwire serve` test to
/// start on: returns the file's path and the key.
func preparedHubStore(in folder: TemporaryFolder, catalog: [CatalogChange]) async throws -> (path: String, key: String) {
    let path = folder.path("hub.sqlite")
    let store = try SQLiteStore.open(path: path)
    _ = try await store.migrate()
    let (record, key) = ApiKeys.generate(client: "ops", scopes: ["admin"], locations: nil, now: Date())
    _ = try await store.commit(Commit(catalog: catalog, access: [.createKey(record)]))
    try await store.close()
    return (path, key)
}
