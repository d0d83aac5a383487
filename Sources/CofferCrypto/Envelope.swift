/// Coffer's envelope: one small message (up to ``maximumPlaintextByteCount``) sealed under a fresh
/// data key, the data key sealed for whoever may read it. It has two forms, told apart by flag
/// bit 1 (which every header byte's authentication covers, so one form cannot pass as the other).
///
/// **Key-encryption-key form** (bit 1 clear) — one named key version protects the data key:
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
///
/// **Recipient form** (bit 1 set) — the data key is wrapped once per ``Recipient`` in the
/// stream format's stanzas, and a header MAC keyed from the data key covers every stanza; see
/// ``Envelope/seal(_:to:context:options:)`` and `docs/FORMAT.md`.
public struct Envelope: Hashable, Sendable {
    public static let magic: [UInt8] = [0xC0, 0xFF, 0xEE, 0x45]
    public static let version: UInt8 = 1
    /// Envelopes are for small messages; use ``StreamEncryptor`` for anything larger.
    public static let maximumPlaintextByteCount = 64 * 1024 * 1024
    static let compressedFlag: UInt8 = 0x01
    static let recipientsFlag: UInt8 = 0x02
    static let knownFlags: UInt8 = compressedFlag | recipientsFlag

    /// How the data key is protected: the two forms of the envelope.
    enum KeyProtection: Hashable, Sendable {
        /// `KeyReference || WrappedKey`.
        case keyEncryptionKey(KeyReference, WrappedKey)
        /// `u8 count || stanza… || mac (32)`.
        case recipients(EnvelopeRecipientHeader)
    }

    public let algorithm: AEADAlgorithm
    /// Whether the plaintext was zlib-compressed before encryption.
    public let isCompressed: Bool
    let keyProtection: KeyProtection
    let nonce: [UInt8]
    /// `ciphertext || tag`.
    let sealedPayload: [UInt8]

    /// Which key-encryption key (name and version) protects the data key, for an envelope in the
    /// key-encryption-key form; `nil` for one sealed to recipients (whose key-encryption-key
    /// stanzas, if any, are among ``stanzas``).
    public var keyReference: KeyReference? {
        guard case .keyEncryptionKey(let reference, _) = keyProtection else { return nil }
        return reference
    }

    /// The recipient stanzas of an envelope sealed to recipients, in order; empty for the
    /// key-encryption-key form. Public-key and passphrase stanzas name no one: look at their
    /// ``RecipientStanza/kind`` (for example to ask for a passphrase only when there is one).
    public var stanzas: [RecipientStanza] {
        guard case .recipients(let header) = keyProtection else { return [] }
        return header.stanzas
    }

    /// Whether the data key is sealed to recipient stanzas rather than one key-encryption key.
    public var isSealedToRecipients: Bool {
        if case .recipients = keyProtection { return true }
        return false
    }

    var wrappedKey: WrappedKey? {
        guard case .keyEncryptionKey(_, let wrapped) = keyProtection else { return nil }
        return wrapped
    }

    var flags: UInt8 {
        (isCompressed ? Envelope.compressedFlag : 0) | (isSealedToRecipients ? Envelope.recipientsFlag : 0)
    }

    var fixedHeader: [UInt8] {
        Envelope.magic + [Envelope.version, algorithm.rawValue, flags]
    }

    /// The header bytes bound by the data-key wrap of the key-encryption-key form: fixed header
    /// plus key reference.
    static func wrapBinding(fixedHeader: [UInt8], reference: KeyReference) -> [UInt8] {
        var bytes = fixedHeader
        reference.encode(into: &bytes)
        return bytes
    }

    func payloadAssociatedData(context: [UInt8]) -> [UInt8] {
        fixedHeader + context
    }

    /// Every byte before the nonce.
    var headerBytes: [UInt8] {
        switch keyProtection {
        case .keyEncryptionKey(let reference, let wrapped):
            Envelope.wrapBinding(fixedHeader: fixedHeader, reference: reference) + wrapped.bytes
        case .recipients(let header):
            header.authenticatedBytes(fixedHeader: fixedHeader) + header.mac
        }
    }

    /// The binary form.
    public var bytes: [UInt8] {
        let header = headerBytes
        var out: [UInt8] = []
        out.reserveCapacity(header.count + nonce.count + sealedPayload.count)
        out += header
        out += nonce
        out += sealedPayload
        return out
    }

    /// Parses the binary form. Anything malformed — wrong magic or version, an unknown algorithm,
    /// a set reserved flag bit, an invalid key reference, a malformed or oversized stanza list, a
    /// short payload — is reported as the same authentication failure as a wrong key.
    public init(bytes: some Collection<UInt8>) throws {
        var reader = ByteReader(Array(bytes))
        guard reader.readBytes(4)?.elementsEqual(Envelope.magic) == true, reader.readByte() == Envelope.version,
            let algorithmByte = reader.readByte(), let algorithm = AEADAlgorithm(rawValue: algorithmByte),
            let flags = reader.readByte(), flags & ~Envelope.knownFlags == 0
        else { throw CofferCryptoError.authenticationFailed }
        let protection: KeyProtection
        if flags & Envelope.recipientsFlag == 0 {
            guard let reference = KeyReference.decode(from: &reader),
                let wrapped = reader.readBytes(WrappedKey.byteCount).flatMap(WrappedKey.init(bytes:))
            else { throw CofferCryptoError.authenticationFailed }
            protection = .keyEncryptionKey(reference, wrapped)
        } else {
            protection = .recipients(try EnvelopeRecipientHeader.decode(from: &reader))
        }
        guard let nonce = reader.readBytes(AEADAlgorithm.nonceByteCount),
            reader.remaining >= AEADAlgorithm.tagByteCount,
            reader.remaining <= Envelope.maximumPlaintextByteCount + AEADAlgorithm.tagByteCount
        else { throw CofferCryptoError.authenticationFailed }
        self.init(
            algorithm: algorithm, isCompressed: flags & Envelope.compressedFlag != 0, keyProtection: protection,
            nonce: Array(nonce), sealedPayload: Array(reader.readRest()))
    }

    init(algorithm: AEADAlgorithm, isCompressed: Bool, keyProtection: KeyProtection, nonce: [UInt8], sealedPayload: [UInt8]) {
        self.algorithm = algorithm
        self.isCompressed = isCompressed
        self.keyProtection = keyProtection
        self.nonce = nonce
        self.sealedPayload = sealedPayload
    }
}
