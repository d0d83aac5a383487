/// Coffer's envelope: one small message (up to ``maximumPlaintextByteCount``) sealed under a fresh
/// data key, the data key sealed under a key-encryption key.
///
/// ```
/// magic "C0 FF EE 45" || version 0x01 || algorithm (u8) || flags (u8)
/// || KeyReference (u8 idLength || id || u32 version) || WrappedKey (60)
/// || nonce (12) || ciphertext || tag (16)
/// ```
/// Two AEAD operations authenticate the whole header:
/// - the data key's wrap (AES-256-GCM-SIV under the KEK) binds every header byte before it —
///   magic, version, algorithm, flags and the key reference;
/// - the payload AEAD (the chosen algorithm, under the data key) binds the fixed header
///   (magic through flags) and the canonical ``EncryptionContext``.
/// The key reference and wrapped key are deliberately outside the payload's associated data: that
/// is what lets ``rewrapped(from:to:)`` move an envelope to a new key version without touching
/// the payload. Editing either of them makes the unwrap fail; moving a wrapped key into another
/// envelope yields a data key that cannot open that envelope's payload.
public struct Envelope: Hashable, Sendable {
    public static let magic: [UInt8] = [0xC0, 0xFF, 0xEE, 0x45]
    public static let version: UInt8 = 1
    /// Envelopes are for small messages; use ``StreamEncryptor`` for anything larger.
    public static let maximumPlaintextByteCount = 64 * 1024 * 1024
    static let compressedFlag: UInt8 = 0x01

    public let algorithm: AEADAlgorithm
    /// Whether the plaintext was zlib-compressed before encryption.
    public let isCompressed: Bool
    /// Which key-encryption key (name and version) protects the data key.
    public let keyReference: KeyReference
    let wrappedKey: WrappedKey
    let nonce: [UInt8]
    /// `ciphertext || tag`.
    let sealedPayload: [UInt8]

    var fixedHeader: [UInt8] {
        Envelope.magic + [Envelope.version, algorithm.rawValue, isCompressed ? Envelope.compressedFlag : 0]
    }

    /// The header bytes bound by the data-key wrap: fixed header plus key reference.
    var wrapBinding: [UInt8] {
        var bytes = fixedHeader
        keyReference.encode(into: &bytes)
        return bytes
    }

    func payloadAssociatedData(context: [UInt8]) -> [UInt8] {
        fixedHeader + context
    }

    /// The binary form.
    public var bytes: [UInt8] {
        wrapBinding + wrappedKey.bytes + nonce + sealedPayload
    }

    /// Parses the binary form. Anything malformed — wrong magic or version, an unknown algorithm,
    /// a set reserved flag bit, an invalid key reference, a short payload — is reported as the
    /// same authentication failure as a wrong key.
    public init(bytes: some Collection<UInt8>) throws {
        var reader = ByteReader(Array(bytes))
        guard reader.readBytes(4)?.elementsEqual(Envelope.magic) == true, reader.readByte() == Envelope.version,
            let algorithmByte = reader.readByte(), let algorithm = AEADAlgorithm(rawValue: algorithmByte),
            let flags = reader.readByte(), flags & ~Envelope.compressedFlag == 0,
            let reference = KeyReference.decode(from: &reader),
            let wrapped = reader.readBytes(WrappedKey.byteCount).flatMap(WrappedKey.init(bytes:)),
            let nonce = reader.readBytes(AEADAlgorithm.nonceByteCount),
            reader.remaining >= AEADAlgorithm.tagByteCount,
            reader.remaining <= Envelope.maximumPlaintextByteCount + AEADAlgorithm.tagByteCount
        else { throw CofferCryptoError.authenticationFailed }
        self.init(
            algorithm: algorithm, isCompressed: flags & Envelope.compressedFlag != 0, keyReference: reference,
            wrappedKey: wrapped, nonce: Array(nonce), sealedPayload: Array(reader.readRest()))
    }

    init(algorithm: AEADAlgorithm, isCompressed: Bool, keyReference: KeyReference, wrappedKey: WrappedKey, nonce: [UInt8], sealedPayload: [UInt8]) {
        self.algorithm = algorithm
        self.isCompressed = isCompressed
        self.keyReference = keyReference
        self.wrappedKey = wrappedKey
        self.nonce = nonce
        self.sealedPayload = sealedPayload
    }
}
