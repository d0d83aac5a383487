#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A named set of key-encryption-key versions with one primary: the local replacement for the
/// key manager of the design this supersedes.
///
/// - The **primary** version seals every new envelope (``seal(_:context:)``).
/// - Every envelope names the version that sealed it, and any **active** or **decrypt-only**
///   version opens its envelopes (``open(_:context:limits:)``).
/// - **Rotation is one mutation** (``rotate(now:)``): the new version is added and made primary
///   together, and no version ever leaves the ring. The design this replaces swapped its current
///   key and its "previous" key in separate steps and could briefly hold neither, so envelopes
///   sealed just before a rotation failed to open; here every ring value that can seal under
///   a version also holds every version sealed before it. Share a ring between threads through
///   ``SharedKeyRing``, which swaps whole values under a lock.
/// - Across processes sharing a ring file, a reader still holding the previous file cannot know
///   a version it has not loaded. For that case stage the rotation: ``addVersion(now:)``,
///   distribute the ring, then ``setPrimary(_:)``.
///
/// Invariants (checked by `assert(verifyInvariants())`): versions are exactly 1…n in order; the
/// primary exists and is active; a version holds key bytes exactly when it is not destroyed; every
/// key's reference is this ring's name and that version.
///
/// The ring is a value and does no I/O; ``KeyRingFile`` seals it for storage.
public struct KeyRing: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The ring's name; every envelope it seals carries `name/version` in its header.
    public let name: KeyIdentifier
    /// How new envelopes are sealed and how often to rotate.
    public var settings: KeyRingSettings
    /// Every version ever created, ascending; `versions[i].version` is `i + 1`.
    public private(set) var versions: [KeyRingVersion]
    /// The version that seals.
    public private(set) var primaryVersion: KeyVersion

    /// Builds a ring from parts (used by decoding); checks every invariant.
    init(name: KeyIdentifier, settings: KeyRingSettings, versions: [KeyRingVersion], primaryVersion: KeyVersion) throws {
        self.name = name
        self.settings = settings
        self.versions = versions
        self.primaryVersion = primaryVersion
        guard verifyInvariants() else { throw CofferCryptoError(.invalidKeyRing, detail: "inconsistent versions or primary") }
    }

    /// A new ring whose version 1, a fresh random key, is primary.
    ///
    /// - Throws: ``CofferCryptoError/Code/invalidParameter`` if `now` is outside the years
    ///   1970–9999 (the ring file records creation times as unsigned whole seconds).
    public static func generate(name: KeyIdentifier, settings: KeyRingSettings = .default, now: Date = Date()) throws -> KeyRing {
        let first = try makeVersion(name: name, version: .first, now: now)
        return try KeyRing(name: name, settings: settings, versions: [first], primaryVersion: .first)
    }

    /// The primary version (always active, always holding its key).
    public var primary: KeyRingVersion { versions[Int(primaryVersion.rawValue) - 1] }

    /// The version with this number, if the ring has it.
    public func version(_ version: KeyVersion) -> KeyRingVersion? {
        let index = Int(version.rawValue) - 1
        return index < versions.count ? versions[index] : nil
    }

    /// Adds version N+1 with a fresh random key **and** makes it the primary, in one mutation;
    /// returns it. All earlier versions keep their states, so everything sealed before still opens.
    @discardableResult
    public mutating func rotate(now: Date = Date()) throws -> KeyRingVersion {
        let added = try addVersion(now: now)
        primaryVersion = added.version
        assert(verifyInvariants())
        return added
    }

    /// Adds version N+1 (active, not primary) for a staged rotation across processes: ship the
    /// ring to every reader first, then ``setPrimary(_:)``.
    @discardableResult
    public mutating func addVersion(now: Date = Date()) throws -> KeyRingVersion {
        let number = try versions[versions.count - 1].version.next()
        let added = try Self.makeVersion(name: name, version: number, now: now)
        versions.append(added)
        assert(verifyInvariants())
        return added
    }

    /// Makes an active version the primary.
    ///
    /// - Throws: ``CofferCryptoError/Code/invalidKeyVersion`` if the ring has no such version,
    ///   ``CofferCryptoError/Code/keyStateChangeRefused`` if it is not active.
    public mutating func setPrimary(_ version: KeyVersion) throws {
        guard let entry = self.version(version) else { throw CofferCryptoError(.invalidKeyVersion, detail: "no version \(version) in ring \(name)") }
        guard entry.state == .active else {
            throw CofferCryptoError(.keyStateChangeRefused, detail: "only an active version can be primary; \(version) is \(entry.state)")
        }
        primaryVersion = version
    }

    /// Moves a version to `state`.
    ///
    /// Rules: the primary cannot leave ``KeyVersionState/active`` (rotate first); a destroyed
    /// version stays destroyed; otherwise any state may follow any other, so a disabled version
    /// can be re-enabled. Destroying drops the key bytes from this value at once. Setting the
    /// current state again is a no-op.
    ///
    /// - Throws: ``CofferCryptoError/Code/invalidKeyVersion`` for a version the ring does not
    ///   have, ``CofferCryptoError/Code/keyStateChangeRefused`` for a forbidden change.
    public mutating func setState(_ state: KeyVersionState, for version: KeyVersion) throws {
        guard let entry = self.version(version) else { throw CofferCryptoError(.invalidKeyVersion, detail: "no version \(version) in ring \(name)") }
        if entry.state == state { return }
        guard entry.state != .destroyed else {
            throw CofferCryptoError(.keyStateChangeRefused, detail: "\(version) is destroyed; destruction cannot be undone")
        }
        guard version != primaryVersion else {
            throw CofferCryptoError(.keyStateChangeRefused, detail: "\(version) is the primary and must stay active; rotate first")
        }
        let index = Int(version.rawValue) - 1
        versions[index].state = state
        if state == .destroyed { versions[index].material = nil }
        assert(verifyInvariants())
    }

    /// Whether the primary is at least one rotation period old at `now` (always false without a
    /// rotation period).
    public func isRotationDue(now: Date = Date()) -> Bool {
        guard let seconds = settings.rotationPeriodSeconds else { return false }
        return now.timeIntervalSince(primary.createdAt) >= TimeInterval(seconds)
    }

    static func makeVersion(name: KeyIdentifier, version: KeyVersion, now: Date) throws -> KeyRingVersion {
        guard now.timeIntervalSince1970 >= 0, now.timeIntervalSince1970 < TimeInterval(KeyRingVersion.latestCreationSeconds + 1) else {
            throw CofferCryptoError(.invalidParameter, detail: "creation time outside 1970…9999")
        }
        let key = KeyEncryptionKey.generate(reference: KeyReference(identifier: name, version: version))
        return KeyRingVersion(version: version, createdAt: KeyRingVersion.wholeSeconds(now), state: .active, material: key)
    }

    /// The invariants in the type's documentation.
    func verifyInvariants() -> Bool {
        guard !versions.isEmpty, let primary = version(primaryVersion), primary.state == .active else { return false }
        for (index, entry) in versions.enumerated() {
            guard entry.version.rawValue == UInt32(index + 1), (entry.material == nil) == (entry.state == .destroyed) else { return false }
            if let key = entry.material, key.reference != KeyReference(identifier: name, version: entry.version) { return false }
        }
        return true
    }

    /// `KeyRing(orders, primary v2; v1 decrypt-only, v2 active; AES-256-GCM, …)` — states and
    /// settings only, never key bytes.
    public var description: String {
        let states = versions.map { "\($0.version) \($0.state)" }.joined(separator: ", ")
        return "KeyRing(\(name), primary \(primaryVersion); \(states); \(settings))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(
            self, children: ["name": name, "settings": settings, "versions": versions, "primaryVersion": primaryVersion],
            displayStyle: .struct)
    }
}
