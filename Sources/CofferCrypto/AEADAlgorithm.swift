import Crypto
import _CryptoExtras
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The authenticated ciphers Coffer uses, all from swift-crypto. The raw value is the byte written
/// into ciphertext headers; it never changes meaning.
///
/// Every algorithm here takes a 256-bit key, a 96-bit nonce and produces a 128-bit tag.
public enum AEADAlgorithm: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// AES-256-GCM: the default, hardware-accelerated nearly everywhere.
    case aes256GCM = 1
    /// ChaCha20-Poly1305 (RFC 8439): fast without AES instructions, constant time in software.
    case chacha20Poly1305 = 2
    /// AES-256-GCM-SIV (RFC 8452): nonce-misuse resistant; repeating a nonce reveals only
    /// whether two messages were identical.
    case aes256GCMSIV = 3

    public static let keyByteCount = 32
    public static let nonceByteCount = 12
    public static let tagByteCount = 16

    public var description: String {
        switch self {
        case .aes256GCM: "AES-256-GCM"
        case .chacha20Poly1305: "ChaCha20-Poly1305"
        case .aes256GCMSIV: "AES-256-GCM-SIV"
        }
    }

    /// Seals `plaintext`, returning `ciphertext || tag`.
    ///
    /// The nonce is the caller's responsibility here; Coffer's formats always use either a fresh
    /// random nonce or a fresh key per message, never a caller-chosen nonce under a long-lived key.
    public func seal(
        _ plaintext: some DataProtocol, using key: SymmetricKey, nonce: some DataProtocol,
        authenticating associatedData: some DataProtocol = [UInt8]()
    ) throws -> [UInt8] {
        try checkSizes(key: key, nonceCount: nonce.count)
        do {
            switch self {
            // `ciphertext || tag` in one allocation: the boxes keep `nonce || ciphertext || tag`
            // (`combined`), and small messages (envelopes, wrapped keys) feel every extra copy.
            case .aes256GCM:
                let box = try AES.GCM.seal(plaintext, using: key, nonce: AES.GCM.Nonce(data: nonce), authenticating: associatedData)
                // `combined` exists for 12-byte nonces, the only size `checkSizes` lets through.
                guard let combined = box.combined else { throw CofferCryptoError(.internalFailure) }
                return Array(combined.dropFirst(Self.nonceByteCount))
            case .chacha20Poly1305:
                let box = try ChaChaPoly.seal(plaintext, using: key, nonce: ChaChaPoly.Nonce(data: nonce), authenticating: associatedData)
                return Array(box.combined.dropFirst(Self.nonceByteCount))
            case .aes256GCMSIV:
                let box = try AES.GCM._SIV.seal(plaintext, using: key, nonce: AES.GCM._SIV.Nonce(data: nonce), authenticating: associatedData)
                var sealed = [UInt8]()
                sealed.reserveCapacity(plaintext.count + Self.tagByteCount)
                sealed.append(contentsOf: box.ciphertext)
                sealed.append(contentsOf: box.tag)
                return sealed
            }
        } catch {
            throw CofferCryptoError(.internalFailure)
        }
    }

    /// Opens `ciphertext || tag`. Any failure is ``CofferCryptoError/Code/authenticationFailed``.
    public func open(
        _ ciphertextAndTag: some DataProtocol, using key: SymmetricKey, nonce: some DataProtocol,
        authenticating associatedData: some DataProtocol = [UInt8]()
    ) throws -> [UInt8] {
        try checkSizes(key: key, nonceCount: nonce.count)
        let combined = Array(ciphertextAndTag)
        guard combined.count >= AEADAlgorithm.tagByteCount else { throw CofferCryptoError.authenticationFailed }
        let split = combined.count - AEADAlgorithm.tagByteCount
        let ciphertext = combined[..<split]
        let tag = combined[split...]
        do {
            switch self {
            case .aes256GCM:
                let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: nonce), ciphertext: ciphertext, tag: tag)
                return Array(try AES.GCM.open(box, using: key, authenticating: associatedData))
            case .chacha20Poly1305:
                let box = try ChaChaPoly.SealedBox(nonce: ChaChaPoly.Nonce(data: nonce), ciphertext: ciphertext, tag: tag)
                return Array(try ChaChaPoly.open(box, using: key, authenticating: associatedData))
            case .aes256GCMSIV:
                let box = try AES.GCM._SIV.SealedBox(nonce: AES.GCM._SIV.Nonce(data: nonce), ciphertext: ciphertext, tag: tag)
                return Array(try AES.GCM._SIV.open(box, using: key, authenticating: associatedData))
            }
        } catch {
            throw CofferCryptoError.authenticationFailed
        }
    }

    private func checkSizes(key: SymmetricKey, nonceCount: Int) throws {
        guard key.bitCount == AEADAlgorithm.keyByteCount * 8 else { throw CofferCryptoError(.invalidKeySize) }
        guard nonceCount == AEADAlgorithm.nonceByteCount else {
            throw CofferCryptoError(.invalidParameter, detail: "nonce must be 12 bytes")
        }
    }
}
