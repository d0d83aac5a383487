#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto
import CofferCrypto

/// The secret bytes of one key version, in the encoding its ``KeyType`` documents
/// (docs/FORMAT.md, "Key store"): 32 raw bytes for the symmetric types, the private key's raw or
/// seed form for X25519, X-Wing, Ed25519 and P-256, PKCS#1 DER for RSA.
///
/// Held in a swift-crypto `SymmetricKey`, whose storage is zeroed when freed and compared in
/// constant time. It cannot print, dump or mirror its bytes: they are reachable only through
/// ``withUnsafeBytes(_:)``.
public struct KeyMaterial: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    let storage: SymmetricKey

    public init(_ bytes: some ContiguousBytes) {
        storage = SymmetricKey(data: bytes)
    }

    public var byteCount: Int { storage.bitCount / 8 }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes(body)
    }

    /// A copy of the bytes, for handing to a swift-crypto initializer. Callers zero it when done
    /// where they can; prefer ``withUnsafeBytes(_:)``.
    package var bytes: [UInt8] { storage.withUnsafeBytes { Array($0) } }

    public var description: String { "KeyMaterial(\(byteCount) bytes, redacted)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
