#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CofferCrypto

/// One version of a key as stored: its state and its material sealed under the root key.
public struct KeyVersionRecord: Sendable, Hashable, CustomStringConvertible {
    public let key: KeyIdentifier
    public let version: KeyVersion
    public let createdAt: Date
    public internal(set) var state: KeyVersionState
    /// `nil` exactly when ``state`` is destroyed: destroying drops the sealed bytes.
    public internal(set) var sealedMaterial: SealedKeyMaterial?

    public var description: String { "\(key) \(version) \(state)" }
}

/// What callers see of a version: everything but the sealed bytes.
public struct KeyVersionInfo: Sendable, Hashable {
    public let version: KeyVersion
    public let createdAt: Date
    public let state: KeyVersionState
}
