#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CofferCrypto

/// Everything the store knows about a key except its material: the metadata row.
///
/// Invariants (checked by ``verifyInvariants()`` in tests and after every decode):
/// `1 ≤ minimumDecryptionVersion ≤ primaryVersion ≤ latestVersion`, and versions `1…latestVersion`
/// all exist (destroyed ones keep their number, so a number is never reused).
public struct KeyRecord: Sendable, Hashable {
    public let name: KeyIdentifier
    public let type: KeyType
    public let createdAt: Date
    /// The version new ciphertexts are sealed under.
    public internal(set) var primaryVersion: KeyVersion
    /// The highest version number ever created.
    public internal(set) var latestVersion: KeyVersion
    /// Versions below this refuse to decrypt (set after re-encrypting old data, to retire it).
    public internal(set) var minimumDecryptionVersion: KeyVersion
    /// Rotate automatically once this much time has passed since ``lastRotatedAt``; `nil`: never.
    public internal(set) var rotationPeriod: Duration?
    public internal(set) var lastRotatedAt: Date
    public internal(set) var labels: Set<KeyLabel>
    public internal(set) var flags: KeyFlags
    /// Set while the key is soft-deleted.
    public internal(set) var deletion: KeyDeletion?
    /// Incremented on every change; lets caches and callers tell two states of a key apart.
    public internal(set) var revision: UInt64
    /// 16 random bytes made when the key is created, bound into the sealing of its versions'
    /// material: a key purged and created again under the same name is another incarnation, and
    /// version rows kept from the first do not unseal for the second. `nil` for keys created
    /// before incarnations existed.
    let incarnation: [UInt8]?

    static let incarnationByteCount = 16

    public var isDeleted: Bool { deletion != nil }

    /// When automatic rotation is next due, or `nil` without a period.
    public var nextRotation: Date? {
        rotationPeriod.map { lastRotatedAt.addingTimeInterval(TimeInterval($0.components.seconds)) }
    }

    func verifyInvariants() -> Bool {
        minimumDecryptionVersion <= primaryVersion && primaryVersion <= latestVersion
            && labels.count <= KeyLabel.maximumCount
    }
}

/// A soft deletion: the key refuses every use and can be restored until ``purgeAfter``, when its
/// material is destroyed for good.
public struct KeyDeletion: Sendable, Hashable {
    public let deletedAt: Date
    public let purgeAfter: Date
}
