import CofferCrypto
import CofferStore
import Foundation
import Hummingbird

/// `/v1/identities` and `/v1/policies`: API keys (shown once), certificate identities, policies.
enum IdentityRoutes {
    struct APIKeyRequest: Decodable, Sendable { let policy: String }
    struct APIKeyResponse: Encodable, Sendable { let id: String; let policy: String; let apiKey: String }
    struct CertificateRequest: Decodable, Sendable { let publicKeySHA256: String; let policy: String }
    struct UpdateRequest: Decodable, Sendable { let policy: String?; let disabled: Bool? }
    struct IdentityView: Encodable, Sendable {
        let id: String
        let kind: String
        let policy: String
        let createdAt: String
        let disabled: Bool
        init(_ identity: CofferStore.Identity) {
            id = identity.id
            kind = identity.kind.rawValue
            policy = identity.policy
            createdAt = identity.createdAt.formatted(.iso8601)
            disabled = identity.disabled
        }
    }
    struct IdentityList: Encodable, Sendable { let identities: [IdentityView] }

    struct PolicyBody: Codable, Sendable {
        struct Statement: Codable, Sendable {
            let effect: String
            let operations: [String]
            let keys: [String]
            let labels: [String]?
        }
        let statements: [Statement]
    }
    struct PolicyView: Encodable, Sendable { let name: String; let statements: [PolicyBody.Statement] }
    struct PolicyList: Encodable, Sendable { let policies: [PolicyView] }
    struct Deleted: Encodable, Sendable { let deleted: String }

    static func register(_ table: RouteTable, _ store: KeyStore) {
        let authenticator = table.authenticator, authorizer = table.authorizer
        table.add(.post, "/v1/identities/api-keys", operation: "identity.create", status: .created, body: APIKeyRequest.self) { body, _ in
            let (identity, secret) = try await SlowWork.run { try await store.createAPIKey(policy: body.policy) }
            return APIKeyResponse(id: identity.id, policy: identity.policy, apiKey: secret)
        }
        table.add(.post, "/v1/identities/certificates", operation: "identity.create", status: .created, body: CertificateRequest.self) { body, _ in
            guard let hash = Hex.decode(body.publicKeySHA256.lowercased()), hash.count == 32 else {
                throw APIError(.badRequest, "invalid_request", "publicKeySHA256 is 64 hex digits")
            }
            return IdentityView(try await store.registerCertificate(publicKeySHA256: hash, policy: body.policy))
        }
        table.add(.get, "/v1/identities", operation: "identity.list") { (_: NoBody, call) in
            IdentityList(identities: try await store.listIdentities(after: call.query("after"), limit: Int(call.query("limit") ?? "100") ?? 100).map(IdentityView.init))
        }
        table.add(.patch, "/v1/identities/:id", operation: "identity.update", body: UpdateRequest.self) { body, call in
            let identity = try await store.updateIdentity(try identityID(call), policy: body.policy, disabled: body.disabled)
            authenticator.forgetVerified()
            return IdentityView(identity)
        }
        table.add(.delete, "/v1/identities/:id", operation: "identity.delete") { (_: NoBody, call) in
            let id = try identityID(call)
            try await store.deleteIdentity(id)
            authenticator.forgetVerified()
            return Deleted(deleted: id)
        }
        table.add(.put, "/v1/policies/:policy", operation: "policy.put", body: PolicyBody.self) { body, call in
            let policy = try Policy(name: call.context.parameters.get("policy") ?? "", statements: try body.statements.map { statement in
                guard let effect = PolicyStatement.Effect(rawValue: statement.effect) else {
                    throw APIError(.badRequest, "invalid_request", "effect is allow or deny")
                }
                return try PolicyStatement(effect: effect, operations: statement.operations, keys: statement.keys, labels: try (statement.labels ?? []).map(KeyLabel.init))
            })
            try await store.putPolicy(policy)
            authorizer.forgetPolicies()
            return view(policy)
        }
        table.add(.get, "/v1/policies/:policy", operation: "policy.get") { (_: NoBody, call) in
            view(try await store.policy(named: call.context.parameters.get("policy") ?? ""))
        }
        table.add(.get, "/v1/policies", operation: "policy.list") { (_: NoBody, call) in
            PolicyList(policies: try await store.listPolicies(after: call.query("after"), limit: Int(call.query("limit") ?? "100") ?? 100).map(view))
        }
        table.add(.delete, "/v1/policies/:policy", operation: "policy.delete") { (_: NoBody, call) in
            let name = call.context.parameters.get("policy") ?? ""
            try await store.deletePolicy(name)
            authorizer.forgetPolicies()
            return Deleted(deleted: name)
        }
    }

    static func identityID(_ call: RouteCall) throws -> String {
        guard let id = call.context.parameters.get("id")?.removingPercentEncoding else {
            throw APIError(.badRequest, "invalid_request", "identity id")
        }
        return id
    }

    static func view(_ policy: Policy) -> PolicyView {
        PolicyView(name: policy.name, statements: policy.statements.map {
            .init(effect: $0.effect.rawValue, operations: $0.operations, keys: $0.keys, labels: $0.labels.map(\.rawValue))
        })
    }
}
