import CofferServer
import CofferTestSupport
import CofferStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// A server over an in-memory store with an admin API key, driven through HummingbirdTesting.
struct ServerFixture {
    let store: KeyStore
    let adminKey: String
    let application: Application<RouterResponder<CofferRequestContext>>

    static func make(sealed: Bool = false) async throws -> ServerFixture {
        var configuration = KeyStoreConfiguration()
        configuration.apiKeyHash = .scrypt(logN: 10, r: 8, p: 1)
        configuration.passphraseKDF = .scrypt(logN: 15, r: 8, p: 1)
        let root = try SoftwareRootKey(bytes: (0..<32).map { _ in UInt8.random(in: 0...255) }, kind: "key-file")
        let store = try await KeyStore.open(backend: InMemoryKeyStoreBackend(), root: sealed ? .passphrase : .key(root), configuration: configuration)
        var adminKey = ""
        if !sealed {
            try await store.putPolicy(CofferServerApplication.adminPolicy)
            adminKey = try await store.createAPIKey(policy: "admin").secretText
            TestSecrets.record(adminKey)
        }
        let application = Application(router: CofferServerApplication.buildRouter(store: store))
        return ServerFixture(store: store, adminKey: adminKey, application: application)
    }

    /// Runs `body` with a client; requests carry `key` (the admin key unless told otherwise).
    func test(_ body: @escaping @Sendable (Client) async throws -> Void) async throws {
        let adminKey = self.adminKey
        try await application.test(.router) { client in
            try await body(Client(client: client, key: adminKey))
        }
    }

    struct Client: Sendable {
        let client: any TestClientProtocol
        let key: String

        func with(key: String) -> Client { Client(client: client, key: key) }

        @discardableResult
        func call(_ method: HTTPRequest.Method, _ uri: String, json: String? = nil, key: String? = nil) async throws -> (status: HTTPResponse.Status, body: [String: Any], text: String) {
            var headers: HTTPFields = [.contentType: "application/json"]
            let token = key ?? self.key
            if !token.isEmpty { headers[.authorization] = "Bearer \(token)" }
            let response = try await client.execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
            let text = String(buffer: response.body)
            let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
            return (response.status, object, text)
        }
    }
}

extension Dictionary where Key == String, Value == Any {
    var errorCode: String? { (self["error"] as? [String: Any])?["code"] as? String }
    func string(_ key: String) -> String? { self[key] as? String }
}
