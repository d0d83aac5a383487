#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto
import _CryptoExtras
import CofferCrypto

/// A 256-bit root key held in this process: read from a key file or derived from a passphrase.
///
/// Seals with AES-256-GCM-SIV (RFC 8452) under a random 96-bit nonce. GCM-SIV rather than GCM
/// because a root key seals for the life of the store, across processes and nodes that do not
/// share a nonce counter: a repeated random nonce under GCM-SIV leaks only whether two sealed
/// values are equal, where under GCM it would leak the authentication key.
public struct SoftwareRootKey: RootKey, CustomStringConvertible {
    static let scheme: UInt8 = 0x01

    private let key: SymmetricKey
    public let id: RootKeyID
    public let kind: String

    /// - Parameter bytes: exactly 32 bytes.
    public init(bytes: some ContiguousBytes, kind: String) throws {
        let key = SymmetricKey(data: bytes)
        guard key.bitCount == 256 else { throw KeyStoreError(.invalidArgument, detail: "a root key is 32 bytes") }
        self.key = key
        self.kind = kind
        // The id is a PRF output of the key: public, stable, and useless for finding the key.
        let mac = HMAC<SHA256>.authenticationCode(for: Array("coffer-store/v1/root-key-id".utf8), using: key)
        self.id = RootKeyID(bytes: Array(Array(mac).prefix(RootKeyID.byteCount)))!
    }

    public func seal(_ material: KeyMaterial, context: SealingContext) throws -> SealedKeyMaterial {
        let nonce = randomBytes(SealedKeyMaterial.nonceByteCount)
        do {
            let box = try material.withUnsafeBytes {
                try AES.GCM._SIV.seal($0, using: key, nonce: AES.GCM._SIV.Nonce(data: nonce), authenticating: context.bytes)
            }
            return SealedKeyMaterial(scheme: Self.scheme, rootKeyID: id, nonce: nonce, ciphertextAndTag: Array(box.ciphertext) + Array(box.tag))
        } catch {
            throw KeyStoreError(.unavailable, detail: "sealing failed")
        }
    }

    public func unseal(_ sealed: SealedKeyMaterial, context: SealingContext) throws -> KeyMaterial {
        guard sealed.scheme == Self.scheme, sealed.rootKeyID == id else {
            throw KeyStoreError(.integrityFailure, detail: "sealed under another root key")
        }
        do {
            let box = try AES.GCM._SIV.SealedBox(combined: Array(sealed.nonce) + Array(sealed.ciphertextAndTag))
            var plain = try AES.GCM._SIV.open(box, using: key, authenticating: context.bytes)
            defer { plain.resetBytes(in: 0..<plain.count) }
            return KeyMaterial(plain)
        } catch {
            throw KeyStoreError(.integrityFailure)
        }
    }

    public var description: String { "SoftwareRootKey(\(kind), id \(id))" }
}
