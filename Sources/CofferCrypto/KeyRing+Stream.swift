/// A ``KeyRing`` as a stream recipient (its primary) and identity (any version allowed to
/// decrypt), so files encrypted with ``StreamEncryptor`` rotate the same way envelopes do:
/// rewrap the header with ``CofferStream/rewrap(_:from:to:)`` or keep the old version
/// decrypt-only.
extension KeyRing: Recipient, Identity {
    /// A key-encryption-key stanza (type 0x01) for the primary version.
    public func stanza(wrapping inputKey: DataKey) throws -> RecipientStanza {
        try primary.material!.stanza(wrapping: inputKey)
    }

    /// Opens the first key-encryption-key stanza naming a version of this ring that may decrypt.
    /// Stanzas for other keys, and for disabled or destroyed versions, are "not mine": the caller
    /// ends with the one authentication error if nothing else opens the stream.
    public func inputKey(from stanzas: [RecipientStanza]) throws -> DataKey? {
        for stanza in stanzas where stanza.kind == .keyEncryptionKey {
            guard let (reference, _) = KeyEncryptionKey.parseStanzaBody(stanza.body) else {
                throw CofferCryptoError.authenticationFailed
            }
            if let key = try keyEncryptionKey(for: reference) { return try key.inputKey(from: [stanza]) }
        }
        return nil
    }
}
