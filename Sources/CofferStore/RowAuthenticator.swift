import Crypto
import CofferCrypto
import Synchronization

/// Tags every row the store writes and checks the tag on every read (docs/FORMAT.md,
/// "Authenticated rows"), so that someone who can write to the database but does not hold the
/// root key cannot add, edit or move metadata: an identity bound to the admin policy, a
/// re-enabled version, a cleared deletion-protection flag.
///
/// Sealing already protects key material; without tags the rows *around* it (records,
/// identities, policies, version states) were whatever the database said. The row key is 32
/// random bytes made with the store and sealed under the root key in the store row, so it is
/// available exactly when the root key is, and an HSM root key never has to compute a MAC.
///
/// ```
/// stored = 0x01 || tag (32) || body
/// tag    = HMAC-SHA256(row key, "coffer-store/v1/record" || 0x00 || u32 len || kind || u32 len || id || body)
///        | HMAC-SHA256(row key, "coffer-store/v1/version" || 0x00 || u32 len || key || u32 version || body)
/// ```
/// Binding the position (table, kind, id, version) stops a valid row being copied over another:
/// a policy row under an identity's id, one identity's row under another's. What a tag cannot
/// stop is a rollback of a row to an older copy of itself, or a row's deletion; docs/THREAT_MODEL.md
/// says so.
struct RowAuthenticator: Sendable {
    static let framing: UInt8 = 0x01
    static let tagByteCount = 32

    /// HMACs keyed once with the row key and fed their domain prefix; each tag starts from a copy
    /// (a value type: copying it copies the state). Keying per tag showed up as a quarter of a
    /// create on the memory backend.
    private let prefixed: PrefixedMACs
    /// Counts every row that failed its check (``KeyStore/integrityFailures``): a failure means
    /// someone wrote to the database behind Coffer's back, and some are answered quietly (an
    /// identity row reads as a failed authentication), so operators need a number to alert on.
    let failures: IntegrityFailureCounter

    init(key: KeyMaterial, failures: IntegrityFailureCounter = IntegrityFailureCounter()) {
        var record = HMAC<SHA256>(key: key.storage)
        record.update(data: Array("coffer-store/v1/record".utf8) + [0])
        var version = HMAC<SHA256>(key: key.storage)
        version.update(data: Array("coffer-store/v1/version".utf8) + [0])
        self.prefixed = PrefixedMACs(record: record, version: version)
        self.failures = failures
    }

    /// Immutable after init; only ever copied out.
    private final class PrefixedMACs: @unchecked Sendable {
        let record: HMAC<SHA256>
        let version: HMAC<SHA256>
        init(record: HMAC<SHA256>, version: HMAC<SHA256>) {
            self.record = record
            self.version = version
        }
    }

    /// A new random row key.
    static func generateKey() -> KeyMaterial { KeyMaterial(randomBytes(32)) }

    // MARK: Records

    func seal(_ kind: RecordKind, _ id: String, _ body: [UInt8]) -> [UInt8] {
        Self.frame(tag: recordTag(kind, id, body[...]), body)
    }

    /// The body of a stored record row.
    ///
    /// - Throws: ``KeyStoreError/Code/integrityFailure`` for a row without a valid tag for this
    ///   position — one error whatever the reason.
    func open(_ kind: RecordKind, _ id: String, _ stored: [UInt8]) throws -> [UInt8] {
        try open(stored, what: "\(kind) row \(id)") { recordTag(kind, id, $0) }
    }

    // MARK: Versions

    func seal(version key: String, _ version: UInt32, _ body: [UInt8]) -> [UInt8] {
        Self.frame(tag: versionTag(key, version, body[...]), body)
    }

    func open(version key: String, _ version: UInt32, _ stored: [UInt8]) throws -> [UInt8] {
        try open(stored, what: "key version row \(key) v\(version)") { versionTag(key, version, $0) }
    }

    /// The body of `stored` if its tag is `expectedTag(body)`; the one integrity failure (counted)
    /// otherwise, whether the framing or the tag is wrong.
    private func open(_ stored: [UInt8], what: String, expectedTag: (ArraySlice<UInt8>) -> [UInt8]) throws -> [UInt8] {
        guard let (tag, body) = try? Self.split(stored), constantTimeEquals(tag, expectedTag(body)) else {
            failures.increment()
            throw KeyStoreError(.integrityFailure, detail: "\(what) failed authentication")
        }
        return Array(body)
    }

    // MARK: Framing

    /// Whether `stored` has the authenticated framing. A store written before row tags holds bare
    /// JSON, which starts with `{`; only the store row is ever read in that form (to refuse or
    /// upgrade it).
    static func isFramed(_ stored: [UInt8]) -> Bool { stored.first == framing }

    /// The body of a framed row *without* checking its tag: only for the store row before the
    /// root key (and so the row key) is available. Everything read this way is checked once
    /// the row key is unsealed (``KeyStore`` attach).
    static func unverifiedBody(_ stored: [UInt8], what: String) throws -> [UInt8] {
        guard let (_, body) = try? split(stored) else { throw KeyStoreError(.integrityFailure, detail: "\(what) is malformed") }
        return Array(body)
    }

    private static func frame(tag: [UInt8], _ body: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(1 + tagByteCount + body.count)
        out.append(framing)
        out += tag
        out += body
        return out
    }

    private struct Unframed: Error {}

    private static func split(_ stored: [UInt8]) throws(Unframed) -> (tag: ArraySlice<UInt8>, body: ArraySlice<UInt8>) {
        guard stored.count > 1 + tagByteCount, stored[0] == framing else { throw Unframed() }
        return (stored[1..<(1 + tagByteCount)], stored[(1 + tagByteCount)...])
    }

    private func recordTag(_ kind: RecordKind, _ id: String, _ body: ArraySlice<UInt8>) -> [UInt8] {
        var mac = prefixed.record
        Self.update(&mac, lengthPrefixed: kind.rawValue)
        Self.update(&mac, lengthPrefixed: id)
        mac.update(data: body)
        return Array(mac.finalize())
    }

    private func versionTag(_ key: String, _ version: UInt32, _ body: ArraySlice<UInt8>) -> [UInt8] {
        var mac = prefixed.version
        Self.update(&mac, lengthPrefixed: key)
        Self.update(&mac, version)
        mac.update(data: body)
        return Array(mac.finalize())
    }

    private static func update(_ mac: inout HMAC<SHA256>, lengthPrefixed field: String) {
        var field = field
        field.withUTF8 { bytes in
            update(&mac, UInt32(bytes.count))
            mac.update(data: UnsafeRawBufferPointer(bytes))
        }
    }

    /// `value` as 4 big-endian bytes, without an allocation.
    private static func update(_ mac: inout HMAC<SHA256>, _ value: UInt32) {
        withUnsafeBytes(of: value.bigEndian) { mac.update(data: $0) }
    }
}

/// How many rows failed their check since the store opened.
final class IntegrityFailureCounter: Sendable {
    private let count = Atomic<UInt64>(0)
    func increment() { count.add(1, ordering: .relaxed) }
    var value: UInt64 { count.load(ordering: .relaxed) }
}
