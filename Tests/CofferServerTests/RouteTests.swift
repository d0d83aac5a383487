import CofferCrypto
import CofferServer
import CofferTestSupport
import Logging
import CofferStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Server routes")
struct RouteTests {
    @Test func keyLifecycleAndEnvelopeEncryption() async throws {
        let fixture = try await ServerFixture.make()
        try await fixture.test { client in
            let created = try await client.call(.post, "/v1/keys", json: #"{"name":"orders","type":"aes256-gcm","labels":["pci"],"rotationPeriodSeconds":86400}"#)
            #expect(created.status == .created && created.body.string("type") == "aes256-gcm")
            let plaintext = Data("4111 1111 1111 1111".utf8).base64EncodedString()
            TestSecrets.record("4111 1111 1111 1111", plaintext)
            let encrypted = try await client.call(.post, "/v1/keys/orders/encrypt", json: #"{"plaintext":"\#(plaintext)","context":{"tenant":"7"}}"#)
            #expect(encrypted.status == .ok)
            let ciphertext = try #require(encrypted.body.string("ciphertext"))
            #expect(ciphertext.hasPrefix("coffer:v1:") && !encrypted.text.contains(plaintext))
            #expect(try await client.call(.post, "/v1/keys/orders/rotate").body["primaryVersion"] as? Int == 2)
            let decrypted = try await client.call(.post, "/v1/keys/orders/decrypt", json: #"{"ciphertext":"\#(ciphertext)","context":{"tenant":"7"}}"#)
            #expect(decrypted.status == .ok && decrypted.body.string("plaintext") == plaintext && decrypted.body["version"] as? Int == 1)
            let wrongContext = try await client.call(.post, "/v1/keys/orders/decrypt", json: #"{"ciphertext":"\#(ciphertext)","context":{"tenant":"8"}}"#)
            #expect(wrongContext.status == .badRequest && wrongContext.body.errorCode == "decryption_failed")
            let rewrapped = try await client.call(.post, "/v1/keys/orders/rewrap", json: #"{"ciphertext":"\#(ciphertext)","context":{"tenant":"7"}}"#)
            #expect(rewrapped.body["version"] as? Int == 2 && !rewrapped.text.contains(plaintext))
            let described = try await client.call(.get, "/v1/keys/orders")
            #expect((described.body["versions"] as? [[String: Any]])?.count == 2)
            let disabled = try await client.call(.put, "/v1/keys/orders/versions/1/state", json: #"{"state":"disabled"}"#)
            #expect(disabled.status == .ok)
            let refused = try await client.call(.post, "/v1/keys/orders/decrypt", json: #"{"ciphertext":"\#(ciphertext)","context":{"tenant":"7"}}"#)
            #expect(refused.status == .conflict && refused.body.errorCode == "key_version_unavailable")
            let listed = try await client.call(.get, "/v1/keys?label=pci")
            #expect((listed.body["keys"] as? [[String: Any]])?.count == 1)
            #expect(try await client.call(.delete, "/v1/keys/orders").body.string("deletedAt") != nil)
            #expect(try await client.call(.post, "/v1/keys/orders/encrypt", json: #"{"plaintext":"AA=="}"#).body.errorCode == "key_deleted")
            #expect(try await client.call(.post, "/v1/keys/orders/restore").status == .ok)
        }
    }

    @Test func batchesGivePerItemResults() async throws {
        let fixture = try await ServerFixture.make()
        try await fixture.test { client in
            try await client.call(.post, "/v1/keys", json: #"{"name":"bulk","type":"chacha20-poly1305"}"#)
            let items = (0..<100).map { #"{"plaintext":"\#(Data("item \($0)".utf8).base64EncodedString())"}"# }.joined(separator: ",")
            let encrypted = try await client.call(.post, "/v1/keys/bulk/encrypt/batch", json: #"{"items":[\#(items)]}"#)
            let results = try #require(encrypted.body["results"] as? [[String: Any]])
            #expect(results.count == 100)
            let ciphertexts = results.compactMap { ($0["result"] as? [String: Any])?["ciphertext"] as? String }
            let decryptItems = ciphertexts.map { #"{"ciphertext":"\#($0)"}"# } + [#"{"ciphertext":"coffer:v1:garbage"}"#]
            let decrypted = try await client.call(.post, "/v1/keys/bulk/decrypt/batch", json: #"{"items":[\#(decryptItems.joined(separator: ","))]}"#)
            let decryptedResults = try #require(decrypted.body["results"] as? [[String: Any]])
            #expect(decryptedResults.count == 101)
            #expect((decryptedResults[42]["result"] as? [String: Any])?["plaintext"] as? String == Data("item 42".utf8).base64EncodedString())
            #expect((decryptedResults[100]["error"] as? [String: Any])?["code"] as? String == "decryption_failed")
            let tooMany = (0..<1001).map { _ in #"{"plaintext":"AA=="}"# }.joined(separator: ",")
            #expect(try await client.call(.post, "/v1/keys/bulk/encrypt/batch", json: #"{"items":[\#(tooMany)]}"#).status == .badRequest)
        }
    }

    @Test func hmacSignaturesDataKeysAndRandom() async throws {
        let fixture = try await ServerFixture.make()
        try await fixture.test { client in
            try await client.call(.post, "/v1/keys", json: #"{"name":"mac","type":"hmac-sha256"}"#)
            try await client.call(.post, "/v1/keys", json: #"{"name":"sig","type":"ed25519"}"#)
            try await client.call(.post, "/v1/keys", json: #"{"name":"kek","type":"aes256-gcm-siv"}"#)
            let message = Data("hello".utf8).base64EncodedString()
            let mac = try await client.call(.post, "/v1/keys/mac/hmac", json: #"{"message":"\#(message)"}"#)
            let macValue = try #require(mac.body.string("mac"))
            #expect(try await client.call(.post, "/v1/keys/mac/hmac/verify", json: #"{"message":"\#(message)","mac":"\#(macValue)","version":1}"#).body["valid"] as? Bool == true)
            #expect(try await client.call(.post, "/v1/keys/mac/hmac/verify", json: #"{"message":"AA==","mac":"\#(macValue)","version":1}"#).body["valid"] as? Bool == false)
            let signature = try #require(try await client.call(.post, "/v1/keys/sig/sign", json: #"{"message":"\#(message)"}"#).body.string("signature"))
            #expect(try await client.call(.post, "/v1/keys/sig/verify", json: #"{"message":"\#(message)","signature":"\#(signature)","version":1}"#).body["valid"] as? Bool == true)
            #expect(try await client.call(.post, "/v1/keys/mac/encrypt", json: #"{"plaintext":"AA=="}"#).body.errorCode == "wrong_key_type")
            let dataKey = try await client.call(.post, "/v1/keys/kek/datakey", json: #"{"context":{"db":"x"}}"#)
            let plain = try #require(dataKey.body.string("plaintext"))
            let sealed = try #require(dataKey.body.string("ciphertext"))
            #expect(try await client.call(.post, "/v1/keys/kek/decrypt", json: #"{"ciphertext":"\#(sealed)","context":{"db":"x"}}"#).body.string("plaintext") == plain)
            #expect(try await client.call(.post, "/v1/keys/kek/datakey", json: #"{"plaintext":false}"#).body["plaintext"] == nil)
            let random = try await client.call(.post, "/v1/random", json: #"{"bytes":32}"#)
            #expect(Data(base64Encoded: random.body.string("random") ?? "")?.count == 32)
        }
    }

    @Test func badInputIsAlwaysAFourHundredWithAStableCode() async throws {
        let fixture = try await ServerFixture.make()
        try await fixture.test { client in
            try await client.call(.post, "/v1/keys", json: #"{"name":"k","type":"aes256-gcm"}"#)
            let corpus: [(HTTPRequest.Method, String, String?, String)] = [
                (.post, "/v1/keys", "{", "invalid_request"),
                (.post, "/v1/keys", #"{"name":5,"type":"aes256-gcm"}"#, "invalid_request"),
                (.post, "/v1/keys", #"{"name":"bad name","type":"aes256-gcm"}"#, "invalid_key_name"),
                (.post, "/v1/keys", #"{"name":"x","type":"aes-1"}"#, "invalid_argument"),
                (.post, "/v1/keys", #"{"name":"x","type":"aes256-gcm","labels":["UPPER"]}"#, "invalid_argument"),
                (.post, "/v1/keys", #"{"name":"k","type":"aes256-gcm"}"#, "key_exists"),
                (.post, "/v1/keys/k/encrypt", #"{"plaintext":"***"}"#, "invalid_base64"),
                (.post, "/v1/keys/k/encrypt", #"{"plaintext":"AA==","context":{"":"x"}}"#, "invalid_context"),
                (.post, "/v1/keys/k/encrypt", #"[]"#, "invalid_request"),
                (.post, "/v1/keys/missing/encrypt", #"{"plaintext":"AA=="}"#, "key_not_found"),
                (.post, "/v1/keys/k/decrypt", #"{"ciphertext":"not a ciphertext"}"#, "decryption_failed"),
                (.post, "/v1/keys/k/decrypt", #"{"ciphertext":"coffer:v1:AAAA"}"#, "decryption_failed"),
                (.post, "/v1/keys/k/hmac", #"{"message":"AA=="}"#, "wrong_key_type"),
                (.post, "/v1/keys/k/hmac/verify", #"{"message":"AA==","mac":"AA==","version":0}"#, "invalid_key_version"),
                (.put, "/v1/keys/k/versions/0/state", #"{"state":"disabled"}"#, "invalid_key_version"),
                (.put, "/v1/keys/k/versions/1/state", #"{"state":"gone"}"#, "invalid_request"),
                (.put, "/v1/keys/k/versions/1/state", #"{"state":"disabled"}"#, "state_change_refused"),
                (.put, "/v1/keys/k/versions/9/state", #"{"state":"disabled"}"#, "key_version_not_found"),
                (.post, "/v1/random", #"{"bytes":100000}"#, "invalid_request"),
                (.get, "/v1/keys?limit=0", nil, "invalid_argument"),
                (.get, "/v1/keys?limit=x", nil, "invalid_request"),
                (.get, "/v1/nowhere", nil, "not_found"),
                (.post, "/v1/identities/api-keys", #"{"policy":"nope"}"#, "policy_not_found"),
                (.put, "/v1/policies/p", #"{"statements":[{"effect":"maybe","operations":["*"],"keys":["*"]}]}"#, "invalid_request"),
            ]
            for (method, uri, body, code) in corpus {
                let response = try await client.call(method, uri, json: body)
                #expect(response.status.code >= 400 && response.status.code < 500, "\(method) \(uri) \(body ?? ""): \(response.status)")
                #expect(response.body.errorCode == code, "\(method) \(uri) \(body ?? ""): \(response.text)")
            }
            // Oversized bodies: refused by the route's limit, not read whole.
            let big = String(repeating: "A", count: RouteLimits.single + 10)
            let oversized = try await client.call(.post, "/v1/keys/k/encrypt", json: #"{"plaintext":"\#(big)"}"#)
            #expect(oversized.status == .contentTooLarge && oversized.body.errorCode == "payload_too_large", "\(oversized.status) \(oversized.text)")
        }
    }

    @Test func authenticationFailuresAreOneAnswerAndSlowedDown() async throws {
        let fixture = try await ServerFixture.make()
        try await fixture.test { client in
            let wrong = String(fixture.adminKey.dropLast()) + (fixture.adminKey.hasSuffix("A") ? "B" : "A")
            var bodies: Set<String> = []
            for key in ["", "garbage", wrong, APIKeySecret.generate().text] {
                let response = try await client.call(.get, "/v1/keys", key: key)
                #expect(response.status == .unauthorized)
                bodies.insert(response.text)
            }
            #expect(bodies.count == 1, "\(bodies)")
            for _ in 0..<10 { try await client.call(.get, "/v1/keys", key: wrong) }
            let limited = try await client.call(.get, "/v1/keys", key: wrong)
            #expect(limited.status == .tooManyRequests && limited.body.errorCode == "too_many_failures")
            // Health needs no key.
            #expect(try await client.call(.get, "/v1/health/live", key: "").status == .ok)
        }
    }

    /// Every operation, with a policy that allows exactly it and one that denies exactly it.
    @Test func policyMatrix() async throws {
        let fixture = try await ServerFixture.make()
        let operations: [(operation: String, method: HTTPRequest.Method, uri: String, body: String?)] = [
            ("key.create", .post, "/v1/keys", #"{"name":"m-new","type":"aes256-gcm"}"#),
            ("key.list", .get, "/v1/keys", nil),
            ("key.describe", .get, "/v1/keys/m-aes", nil),
            ("key.configure", .patch, "/v1/keys/m-aes", #"{"labels":["x"]}"#),
            ("key.rotate", .post, "/v1/keys/m-aes/rotate", nil),
            ("key.version.state", .put, "/v1/keys/m-aes/versions/1/state", #"{"state":"decrypt-only"}"#),
            ("key.delete", .delete, "/v1/keys/m-del", nil),
            ("key.restore", .post, "/v1/keys/m-del/restore", nil),
            ("key.import", .post, "/v1/keys/m-imp/import", #"{"type":"aes256-gcm","wrappedMaterial":"AA=="}"#),
            ("encrypt", .post, "/v1/keys/m-aes/encrypt", #"{"plaintext":"AA=="}"#),
            ("decrypt", .post, "/v1/keys/m-aes/decrypt", #"{"ciphertext":"coffer:v1:AAAA"}"#),
            ("rewrap", .post, "/v1/keys/m-aes/rewrap", #"{"ciphertext":"coffer:v1:AAAA"}"#),
            ("datakey", .post, "/v1/keys/m-aes/datakey", "{}"),
            ("hmac", .post, "/v1/keys/m-mac/hmac", #"{"message":"AA=="}"#),
            ("hmac.verify", .post, "/v1/keys/m-mac/hmac/verify", #"{"message":"AA==","mac":"AA==","version":1}"#),
            ("sign", .post, "/v1/keys/m-sig/sign", #"{"message":"AA=="}"#),
            ("verify", .post, "/v1/keys/m-sig/verify", #"{"message":"AA==","signature":"AA==","version":1}"#),
            ("random", .post, "/v1/random", #"{"bytes":8}"#),
            ("identity.create", .post, "/v1/identities/api-keys", #"{"policy":"admin"}"#),
            ("identity.list", .get, "/v1/identities", nil),
            ("policy.put", .put, "/v1/policies/other", #"{"statements":[{"effect":"allow","operations":["random"],"keys":["*"]}]}"#),
            ("policy.get", .get, "/v1/policies/admin", nil),
            ("policy.list", .get, "/v1/policies", nil),
        ]
        try await fixture.test { client in
            for (name, type) in [("m-aes", "aes256-gcm"), ("m-mac", "hmac-sha256"), ("m-sig", "ed25519"), ("m-del", "aes256-gcm")] {
                try await client.call(.post, "/v1/keys", json: #"{"name":"\#(name)","type":"\#(type)"}"#)
            }
            for (index, entry) in operations.enumerated() {
                try await client.call(.put, "/v1/policies/only-\(index)", json: #"{"statements":[{"effect":"allow","operations":["\#(entry.operation)"],"keys":["*"]}]}"#)
                try await client.call(.put, "/v1/policies/all-but-\(index)", json: #"{"statements":[{"effect":"allow","operations":["*"],"keys":["*"]},{"effect":"deny","operations":["\#(entry.operation)"],"keys":["*"]}]}"#)
                let allowed = try #require(try await client.call(.post, "/v1/identities/api-keys", json: #"{"policy":"only-\#(index)"}"#).body.string("apiKey"))
                let denied = try #require(try await client.call(.post, "/v1/identities/api-keys", json: #"{"policy":"all-but-\#(index)"}"#).body.string("apiKey"))
                let permitted = try await client.call(entry.method, entry.uri, json: entry.body, key: allowed)
                #expect(permitted.status != .forbidden && permitted.status != .unauthorized, "\(entry.operation) allowed: \(permitted.text)")
                let refused = try await client.call(entry.method, entry.uri, json: entry.body, key: denied)
                #expect(refused.status == .forbidden && refused.body.errorCode == "forbidden", "\(entry.operation) denied: \(refused.text)")
                if entry.operation == "key.delete" { try await client.call(.post, "/v1/keys/m-del/restore") }
            }
        }
    }

    @Test func importsOnlyMaterialWrappedForThisKeyNameAndType() async throws {
        let fixture = try await ServerFixture.make()
        try await fixture.test { client in
            let parameters = try await client.call(.get, "/v1/sys/import-wrapping-key", key: "")
            let recipientText = try #require(parameters.body.string("recipient"))
            #expect(recipientText.hasPrefix("coffer-x25519-"))
            let recipient = try RecipientText.parse(recipientText)
            let material = (0..<32).map { UInt8($0) }
            func wrapped(for name: String, type: String, exportable: Bool = false, _ bytes: [UInt8] = material) throws -> String {
                let context = KeyStore.importContext(key: try KeyIdentifier(name), type: try KeyType(validating: type), exportable: exportable)
                return Data(try Envelope.seal(bytes, to: [recipient], context: context).bytes).base64EncodedString()
            }
            let imported = try await client.call(.post, "/v1/keys/byok/import", json: #"{"type":"aes256-gcm","wrappedMaterial":"\#(try wrapped(for: "byok", type: "aes256-gcm"))","labels":["imported"]}"#)
            #expect(imported.status == .created && imported.body.string("type") == "aes256-gcm", "\(imported.text)")
            // The imported key is the material sent: a ciphertext made locally under it decrypts.
            let encrypted = try await client.call(.post, "/v1/keys/byok/encrypt", json: #"{"plaintext":"aGVsbG8="}"#)
            #expect(try await client.call(.post, "/v1/keys/byok/decrypt", json: #"{"ciphertext":"\#(encrypted.body.string("ciphertext") ?? "")"}"#).body.string("plaintext") == "aGVsbG8=")
            let exported = try await fixture.store.primaryVersion(of: try KeyIdentifier("byok"))
            #expect(exported.material == KeyMaterial(material))
            // Bound to the name and the type: replayed under another name or as another type, refused.
            let otherName = try await client.call(.post, "/v1/keys/byok2/import", json: #"{"type":"aes256-gcm","wrappedMaterial":"\#(try wrapped(for: "byok", type: "aes256-gcm"))"}"#)
            #expect(otherName.status == .badRequest && otherName.body.errorCode == "invalid_key_material")
            let otherType = try await client.call(.post, "/v1/keys/byok3/import", json: #"{"type":"chacha20-poly1305","wrappedMaterial":"\#(try wrapped(for: "byok3", type: "aes256-gcm"))"}"#)
            #expect(otherType.status == .badRequest && otherType.body.errorCode == "invalid_key_material")
            // …or replayed as an exportable key (to read the material back out).
            let madeExportable = try await client.call(.post, "/v1/keys/byok7/import", json: #"{"type":"aes256-gcm","exportable":true,"wrappedMaterial":"\#(try wrapped(for: "byok7", type: "aes256-gcm"))"}"#)
            #expect(madeExportable.status == .badRequest && madeExportable.body.errorCode == "invalid_key_material")
            let sealedExportable = try await client.call(.post, "/v1/keys/byok7/import", json: #"{"type":"aes256-gcm","exportable":true,"wrappedMaterial":"\#(try wrapped(for: "byok7", type: "aes256-gcm", exportable: true))"}"#)
            #expect(sealedExportable.status == .created && sealedExportable.body["exportable"] as? Bool == true)
            // Material of the wrong shape for the type, a non-envelope, or material in clear: refused.
            let short = try await client.call(.post, "/v1/keys/byok4/import", json: #"{"type":"aes256-gcm","wrappedMaterial":"\#(try wrapped(for: "byok4", type: "aes256-gcm", [1, 2, 3]))"}"#)
            #expect(short.status == .badRequest && short.body.errorCode == "invalid_key_material")
            let garbage = try await client.call(.post, "/v1/keys/byok5/import", json: #"{"type":"aes256-gcm","wrappedMaterial":"AAAA"}"#)
            #expect(garbage.status == .badRequest && garbage.body.errorCode == "invalid_key_material")
            let clear = try await client.call(.post, "/v1/keys/byok6/import", json: #"{"type":"aes256-gcm","material":"\#(Data(material).base64EncodedString())"}"#)
            #expect(clear.status == .badRequest && clear.body.errorCode == "invalid_request")
            // One wrapping key per store, stable across calls.
            #expect(try await client.call(.get, "/v1/sys/import-wrapping-key").body.string("recipient") == recipientText)
            #expect(try await client.call(.post, "/v1/keys/byok/import", json: #"{"type":"aes256-gcm","wrappedMaterial":"\#(try wrapped(for: "byok", type: "aes256-gcm"))"}"#).body.errorCode == "key_exists")
        }
    }

    @Test func aSealedServerAnswersHealthAndUnsealOnly() async throws {
        let fixture = try await ServerFixture.make(sealed: true)
        try await fixture.test { client in
            #expect(try await client.call(.get, "/v1/sys/seal-status", key: "").body["sealed"] as? Bool == true)
            #expect(try await client.call(.get, "/v1/health/ready", key: "").status == .serviceUnavailable)
            let refused = try await client.call(.get, "/v1/keys", key: "coffer-ak-0000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            #expect(refused.status == .serviceUnavailable && refused.body.errorCode == "store_sealed")
            let unsealed = try await client.call(.post, "/v1/sys/unseal", json: #"{"passphrase":"correct horse battery staple"}"#, key: "")
            #expect(unsealed.status == .ok && unsealed.body["sealed"] as? Bool == false)
            #expect(try await client.call(.get, "/v1/health/ready", key: "").status == .ok)
            // A new store's first unseal makes the admin key and shows it this once.
            let adminKey = try #require(unsealed.body.string("adminApiKey"))
            #expect(try await client.call(.get, "/v1/keys", key: adminKey).status == .ok)
            let again = try await client.call(.post, "/v1/sys/unseal", json: #"{"passphrase":"correct horse battery staple"}"#, key: "")
            #expect(again.status == .ok && again.body["adminApiKey"] == nil)
        }
    }
}

@Suite("Rotation scheduler")
struct RotationSchedulerTests {
    @Test func rotatesDueKeysOnceAndLeavesOthers() async throws {
        let fixture = try await ServerFixture.make()
        try await fixture.store.createKey(try KeyIdentifier("due"), type: .aes256GCM, options: KeyCreationOptions(rotationPeriod: .seconds(1)))
        try await fixture.store.createKey(try KeyIdentifier("later"), type: .aes256GCM, options: KeyCreationOptions(rotationPeriod: .seconds(3600)))
        try await fixture.store.createKey(try KeyIdentifier("never"), type: .aes256GCM)
        let scheduler = RotationScheduler(store: fixture.store, logger: Logger(label: "test"))
        #expect(await scheduler.runOnce().isEmpty)
        try await Task.sleep(for: .milliseconds(2100))
        #expect(await scheduler.runOnce().map(\.rawValue) == ["due"])
        #expect(await scheduler.runOnce().isEmpty)
        #expect(try await fixture.store.describeKey(try KeyIdentifier("due")).latestVersion.rawValue == 2)
        #expect(try await fixture.store.describeKey(try KeyIdentifier("later")).latestVersion.rawValue == 1)
    }
}

@Suite("Metrics")
struct MetricsTests {
    @Test func countsRequestsByOperationWithBoundedLabels() async throws {
        let fixture = try await ServerFixture.make()
        let metrics = ServerMetrics(store: fixture.store, certificates: nil)
        let application = Application(router: CofferServerApplication.buildRouter(store: fixture.store, metrics: metrics))
        let adminKey = fixture.adminKey
        try await application.test(.router) { client in
            let client = ServerFixture.Client(client: client, key: adminKey)
            try await client.call(.post, "/v1/keys", json: #"{"name":"secret-project-x","type":"aes256-gcm"}"#)
            for _ in 0..<3 { try await client.call(.post, "/v1/keys/secret-project-x/encrypt", json: #"{"plaintext":"AA=="}"#) }
            try await client.call(.post, "/v1/keys/secret-project-x/encrypt", json: #"{"plaintext":"***"}"#)
            try await client.call(.get, "/v1/keys", key: "nope")
            #expect(try await client.call(.get, "/v1/metrics", key: "").status == .unauthorized)
            let exposition = try await client.call(.get, "/v1/metrics")
            #expect(exposition.status == .ok)
            let text = exposition.text
            #expect(text.contains(#"coffer_requests_total{operation="encrypt",status="2xx"} 3"#))
            #expect(text.contains(#"coffer_requests_total{operation="encrypt",status="4xx"} 1"#))
            #expect(text.contains("coffer_request_duration_seconds_bucket"))
            #expect(text.contains("coffer_key_cache_hits"))
            #expect(text.contains("coffer_store_integrity_failures 0"))
            #expect(!text.contains("secret-project-x") && !text.contains(adminKey))
            // A policy without `metrics` may not read them.
            try await client.call(.put, "/v1/policies/enc", json: #"{"statements":[{"effect":"allow","operations":["encrypt"],"keys":["*"]}]}"#)
            let other = try #require(try await client.call(.post, "/v1/identities/api-keys", json: #"{"policy":"enc"}"#).body.string("apiKey"))
            #expect(try await client.call(.get, "/v1/metrics", key: other).status == .forbidden)
        }
    }
}
