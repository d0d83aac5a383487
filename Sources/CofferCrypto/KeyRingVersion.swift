#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One version of a ``KeyRing``: its number, when it was made, its state, and — unless it was
/// destroyed — its key-encryption key.
///
/// The key is reachable only through the ring, which checks the state first
/// (``KeyRing/keyEncryptionKey(for:)``); printing, dumping or mirroring a version never shows it.
public struct KeyRingVersion: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let version: KeyVersion
    /// Creation time, whole seconds since the Unix epoch (the ring file's resolution).
    public let createdAt: Date
    public internal(set) var state: KeyVersionState
    /// `nil` exactly when ``state`` is ``KeyVersionState/destroyed``.
    var material: KeyEncryptionKey?

    init(version: KeyVersion, createdAt: Date, state: KeyVersionState, material: KeyEncryptionKey?) {
        precondition((material == nil) == (state == .destroyed), "destroyed versions, and only they, hold no key")
        self.version = version
        self.createdAt = createdAt
        self.state = state
        self.material = material
    }

    /// Whether the key bytes are still held (false once destroyed).
    public var hasKeyMaterial: Bool { material != nil }

    /// `v3 active, created 2025-01-01T00:00:00Z` — never key bytes.
    public var description: String {
        "\(version) \(state), created \(createdAt.formatted(.iso8601))"
    }

    public var debugDescription: String { "KeyRingVersion(\(description))" }

    /// Shows only the public fields, so `dump` and debuggers cannot reach the key.
    public var customMirror: Mirror {
        Mirror(self, children: ["version": version, "createdAt": createdAt, "state": state], displayStyle: .struct)
    }

    /// The last second of the year 9999: creation times are whole seconds from 0 to this, which
    /// a `Date` (a `Double`) represents exactly.
    static let latestCreationSeconds: UInt64 = 253_402_300_799

    /// Drops to whole seconds, as the ring file records times.
    static func wholeSeconds(_ date: Date) -> Date {
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
    }
}
