import CofferCrypto
import CofferStore
import Foundation
import Hummingbird

/// `/v1/keys`: create, list, describe, configure, rotate, version states, delete, restore.
enum KeyRoutes {
    struct CreateRequest: Decodable, Sendable {
        let name: String
        let type: String
        let labels: [String]?
        let exportable: Bool?
        let deletionProtected: Bool?
        let rotationPeriodSeconds: Int64?
    }

    /// Bring your own key: `wrappedMaterial` is a Coffer envelope (base64) sealed to the store's
    /// import wrapping key with the context `KeyStore.importContext(key:type:)`. Material in clear
    /// is not accepted, even over TLS: a proxy that terminates TLS, or its logs, would see it.
    struct ImportRequest: Decodable, Sendable {
        let type: String
        let wrappedMaterial: String
        let labels: [String]?
        let exportable: Bool?
        let deletionProtected: Bool?
        let rotationPeriodSeconds: Int64?
    }

    struct WrappingKeyView: Encodable, Sendable {
        let recipient: String
        let format = "coffer-envelope"
        let contextKeys = ["coffer.import.key", "coffer.import.type", "coffer.import.exportable"]
    }

    struct ConfigureRequest: Decodable, Sendable {
        let labels: [String]?
        let exportable: Bool?
        let deletionProtected: Bool?
        /// 0 turns automatic rotation off.
        let rotationPeriodSeconds: Int64?
        let minimumDecryptionVersion: UInt32?
    }

    struct StateRequest: Decodable, Sendable { let state: String }

    struct KeyView: Encodable, Sendable {
        let name: String
        let type: String
        let createdAt: String
        let primaryVersion: UInt32
        let latestVersion: UInt32
        let minimumDecryptionVersion: UInt32
        let rotationPeriodSeconds: Int64?
        let lastRotatedAt: String
        let nextRotationAt: String?
        let labels: [String]
        let exportable: Bool
        let deletionProtected: Bool
        let deletedAt: String?
        let purgeAfter: String?
        let versions: [VersionView]?

        init(_ record: KeyRecord, versions: [KeyVersionInfo]? = nil) {
            name = record.name.rawValue
            type = record.type.rawValue
            createdAt = record.createdAt.formatted(.iso8601)
            primaryVersion = record.primaryVersion.rawValue
            latestVersion = record.latestVersion.rawValue
            minimumDecryptionVersion = record.minimumDecryptionVersion.rawValue
            rotationPeriodSeconds = record.rotationPeriod?.components.seconds
            lastRotatedAt = record.lastRotatedAt.formatted(.iso8601)
            nextRotationAt = record.nextRotation?.formatted(.iso8601)
            labels = record.labels.map(\.rawValue).sorted()
            exportable = record.flags.exportable
            deletionProtected = record.flags.deletionProtected
            deletedAt = record.deletion?.deletedAt.formatted(.iso8601)
            purgeAfter = record.deletion?.purgeAfter.formatted(.iso8601)
            self.versions = versions?.map(VersionView.init)
        }
    }

    struct VersionView: Encodable, Sendable {
        let version: UInt32
        let createdAt: String
        let state: String
        init(_ info: KeyVersionInfo) {
            version = info.version.rawValue
            createdAt = info.createdAt.formatted(.iso8601)
            state = info.state.description
        }
    }

    struct ListResponse: Encodable, Sendable { let keys: [KeyView]; let next: String? }

    static func register(_ table: RouteTable, _ store: KeyStore) {
        let authorizer = table.authorizer
        table.add(.post, "/v1/keys", operation: "key.create", status: .created, body: CreateRequest.self) { body, call in
            let name = try KeyIdentifier(body.name)
            // The policy is checked against the name being created, not a path parameter.
            try await authorizer.authorize(call.identity, operation: "key.create", key: name)
            let type = try KeyType(validating: body.type)
            let options = try creationOptions(
                body.labels, exportable: body.exportable, deletionProtected: body.deletionProtected, rotationPeriodSeconds: body.rotationPeriodSeconds)
            // Generating (RSA: up to seconds) and sealing (an HSM round trip) off the event loop.
            return KeyView(try await SlowWork.run { try await store.createKey(name, type: type, options: options) })
        }
        // Public: it is a public key (only the store can open what is sealed to it), and a policy
        // that allows key.import on `payments-*` alone could not reach a route with no key name.
        table.addPublic(.get, "/v1/sys/import-wrapping-key") { (_: NoBody, _) in
            WrappingKeyView(recipient: try await store.importWrappingRecipient().text)
        }
        table.add(.post, "/v1/keys/:name/import", operation: "key.import", keyScoped: true, status: .created, body: ImportRequest.self) { body, call in
            let key = call.key, type = try KeyType(validating: body.type)
            let wrapped = try Base64Field.decode(body.wrappedMaterial, field: "wrappedMaterial")
            let options = try creationOptions(
                body.labels, exportable: body.exportable, deletionProtected: body.deletionProtected, rotationPeriodSeconds: body.rotationPeriodSeconds)
            return KeyView(try await SlowWork.run { try await store.importWrappedKey(key, type: type, wrappedMaterial: wrapped, options: options) })
        }
        table.add(.get, "/v1/keys", operation: "key.list") { (_: NoBody, call) in
            let label = try call.query("label").map { try KeyLabel($0) }
            let after = try call.query("after").map { try KeyIdentifier($0) }
            guard let limit = Int(call.query("limit") ?? "100") else { throw APIError(.badRequest, "invalid_request", "limit is a number") }
            let page = try await store.listKeys(prefix: call.query("prefix") ?? "", label: label, after: after, limit: limit)
            return ListResponse(keys: page.keys.map { KeyView($0) }, next: page.next?.rawValue)
        }
        table.add(.get, "/v1/keys/:name", operation: "key.describe", keyScoped: true) { (_: NoBody, call) in
            KeyView(try await store.describeKey(call.key), versions: try await store.versions(of: call.key))
        }
        table.add(.patch, "/v1/keys/:name", operation: "key.configure", keyScoped: true, body: ConfigureRequest.self) { body, call in
            let current = try await store.describeKey(call.key)
            var flags = current.flags
            if let exportable = body.exportable { flags.exportable = exportable }
            if let protected = body.deletionProtected { flags.deletionProtected = protected }
            var period: Duration?? = nil
            if let seconds = body.rotationPeriodSeconds { period = .some(seconds == 0 ? nil : Duration.seconds(seconds)) }
            let record = try await store.configureKey(call.key, KeyConfigurationChange(
                rotationPeriod: period, minimumDecryptionVersion: try body.minimumDecryptionVersion.map { try KeyVersion($0) },
                labels: try body.labels.map { try labels($0) }, flags: flags))
            return KeyView(record)
        }
        table.add(.post, "/v1/keys/:name/rotate", operation: "key.rotate", keyScoped: true) { (_: NoBody, call) in
            let key = call.key
            return KeyView(try await SlowWork.run { try await store.rotateKey(key) })
        }
        table.add(.put, "/v1/keys/:name/versions/:version/state", operation: "key.version.state", keyScoped: true, body: StateRequest.self) { body, call in
            guard let text = call.context.parameters.get("version"), let number = UInt32(text), let version = try? KeyVersion(number) else {
                throw APIError(.badRequest, "invalid_key_version", "a version is a whole number from 1")
            }
            guard let state = KeyVersionState(name: body.state) else {
                throw APIError(.badRequest, "invalid_request", "state is active, decrypt-only, disabled or destroyed")
            }
            try await store.setVersionState(call.key, version: version, to: state)
            return KeyView(try await store.describeKey(call.key), versions: try await store.versions(of: call.key))
        }
        table.add(.delete, "/v1/keys/:name", operation: "key.delete", keyScoped: true) { (_: NoBody, call) in
            KeyView(try await store.deleteKey(call.key))
        }
        table.add(.post, "/v1/keys/:name/restore", operation: "key.restore", keyScoped: true) { (_: NoBody, call) in
            KeyView(try await store.restoreKey(call.key))
        }
    }

    /// A new key's options from the fields create and import share (absent flags are off).
    static func creationOptions(_ labelTexts: [String]?, exportable: Bool?, deletionProtected: Bool?, rotationPeriodSeconds: Int64?) throws -> KeyCreationOptions {
        KeyCreationOptions(
            labels: try labels(labelTexts), flags: KeyFlags(exportable: exportable ?? false, deletionProtected: deletionProtected ?? false),
            rotationPeriod: rotationPeriodSeconds.map { .seconds($0) })
    }

    static func labels(_ texts: [String]?) throws -> Set<KeyLabel> {
        Set(try (texts ?? []).map(KeyLabel.init))
    }
}
