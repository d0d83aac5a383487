import CofferCrypto
import CofferService
import CofferStore
import Foundation
import Hummingbird

/// `/v1/keys/:name/{encrypt,decrypt,rewrap,datakey,hmac,sign,verify}`, their batch forms, and
/// `/v1/random`. Plaintexts, messages and MACs are standard base64; ciphertexts are Coffer
/// envelopes in text form (`coffer:v1:…`).
enum CryptoRoutes {
    /// The most items one batch request carries.
    static let maximumBatchItems = 1000

    struct EncryptRequest: Decodable, Sendable { let plaintext: String; let context: [String: String]? }
    struct CiphertextRequest: Decodable, Sendable { let ciphertext: String; let context: [String: String]? }
    struct EncryptResponse: Encodable, Sendable { let ciphertext: String; let key: String; let version: UInt32 }
    struct DecryptResponse: Encodable, Sendable { let plaintext: String; let key: String; let version: UInt32 }
    struct DataKeyRequest: Decodable, Sendable { let context: [String: String]?; let plaintext: Bool? }
    struct DataKeyResponse: Encodable, Sendable { let ciphertext: String; let plaintext: String?; let version: UInt32 }
    struct MessageRequest: Decodable, Sendable { let message: String }
    struct MACResponse: Encodable, Sendable { let mac: String; let version: UInt32 }
    struct VerifyMACRequest: Decodable, Sendable { let message: String; let mac: String; let version: UInt32 }
    struct SignatureResponse: Encodable, Sendable { let signature: String; let version: UInt32 }
    struct VerifySignatureRequest: Decodable, Sendable { let message: String; let signature: String; let version: UInt32 }
    struct Validity: Encodable, Sendable { let valid: Bool }
    struct RandomRequest: Decodable, Sendable { let bytes: Int }
    struct RandomResponse: Encodable, Sendable { let random: String }
    struct Batch<Item: Decodable & Sendable>: Decodable, Sendable { let items: [Item] }
    struct BatchResult<Item: Encodable & Sendable>: Encodable, Sendable { let results: [BatchItem<Item>] }
    struct BatchItem<Item: Encodable & Sendable>: Encodable, Sendable {
        let result: Item?
        let error: ErrorBody?
    }
    struct ErrorBody: Encodable, Sendable { let code: String; let message: String }

    static func register(_ table: RouteTable, _ ops: KeyOperations) {
        table.add(.post, "/v1/keys/:name/encrypt", operation: "encrypt", keyScoped: true, limit: RouteLimits.single, body: EncryptRequest.self) { body, call in
            try await encrypt(ops, call.key, body)
        }
        table.add(.post, "/v1/keys/:name/decrypt", operation: "decrypt", keyScoped: true, limit: RouteLimits.single, body: CiphertextRequest.self) { body, call in
            try await decrypt(ops, call.key, body)
        }
        table.add(.post, "/v1/keys/:name/rewrap", operation: "rewrap", keyScoped: true, limit: RouteLimits.single, body: CiphertextRequest.self) { body, call in
            try await rewrap(ops, call.key, body)
        }
        table.add(.post, "/v1/keys/:name/encrypt/batch", operation: "encrypt", keyScoped: true, limit: RouteLimits.batch, body: Batch<EncryptRequest>.self) { body, call in
            // One version for the whole batch, looked up once.
            let encrypter = try await ops.encrypter(for: call.key)
            return try await batch(body.items) { item in
                let sealed = try encrypter.seal(try Base64Field.decode(item.plaintext, field: "plaintext"), context: EncryptionContext(field: item.context))
                return EncryptResponse(ciphertext: sealed.text, key: call.key.rawValue, version: encrypter.version.rawValue)
            }
        }
        table.add(.post, "/v1/keys/:name/decrypt/batch", operation: "decrypt", keyScoped: true, limit: RouteLimits.batch, body: Batch<CiphertextRequest>.self) { body, call in
            try await batch(body.items) { try await decrypt(ops, call.key, $0) }
        }
        table.add(.post, "/v1/keys/:name/rewrap/batch", operation: "rewrap", keyScoped: true, limit: RouteLimits.batch, body: Batch<CiphertextRequest>.self) { body, call in
            try await batch(body.items) { try await rewrap(ops, call.key, $0) }
        }
        table.add(.post, "/v1/keys/:name/datakey", operation: "datakey", keyScoped: true, body: DataKeyRequest.self) { body, call in
            let (plain, sealed) = try await ops.generateDataKey(key: call.key, context: EncryptionContext(field: body.context), includePlaintext: body.plaintext ?? true)
            return DataKeyResponse(
                ciphertext: sealed.text, plaintext: plain.map { $0.withUnsafeBytes { Base64Field.encode($0) } },
                version: sealed.keyReference!.version.rawValue)
        }
        table.add(.post, "/v1/keys/:name/hmac", operation: "hmac", keyScoped: true, limit: RouteLimits.single, body: MessageRequest.self) { body, call in
            let (mac, version) = try await ops.hmac(key: call.key, message: try Base64Field.decode(body.message, field: "message"))
            return MACResponse(mac: Base64Field.encode(mac), version: version.rawValue)
        }
        table.add(.post, "/v1/keys/:name/hmac/verify", operation: "hmac.verify", keyScoped: true, limit: RouteLimits.single, body: VerifyMACRequest.self) { body, call in
            Validity(valid: try await ops.verifyHMAC(
                key: call.key, version: try KeyVersion(body.version), message: try Base64Field.decode(body.message, field: "message"),
                mac: try Base64Field.decode(body.mac, field: "mac")))
        }
        table.add(.post, "/v1/keys/:name/sign", operation: "sign", keyScoped: true, limit: RouteLimits.single, body: MessageRequest.self) { body, call in
            let (signature, version) = try await ops.sign(key: call.key, message: try Base64Field.decode(body.message, field: "message"))
            return SignatureResponse(signature: Base64Field.encode(signature), version: version.rawValue)
        }
        table.add(.post, "/v1/keys/:name/verify", operation: "verify", keyScoped: true, limit: RouteLimits.single, body: VerifySignatureRequest.self) { body, call in
            Validity(valid: try await ops.verify(
                key: call.key, version: try KeyVersion(body.version), message: try Base64Field.decode(body.message, field: "message"),
                signature: try Base64Field.decode(body.signature, field: "signature")))
        }
        table.add(.post, "/v1/random", operation: "random", body: RandomRequest.self) { body, _ in
            RandomResponse(random: Base64Field.encode(try KeyOperations.randomBytes(body.bytes)))
        }
    }

    static func encrypt(_ ops: KeyOperations, _ key: KeyIdentifier, _ body: EncryptRequest) async throws -> EncryptResponse {
        let sealed = try await ops.encrypt(key: key, plaintext: try Base64Field.decode(body.plaintext, field: "plaintext"), context: EncryptionContext(field: body.context))
        return EncryptResponse(ciphertext: sealed.text, key: key.rawValue, version: sealed.keyReference!.version.rawValue)
    }

    static func decrypt(_ ops: KeyOperations, _ key: KeyIdentifier, _ body: CiphertextRequest) async throws -> DecryptResponse {
        let envelope = try parse(body.ciphertext, for: key)
        let (plaintext, reference) = try await ops.decrypt(envelope, context: EncryptionContext(field: body.context))
        return DecryptResponse(plaintext: Base64Field.encode(plaintext), key: key.rawValue, version: reference.version.rawValue)
    }

    static func rewrap(_ ops: KeyOperations, _ key: KeyIdentifier, _ body: CiphertextRequest) async throws -> EncryptResponse {
        let rewrapped = try await ops.rewrap(try parse(body.ciphertext, for: key), context: EncryptionContext(field: body.context))
        return EncryptResponse(ciphertext: rewrapped.text, key: key.rawValue, version: rewrapped.keyReference!.version.rawValue)
    }

    /// The envelope, which must name the key in the path: the policy was checked against that
    /// key, so a ciphertext under another key is refused like any undecryptable one.
    static func parse(_ text: String, for key: KeyIdentifier) throws -> Envelope {
        guard let envelope = try? Envelope(text: text), envelope.keyReference?.identifier == key else {
            throw OperationError(.decryptionFailed)
        }
        return envelope
    }

    /// Runs `operation` on every item in order; each item gets its result or its error.
    static func batch<In: Sendable, Out: Encodable & Sendable>(_ items: [In], _ operation: (In) async throws -> Out) async throws -> BatchResult<Out> {
        guard !items.isEmpty, items.count <= maximumBatchItems else {
            throw APIError(.badRequest, "invalid_request", "a batch has 1–\(maximumBatchItems) items")
        }
        var results: [BatchItem<Out>] = []
        results.reserveCapacity(items.count)
        for item in items {
            do {
                results.append(BatchItem(result: try await operation(item), error: nil))
            } catch {
                let mapped = APIError.from(error)
                // A failure of the whole service (sealed, unavailable) fails the whole batch.
                if mapped.status.code >= 500 { throw error }
                results.append(BatchItem(result: nil, error: ErrorBody(code: mapped.code, message: mapped.message)))
            }
        }
        return BatchResult(results: results)
    }
}

extension CryptoRoutes.EncryptResponse: VersionedOutput { var auditVersion: UInt32 { version } }
extension CryptoRoutes.DecryptResponse: VersionedOutput { var auditVersion: UInt32 { version } }
extension CryptoRoutes.DataKeyResponse: VersionedOutput { var auditVersion: UInt32 { version } }
extension CryptoRoutes.MACResponse: VersionedOutput { var auditVersion: UInt32 { version } }
extension CryptoRoutes.SignatureResponse: VersionedOutput { var auditVersion: UInt32 { version } }
