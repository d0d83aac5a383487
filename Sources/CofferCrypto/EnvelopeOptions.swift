/// How ``Envelope/seal(_:using:context:options:)`` encrypts.
public struct EnvelopeOptions: Hashable, Sendable {
    public var algorithm: AEADAlgorithm
    public var compression: EnvelopeCompression

    public init(algorithm: AEADAlgorithm = .aes256GCM, compression: EnvelopeCompression = .disabled) {
        self.algorithm = algorithm
        self.compression = compression
    }
}

/// Whether to compress a plaintext before encrypting it.
///
/// Off by default, because compression makes the ciphertext length depend on the plaintext's
/// content, not just its length. When an attacker can get their own data encrypted next to a
/// secret (a cookie beside a reflected query string), watching lengths change reveals the secret
/// a byte at a time (CRIME, BREACH). Enable it only for data no attacker can influence.
public enum EnvelopeCompression: Hashable, Sendable {
    case disabled
    /// zlib at level 6 when the plaintext has at least `threshold` bytes; the compressed form is
    /// used only if it is actually smaller.
    case zlib(threshold: Int)
}

/// Limits applied when opening an envelope.
public struct EnvelopeOpenLimits: Hashable, Sendable {
    /// Largest plaintext a compressed envelope may inflate to (a decompression bomb stops here).
    public var maximumDecompressedByteCount: Int

    public static let `default` = EnvelopeOpenLimits(maximumDecompressedByteCount: Envelope.maximumPlaintextByteCount)

    public init(maximumDecompressedByteCount: Int) {
        self.maximumDecompressedByteCount = maximumDecompressedByteCount
    }
}
