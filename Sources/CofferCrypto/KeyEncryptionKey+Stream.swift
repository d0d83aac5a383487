/// A key-encryption key as a stream recipient and identity: stanza type 0x01.
///
/// Body: `KeyReference || WrappedKey` — `u8 idLength || id || u32 version || nonce (12) ||
/// sealed input key (48)`, the wrap bound to the reference with the `stream-kek-stanza` domain.
/// Rewrapping a stream to a newer key version replaces this stanza and the header MAC only.
extension KeyEncryptionKey: Recipient, Identity {
    public func stanza(wrapping inputKey: DataKey) throws -> RecipientStanza {
        try stanza(wrapping: inputKey, nonce: randomBytes(AEADAlgorithm.nonceByteCount))
    }

    /// Deterministic stanza for the published test vectors (`coffer-vectors`).
    @_spi(Hazmat)
    public func stanza(wrapping inputKey: DataKey, nonce: [UInt8]) throws -> RecipientStanza {
        var body: [UInt8] = []
        reference.encode(into: &body)
        let wrapped = try WrappedKey.wrap(inputKey, under: self, domain: .streamStanza, binding: body, nonce: nonce)
        body.append(contentsOf: wrapped.bytes)
        return try RecipientStanza(kind: .keyEncryptionKey, body: body)
    }

    public func inputKey(from stanzas: [RecipientStanza]) throws -> DataKey? {
        for stanza in stanzas where stanza.kind == .keyEncryptionKey {
            guard let (reference, wrapped) = KeyEncryptionKey.parseStanzaBody(stanza.body) else {
                throw CofferCryptoError.authenticationFailed
            }
            guard reference == self.reference else { continue }
            var binding: [UInt8] = []
            reference.encode(into: &binding)
            return try wrapped.unwrap(using: self, domain: .streamStanza, binding: binding)
        }
        return nil
    }

    static func parseStanzaBody(_ body: [UInt8]) -> (KeyReference, WrappedKey)? {
        var reader = ByteReader(body)
        guard let reference = KeyReference.decode(from: &reader),
            let wrapped = WrappedKey(bytes: reader.readRest())
        else { return nil }
        return (reference, wrapped)
    }
}
