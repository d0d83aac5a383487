#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CofferCrypto

struct IdentityDocument: Codable, Sendable {
    var v = 1
    var id: String
    var kind: String
    var policy: String
    var created: Int64
    var disabled: Bool
    var hash: HashDocument?

    struct HashDocument: Codable, Sendable {
        var logN: UInt8
        var r: UInt32
        var p: UInt32
        var salt: String
        var hash: String
    }
}

struct PolicyDocument: Codable, Sendable {
    var v = 1
    var name: String
    var statements: [Statement]

    struct Statement: Codable, Sendable {
        var effect: String
        var operations: [String]
        var keys: [String]
        var labels: [String]
    }
}

extension KeyStore {
    /// Creates an API-key identity bound to `policy` and returns the key's text — shown once,
    /// never stored (only its slow hash is).
    public func createAPIKey(policy: String) async throws -> (identity: Identity, secretText: String) {
        _ = try requireRootKey()
        _ = try await self.policy(named: policy)
        let (secret, text) = APIKeySecret.generate()
        let identity = Identity(
            id: secret.identityID, kind: .apiKey, policy: policy, createdAt: StoredDocument.date(StoredDocument.seconds(now)),
            disabled: false, secretHash: try APIKeyHash.make(secret, parameters: configuration.apiKeyHash))
        try await insertIdentity(identity)
        return (identity, text)
    }

    /// Registers a client certificate's public key (its SHA-256) as an identity under `policy`.
    @discardableResult
    public func registerCertificate(publicKeySHA256: [UInt8], policy: String) async throws -> Identity {
        _ = try requireRootKey()
        guard publicKeySHA256.count == 32 else { throw KeyStoreError(.invalidArgument, detail: "a SHA-256 is 32 bytes") }
        _ = try await self.policy(named: policy)
        let identity = Identity(
            id: Identity.certificateID(publicKeySHA256: publicKeySHA256), kind: .certificate, policy: policy,
            createdAt: StoredDocument.date(StoredDocument.seconds(now)), disabled: false, secretHash: nil)
        try await insertIdentity(identity)
        return identity
    }

    private func insertIdentity(_ identity: Identity) async throws {
        let body = try StoredDocument.encode(Self.document(identity))
        try await write { tx in
            guard try await tx.insertRecord(.identity, identity.id, body) else { throw KeyStoreError(.identityExists, detail: identity.id) }
        }
    }

    /// Checks an API key's text. Every failure — malformed, unknown, disabled, wrong secret —
    /// throws the same ``KeyStoreError/Code/unauthenticated``, and an unknown id still pays for
    /// one hash so timing does not tell which ids exist.
    public func authenticate(apiKey text: String) async throws -> Identity {
        _ = try requireRootKey()
        guard let secret = APIKeySecret(text: text) else { throw KeyStoreError(.unauthenticated) }
        let identity = try? await self.identity(secret.identityID)
        guard let identity, let hash = identity.secretHash else {
            _ = Self.decoyHash(configuration.apiKeyHash).matches(secret)
            throw KeyStoreError(.unauthenticated)
        }
        guard hash.matches(secret), !identity.disabled else { throw KeyStoreError(.unauthenticated) }
        return identity
    }

    private static func decoyHash(_ parameters: PasswordKDFParameters) -> APIKeyHash {
        APIKeyHash(parameters: parameters, salt: [UInt8](repeating: 0, count: 16), hash: [UInt8](repeating: 0, count: 32))
    }

    public func identity(_ id: String) async throws -> Identity {
        try Identity.validateID(id)
        guard let body = try await transaction({ tx in try await tx.record(.identity, id, forUpdate: false) }) else {
            throw KeyStoreError(.identityNotFound, detail: id)
        }
        return try Self.identity(from: body)
    }

    public func listIdentities(after: String? = nil, limit: Int = 100) async throws -> [Identity] {
        guard (1...Self.maximumPageSize).contains(limit) else { throw KeyStoreError(.invalidArgument, detail: "limit") }
        return try await transaction { tx in
            try await tx.records(.identity, prefix: "", after: after, limit: limit).map { try Self.identity(from: $0.body) }
        }
    }

    /// Rebinds an identity to another policy, or disables / re-enables it.
    @discardableResult
    public func updateIdentity(_ id: String, policy: String? = nil, disabled: Bool? = nil) async throws -> Identity {
        try Identity.validateID(id)
        if let policy { _ = try await self.policy(named: policy) }
        return try await write { tx in
            guard let body = try await tx.record(.identity, id, forUpdate: true) else { throw KeyStoreError(.identityNotFound, detail: id) }
            var identity = try Self.identity(from: body)
            if let policy { identity.policy = policy }
            if let disabled { identity.disabled = disabled }
            try await tx.updateRecord(.identity, id, try StoredDocument.encode(Self.document(identity)))
            return identity
        }
    }

    public func deleteIdentity(_ id: String) async throws {
        try Identity.validateID(id)
        try await write { tx in
            guard try await tx.record(.identity, id, forUpdate: true) != nil else { throw KeyStoreError(.identityNotFound, detail: id) }
            try await tx.deleteRecord(.identity, id)
        }
    }

    /// Creates or replaces a policy.
    public func putPolicy(_ policy: Policy) async throws {
        _ = try requireRootKey()
        let body = try StoredDocument.encode(Self.document(policy))
        try await write { tx in
            if try await tx.insertRecord(.policy, policy.name, body) == false {
                try await tx.updateRecord(.policy, policy.name, body)
            }
        }
    }

    public func policy(named name: String) async throws -> Policy {
        guard let body = try await transaction({ tx in try await tx.record(.policy, name, forUpdate: false) }) else {
            throw KeyStoreError(.policyNotFound, detail: (try? KeyIdentifier(name))?.rawValue ?? "invalid name")
        }
        return try Self.policy(from: body)
    }

    public func listPolicies(after: String? = nil, limit: Int = 100) async throws -> [Policy] {
        guard (1...Self.maximumPageSize).contains(limit) else { throw KeyStoreError(.invalidArgument, detail: "limit") }
        return try await transaction { tx in
            try await tx.records(.policy, prefix: "", after: after, limit: limit).map { try Self.policy(from: $0.body) }
        }
    }

    public func deletePolicy(_ name: String) async throws {
        try await write { tx in
            guard try await tx.record(.policy, name, forUpdate: true) != nil else { throw KeyStoreError(.policyNotFound, detail: name) }
            try await tx.deleteRecord(.policy, name)
        }
    }

    /// Whether the first administrator of this store was made. Recorded in the (tagged) store
    /// row, so that a database writer who deletes the admin policy or every identity does not
    /// get the server to make new ones — an allow-everything policy, an admin key printed for
    /// whoever reads the output.
    public func isAdminBootstrapped() async throws -> Bool {
        try await transaction { tx in try await Self.storeRow(tx, forUpdate: false).adminBootstrapped == true }
    }

    /// Records that the first administrator was made (see ``isAdminBootstrapped()``).
    public func markAdminBootstrapped() async throws {
        try await updateStoreRow { $0.adminBootstrapped = true }
    }

    static func document(_ identity: Identity) -> IdentityDocument {
        var hash: IdentityDocument.HashDocument?
        if let h = identity.secretHash, case .scrypt(let logN, let r, let p) = h.parameters {
            hash = .init(logN: logN, r: r, p: p, salt: Base64URL.encode(h.salt), hash: Base64URL.encode(h.hash))
        }
        return IdentityDocument(
            id: identity.id, kind: identity.kind.rawValue, policy: identity.policy, created: StoredDocument.seconds(identity.createdAt),
            disabled: identity.disabled, hash: hash)
    }

    static func identity(from body: [UInt8]) throws -> Identity {
        let d = try StoredDocument.decode(IdentityDocument.self, body, what: "identity")
        guard d.v == 1, let kind = Identity.Kind(rawValue: d.kind), (try? Identity.validateID(d.id)) != nil else {
            throw KeyStoreError(.integrityFailure, detail: "invalid identity row")
        }
        var hash: APIKeyHash?
        if let h = d.hash {
            guard let salt = Base64URL.decode(Substring(h.salt)), let value = Base64URL.decode(Substring(h.hash)) else {
                throw KeyStoreError(.integrityFailure, detail: "invalid identity row")
            }
            hash = APIKeyHash(parameters: .scrypt(logN: h.logN, r: h.r, p: h.p), salt: salt, hash: value)
        }
        guard (kind == .apiKey) == (hash != nil) else { throw KeyStoreError(.integrityFailure, detail: "invalid identity row") }
        return Identity(id: d.id, kind: kind, policy: d.policy, createdAt: StoredDocument.date(d.created), disabled: d.disabled, secretHash: hash)
    }

    static func document(_ policy: Policy) -> PolicyDocument {
        PolicyDocument(name: policy.name, statements: policy.statements.map {
            .init(effect: $0.effect.rawValue, operations: $0.operations, keys: $0.keys, labels: $0.labels.map(\.rawValue))
        })
    }

    static func policy(from body: [UInt8]) throws -> Policy {
        let d = try StoredDocument.decode(PolicyDocument.self, body, what: "policy")
        do {
            guard d.v == 1 else { throw KeyStoreError(.integrityFailure) }
            return try Policy(name: d.name, statements: d.statements.map { s in
                guard let effect = PolicyStatement.Effect(rawValue: s.effect) else { throw KeyStoreError(.integrityFailure) }
                return try PolicyStatement(effect: effect, operations: s.operations, keys: s.keys, labels: s.labels.map(KeyLabel.init))
            })
        } catch {
            throw KeyStoreError(.integrityFailure, detail: "invalid policy row")
        }
    }
}
