/// A reference to a secret key object held by the token.
///
/// This is only a handle: the key material itself never leaves the token.
/// A key is usable only with the ``PKCS11Session`` that found or generated
/// it; other sessions reject it with ``PKCS11Error/Code/invalidArgument``.
public struct PKCS11Key: Sendable, Hashable {
    /// The key's `CKA_LABEL`.
    public let label: String
    let handle: UInt
    let sessionSerial: UInt64
}

/// Security-relevant attributes of a key, as reported by the token.
public struct PKCS11KeyProperties: Sendable, Equatable {
    /// `CKA_SENSITIVE`: the token refuses to reveal the key value in plaintext.
    public let isSensitive: Bool
    /// `CKA_EXTRACTABLE`: the key may be exported (wrapped) at all.
    public let isExtractable: Bool
    /// `CKA_VALUE_LEN`: key length in bytes (32 for AES-256).
    public let valueLength: Int
    /// Whether `C_GetAttributeValue(CKA_VALUE)` succeeds. Determined with a
    /// length-only query, so no key bytes are transferred even if it does.
    public let valueIsReadable: Bool

    /// The key is sensitive, not extractable and its value cannot be read:
    /// what Coffer requires of its root key.
    public var staysInsideToken: Bool {
        isSensitive && !isExtractable && !valueIsReadable
    }
}
