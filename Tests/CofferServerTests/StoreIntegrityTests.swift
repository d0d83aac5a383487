import CofferCrypto
@testable import CofferServer
import CofferStore
import CofferTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// A database written behind the server's back, seen through the API: a 5xx with the stable
/// code and no detail, counted in the metrics, and never a quiet fallback that grants more.
@Suite("Server over a tampered store")
struct StoreIntegrityTests {
    /// Replaces `from` with `to` in a stored row's JSON body, keeping its tag bytes as they are
    /// (now wrong for the body).
    static func edit(_ backend: InMemoryKeyStoreBackend, _ kind: RecordKind, _ id: String, _ from: String, _ to: String) async throws {
        try await backend.transaction { tx in
            let stored = try #require(try await tx.record(kind, id, forUpdate: true))
            let text = String(decoding: stored[33...], as: UTF8.self)
            #expect(text.contains(from))
            try await tx.updateRecord(kind, id, Array(stored[..<33]) + Array(text.replacingOccurrences(of: from, with: to).utf8))
        }
    }

    @Test func aTamperedKeyRowIsA500AndIsCounted() async throws {
        var configuration = KeyStoreConfiguration()
        configuration.apiKeyHash = .scrypt(logN: 10, r: 8, p: 1)
        configuration.cacheTTL = .zero
        let backend = InMemoryKeyStoreBackend()
        let root = try SoftwareRootKey(bytes: (0..<32).map { _ in UInt8.random(in: 0...255) }, kind: "key-file")
        let store = try await KeyStore.open(backend: backend, root: .key(root), configuration: configuration)
        let adminKey = try #require(try await AdminBootstrap.ensureAdmin(store))
        TestSecrets.record(adminKey)
        // A policy that may encrypt anything except keys labelled `pci`.
        try await store.putPolicy(try Policy(name: "no-pci", statements: [
            try PolicyStatement(effect: .allow, operations: ["encrypt"], keys: ["*"]),
            try PolicyStatement(effect: .deny, operations: ["encrypt"], keys: ["*"], labels: [try KeyLabel("pci")]),
        ]))
        let (_, appKey) = try await store.createAPIKey(policy: "no-pci")
        TestSecrets.record(appKey)
        try await store.createKey(try KeyIdentifier("cards"), type: .aes256GCM, options: KeyCreationOptions(labels: [try KeyLabel("pci")]))
        let application = Application(router: CofferServerApplication.buildRouter(store: store, metrics: ServerMetrics(store: store, certificates: nil)))
        try await application.test(.router) { client in
            let admin = ServerFixture.Client(client: client, key: adminKey)
            #expect(try await admin.call(.post, "/v1/keys/cards/encrypt", json: #"{"plaintext":"AA=="}"#, key: appKey).status == .forbidden)
            // The label removed from the key's row in the database: the request still fails (the
            // row fails its check), as a 500 with the stable code and nothing else.
            try await Self.edit(backend, .key, "cards", #""labels":["pci"]"#, #""labels":[]"#)
            #expect(store.integrityFailures == 0)
            let tampered = try await admin.call(.post, "/v1/keys/cards/encrypt", json: #"{"plaintext":"AA=="}"#, key: appKey)
            // Refused by the policy check itself, which read the row once: it did not take the
            // unreadable key for an unlabelled one and let the handler read it again.
            #expect(store.integrityFailures == 1)
            #expect(tampered.status == .internalServerError && tampered.body.errorCode == "store_integrity_failure")
            #expect(!tampered.text.contains("cards") && !tampered.text.contains("labels"))
            let metrics = try await admin.call(.get, "/v1/metrics").text
            let counted = metrics.split(separator: "\n").first { $0.hasPrefix("coffer_store_integrity_failures ") }
            #expect(counted.flatMap { Double($0.split(separator: " ").last ?? "") }.map { $0 >= 1 } == true, "\(counted ?? "none")")
        }
        // A widened admin policy row is not reset to allow-everything, not by the start (which
        // bootstraps once) nor by the break-glass (which refuses it).
        try await Self.edit(backend, .policy, "admin", #""keys":["*"]"#, #""keys":["*","*"]"#)
        #expect(try await AdminBootstrap.ensureAdmin(store) == nil)
        await #expect(throws: KeyStoreError(.integrityFailure)) { try await AdminBootstrap.makeAdminKey(store) }
        await #expect(throws: KeyStoreError(.integrityFailure)) { try await store.policy(named: "admin") }
        // Deleting the admin policy and every identity does not get the next start to make a new
        // admin (for whoever reads its output); the break-glass, which needs the root key, does.
        try await backend.transaction { tx in
            try await tx.deleteRecord(.policy, "admin")
            for row in try await tx.records(.identity, prefix: "", after: nil, limit: 100) { try await tx.deleteRecord(.identity, row.id) }
        }
        #expect(try await AdminBootstrap.ensureAdmin(store) == nil)
        await #expect(throws: KeyStoreError(.policyNotFound)) { try await store.policy(named: "admin") }
        #expect(try await store.listIdentities().isEmpty)
        let recovered = try await AdminBootstrap.makeAdminKey(store)
        TestSecrets.record(recovered)
        #expect(try await store.authenticate(apiKey: recovered).policy == "admin")
        try await store.close()
    }
}
