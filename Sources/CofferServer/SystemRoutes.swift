import CofferCrypto
import CofferStore
import Foundation
import Hummingbird

/// Health and seal state, open to everyone: `/v1/health/live`, `/v1/health/ready`,
/// `/v1/sys/seal-status`, `/v1/sys/unseal`.
enum SystemRoutes {
    struct Live: Encodable, Sendable { let status = "ok" }
    struct Ready: Encodable, Sendable { let status: String; let sealed: Bool; let store: String }
    struct SealStatus: Encodable, Sendable {
        let sealed: Bool
        let rootKey: String?
        let storeID: String?
        /// Only in the answer to the unseal that initialised a new store: its admin API key,
        /// shown this once.
        var adminApiKey: String? = nil
    }
    struct UnsealRequest: Decodable, Sendable { let passphrase: String }

    static func register(_ table: RouteTable, _ store: KeyStore) {
        table.addPublic(.get, "/v1/health/live") { (_: NoBody, _) in Live() }
        // Ready: the store answers and is unsealed. 503 otherwise, so load balancers route around.
        table.declared.add(.get, "/v1/health/ready")
        table.router.get("/v1/health/ready") { _, _ in
            let reachable = (try? await store.countVersions()) != nil
            let ready = reachable && !store.isSealed
            return try RouteTable.json(
                Ready(status: ready ? "ready" : "not_ready", sealed: store.isSealed, store: reachable ? "reachable" : "unreachable"),
                status: ready ? .ok : .serviceUnavailable)
        }
        table.addPublic(.get, "/v1/sys/seal-status") { (_: NoBody, _) in
            SealStatus(sealed: store.isSealed, rootKey: store.rootKeyKind, storeID: store.storeID?.hex)
        }
        // Each guess costs scrypt at N = 2^17 (128 MiB, a fraction of a second): one unseal at a
        // time (others get 429 at once rather than queueing memory), and wrong passphrases count
        // against the client like failed API keys (10 a minute, then 429).
        let authenticator = table.authenticator
        let gate = UnsealGate()
        table.addPublic(.post, "/v1/sys/unseal", body: UnsealRequest.self) { body, context in
            guard store.isSealed else { return SealStatus(sealed: false, rootKey: store.rootKeyKind, storeID: store.storeID?.hex) }
            try authenticator.throttle(client: context.clientAddress)
            guard gate.enter() else { throw APIError(.tooManyRequests, "unseal_in_progress", "another unseal is running; retry shortly") }
            defer { gate.leave() }
            do {
                let passphrase = try Passphrase(body.passphrase)
                try await SlowWork.run { try await store.unseal(passphrase: passphrase) }
            } catch let error as KeyStoreError where error.code == .unsealFailed {
                authenticator.noteFailure(client: context.clientAddress)
                throw error
            }
            // Under the gate: two first unseals cannot both find no identity and both mint one.
            let adminKey = try await SlowWork.run { try await AdminBootstrap.ensureAdmin(store) }
            return SealStatus(sealed: store.isSealed, rootKey: store.rootKeyKind, storeID: store.storeID?.hex, adminApiKey: adminKey)
        }
    }
}

/// At most one unseal at a time.
final class UnsealGate: @unchecked Sendable {
    private let lock = Lock()
    private var busy = false

    func enter() -> Bool { lock.withLock { busy ? false : { busy = true; return true }() } }
    func leave() { lock.withLock { busy = false } }
}
