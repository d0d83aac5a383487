#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto

/// HKDF (RFC 5869) over SHA-256 or SHA-512, from swift-crypto.
///
/// The wrapper adds one thing: it checks the requested length (1…255 × hash length) and throws
/// instead of reaching swift-crypto's precondition, so bad parameters never crash a server.
public enum HKDFHash: Sendable, CaseIterable {
    case sha256
    case sha512

    /// Output length of the hash in bytes.
    public var hashByteCount: Int { self == .sha256 ? 32 : 64 }

    /// Extract-then-expand.
    public func deriveKey(
        inputKeyMaterial: SymmetricKey, salt: some DataProtocol, info: some DataProtocol, outputByteCount: Int
    ) throws -> SymmetricKey {
        try checkLength(outputByteCount)
        switch self {
        case .sha256:
            return HKDF<SHA256>.deriveKey(inputKeyMaterial: inputKeyMaterial, salt: salt, info: info, outputByteCount: outputByteCount)
        case .sha512:
            return HKDF<SHA512>.deriveKey(inputKeyMaterial: inputKeyMaterial, salt: salt, info: info, outputByteCount: outputByteCount)
        }
    }

    /// Expand only, for input keys that are already uniformly random (as in C2SP chunked
    /// encryption, where skipping Extract keeps the derivation an SP 800-108 feedback KDF).
    public func expand(
        pseudoRandomKey: SymmetricKey, info: some DataProtocol, outputByteCount: Int
    ) throws -> SymmetricKey {
        try checkLength(outputByteCount)
        return pseudoRandomKey.withUnsafeBytes { prk in
            switch self {
            case .sha256:
                HKDF<SHA256>.expand(pseudoRandomKey: prk, info: info, outputByteCount: outputByteCount)
            case .sha512:
                HKDF<SHA512>.expand(pseudoRandomKey: prk, info: info, outputByteCount: outputByteCount)
            }
        }
    }

    private func checkLength(_ count: Int) throws {
        guard count >= 1, count <= 255 * hashByteCount else {
            throw CofferCryptoError(.invalidParameter, detail: "HKDF output length")
        }
    }
}
