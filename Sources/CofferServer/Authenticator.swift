import CofferCrypto
import CofferStore
import Crypto
import Foundation

/// Turns an `Authorization: Bearer coffer-ak-…` header into an ``Identity``.
///
/// The store checks an API key with scrypt (tens of milliseconds, on purpose). A successful check
/// is remembered for ``verifiedTTL`` under an HMAC of the key text with a per-process random key,
/// so the next requests cost one HMAC and a dictionary lookup, and a disabled identity stops
/// working within that TTL (after it, one store read re-checks the identity, not scrypt). The cache holds no API key and nothing an attacker could test
/// guesses against offline.
///
/// Clients that fail repeatedly are slowed down: after ``failureLimit`` failures from one
/// address within ``failureWindow``, that address gets 429 until the window passes — before any
/// scrypt runs, so a guessing client cannot make the server burn CPU either.
final class Authenticator: @unchecked Sendable {
    static let verifiedTTL: TimeInterval = 10
    /// How long others keep using an expired entry while one request re-checks it.
    static let refreshGrace: TimeInterval = 1
    static let failureLimit = 10
    static let failureWindow: TimeInterval = 60
    static let maximumTrackedClients = 100_000

    private let store: KeyStore
    /// HMAC-SHA256 keyed once with a random per-process key; each tag copies it (the key schedule
    /// was most of the cost of a cached check).
    private let keyedMAC = HMAC<SHA256>(key: SymmetricKey(size: .bits256))
    private let lock = Lock()
    private var verified: [CredentialTag: (identity: CofferStore.Identity, expires: Date)] = [:]
    private var failures: [String: (count: Int, windowStart: Date)] = [:]
    /// scrypt checks under way, by cache tag (``authenticate(authorization:client:certificate:)``).
    private var checking: [CredentialTag: Task<CofferStore.Identity, any Error>] = [:]
    private let clock: @Sendable () -> Date

    init(store: KeyStore, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.clock = clock
    }

    func authenticate(
        authorization: String?, client: String, certificate: () async -> [UInt8]? = { nil }
    ) async throws -> CofferStore.Identity {
        let now = clock()
        try throttle(client: client, now: now)
        guard let authorization, authorization.utf8.starts(with: Self.bearerPrefix) else {
            // No API key: a client certificate registered as an identity, if the connection
            // presented one (mutual TLS).
            if authorization == nil, let publicKeyHash = await certificate() {
                return try await authenticate(certificateHash: publicKeyHash, client: client, now: now)
            }
            recordFailure(client, now)
            throw APIError.unauthenticated
        }
        // Domain byte 0x00 for API keys, 0x01 for certificates: no bearer text can ever share a
        // cache tag with a certificate identity.
        let tag = self.tag(domain: 0x00, authorization.utf8.dropFirst(Self.bearerPrefix.count))
        if let hit = lock.withLock({ verified[tag] }) {
            if hit.expires > now { return hit.identity }
            // Expired: the secret was proven once; what can have changed since is the identity
            // (disabled, deleted, re-keyed). One store read checks that, not another scrypt — a
            // burst of requests on one key at expiry must not become a burst of scrypt runs. And
            // only one request re-checks: it extends the entry by ``refreshGrace`` first, so the
            // requests arriving meanwhile use it instead of all reading the store at once (under
            // wrk that herd showed as a p99 of 50–90 ms at each expiry).
            let refreshing = lock.withLock { () -> Bool in
                guard let entry = verified[tag], entry.expires <= now else { return false }
                verified[tag] = (entry.identity, now.addingTimeInterval(Self.refreshGrace))
                return true
            }
            if !refreshing { return hit.identity }
            if let current = try? await store.identity(hit.identity.id), current == hit.identity, !current.disabled {
                lock.withLock { verified[tag] = (current, now.addingTimeInterval(Self.verifiedTTL)) }
                return current
            }
            lock.withLock { _ = verified.removeValue(forKey: tag) }
        }
        // Requests carrying the same key text while its scrypt check runs wait for that one check
        // (32 connections opening at once with one key were 32 scrypt runs: a cold-start latency
        // spike of a few hundred milliseconds).
        let text = String(decoding: authorization.utf8.dropFirst(Self.bearerPrefix.count), as: UTF8.self)
        let (check, owner) = lock.withLock { () -> (Task<CofferStore.Identity, any Error>, Bool) in
            if let running = checking[tag] { return (running, false) }
            let store = self.store
            let task = Task.detached { try await store.authenticate(apiKey: text) }  // scrypt: off the event loop (SlowWork)
            checking[tag] = task
            return (task, true)
        }
        do {
            let identity = try await check.value
            lock.withLock {
                if owner { checking[tag] = nil }
                if verified.count >= Self.maximumTrackedClients { verified.removeAll() }
                verified[tag] = (identity, now.addingTimeInterval(Self.verifiedTTL))
            }
            return identity
        } catch let error as KeyStoreError where error.code == .unauthenticated {
            if owner { lock.withLock { checking[tag] = nil } }
            recordFailure(client, now)
            throw APIError.unauthenticated
        } catch {
            if owner { lock.withLock { checking[tag] = nil } }
            throw error
        }
    }

    /// A certificate identity: the store's identity named by the public key's hash, enabled. The
    /// handshake proved the key; the store says what it may do. Cached like API keys.
    private func authenticate(certificateHash: [UInt8], client: String, now: Date) async throws -> CofferStore.Identity {
        let tag = self.tag(domain: 0x01, certificateHash)
        if let hit = lock.withLock({ verified[tag] }), hit.expires > now { return hit.identity }
        let id = CofferStore.Identity.certificateID(publicKeySHA256: certificateHash)
        guard let identity = try? await store.identity(id), identity.kind == .certificate, !identity.disabled else {
            recordFailure(client, now)
            throw APIError.unauthenticated
        }
        lock.withLock {
            if verified.count >= Self.maximumTrackedClients { verified.removeAll() }
            verified[tag] = (identity, now.addingTimeInterval(Self.verifiedTTL))
        }
        return identity
    }

    private static let bearerPrefix = "Bearer ".utf8

    /// The verified-credential cache's index for `credential` in `domain`.
    private func tag(domain: UInt8, _ credential: some Collection<UInt8>) -> CredentialTag {
        var mac = keyedMAC
        withUnsafeBytes(of: domain) { mac.update(data: $0) }
        if credential.withContiguousStorageIfAvailable({ mac.update(data: UnsafeRawBufferPointer($0)) }) == nil {
            mac.update(data: Array(credential))
        }
        return mac.finalize().withUnsafeBytes { CredentialTag($0) }
    }

    /// Refuses a client that has failed too often within the window (429), before any work.
    func throttle(client: String, now: Date? = nil) throws {
        let now = now ?? clock()
        try lock.withLock {
            if failures.isEmpty { return }
            if let entry = failures[client], now.timeIntervalSince(entry.windowStart) < Self.failureWindow, entry.count >= Self.failureLimit {
                throw APIError.tooManyFailures
            }
        }
    }

    /// Counts a failure that is not an API-key check (a wrong unseal passphrase) against the client.
    func noteFailure(client: String) { recordFailure(client, clock()) }

    /// Forgets verified keys (after an identity is disabled or deleted on this node).
    func forgetVerified() { lock.withLock { verified.removeAll() } }

    private func recordFailure(_ client: String, _ now: Date) {
        lock.withLock {
            if failures.count >= Self.maximumTrackedClients {
                failures = failures.filter { now.timeIntervalSince($0.value.windowStart) < Self.failureWindow }
            }
            if let entry = failures[client], now.timeIntervalSince(entry.windowStart) < Self.failureWindow {
                failures[client] = (entry.count + 1, entry.windowStart)
            } else {
                failures[client] = (1, now)
            }
        }
    }
}

/// An HMAC-SHA256 tag as four words: hashing and comparing it costs no allocation (a `Data` key
/// cost one per request). The tag is keyed with a per-process secret, so how it is compared leaks
/// nothing an attacker could use about the credential behind it.
struct CredentialTag: Hashable, Sendable {
    private let words: (UInt64, UInt64, UInt64, UInt64)

    init(_ mac: UnsafeRawBufferPointer) {
        precondition(mac.count == 32)
        words = (
            mac.loadUnaligned(fromByteOffset: 0, as: UInt64.self), mac.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
            mac.loadUnaligned(fromByteOffset: 16, as: UInt64.self), mac.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
    }

    static func == (a: Self, b: Self) -> Bool { a.words == b.words }
    func hash(into hasher: inout Hasher) {
        hasher.combine(words.0); hasher.combine(words.1); hasher.combine(words.2); hasher.combine(words.3)
    }
}

/// Decides whether an identity's policy allows an operation, with policies cached briefly.
final class Authorizer: @unchecked Sendable {
    static let policyTTL: TimeInterval = 5
    private let store: KeyStore
    private let lock = Lock()
    private var policies: [String: (policy: Policy, expires: Date)] = [:]

    init(store: KeyStore) { self.store = store }

    func authorize(_ identity: CofferStore.Identity, operation: String, key: KeyIdentifier?) async throws {
        let now = Date()
        let policy: Policy
        // One request refreshes an expired policy; the others use it for up to a second more
        // rather than all reading the store at once.
        let cached = lock.withLock { () -> (policy: Policy, refresh: Bool)? in
            guard let hit = policies[identity.policy] else { return nil }
            if hit.expires > now { return (hit.policy, false) }
            policies[identity.policy] = (hit.policy, now.addingTimeInterval(Authenticator.refreshGrace))
            return (hit.policy, true)
        }
        if let cached, !cached.refresh {
            policy = cached.policy
        } else {
            guard let loaded = try? await store.policy(named: identity.policy) else { throw APIError.forbidden }
            lock.withLock { policies[identity.policy] = (loaded, now.addingTimeInterval(Self.policyTTL)) }
            policy = loaded
        }
        // A key that does not exist (yet) has no labels; any other failure to read it — the
        // store down, a row that fails its integrity check — is not "no labels", which would
        // let a deny-by-label statement pass: it fails the request.
        var labels: Set<KeyLabel> = []
        if let key {
            do {
                labels = try await store.cachedKeyRecord(key).labels
            } catch let error as KeyStoreError where error.code == .keyNotFound {}
        }
        guard policy.allows(operation, keyName: key?.rawValue, labels: labels) else { throw APIError.forbidden }
    }

    func forgetPolicies() { lock.withLock { policies.removeAll() } }
}
