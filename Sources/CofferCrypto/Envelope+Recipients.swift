/// Envelopes sealed to recipients: public keys (``X25519Recipient``, ``XWingRecipient``,
/// ``RSARecipient``), key-encryption keys, or one passphrase, several at once.
///
/// ```
/// magic "C0 FF EE 45" || version 0x01 || algorithm (u8) || flags (u8, bit 1 set)
/// || u8 stanzaCount || stanza… || mac (32) || nonce (12) || ciphertext || tag (16)
/// payloadKey      = HKDF-Expand-SHA-256(dataKey, "coffer/v1/envelope-payload-key", 32)
/// ciphertext||tag = AEAD[algorithm](payloadKey, nonce, payload, aad = magic…flags || Context)
/// ```
/// The stanzas are the stream format's, made by the same ``Recipient`` and read by the same
/// ``Identity`` implementations; ``EnvelopeRecipientHeader`` explains the MAC.
extension Envelope {
    /// Seals `plaintext` under a fresh random data key, wrapped for each of `recipients` (1…255;
    /// a passphrase only alone). Any one matching ``Identity`` opens the result.
    ///
    /// Every recipient can read the message, and — as with any encryption without signatures —
    /// every recipient could also have written it: use signatures when authorship matters.
    public static func seal(
        _ plaintext: some Collection<UInt8>, to recipients: [any Recipient], context: EncryptionContext = .empty,
        options: EnvelopeOptions = EnvelopeOptions()
    ) throws -> Envelope {
        let plaintext = Array(plaintext)
        // Refuse early, before any public-key work.
        guard plaintext.count <= maximumPlaintextByteCount else { throw CofferCryptoError(.messageTooLarge) }
        guard (1...EnvelopeRecipientHeader.maximumStanzaCount).contains(recipients.count) else {
            throw CofferCryptoError(.invalidParameter, detail: "an envelope needs 1…255 recipients")
        }
        let dataKey = DataKey.generate()
        let stanzas = try recipients.map { try $0.stanza(wrapping: dataKey) }
        return try seal(
            plaintext, stanzas: stanzas, context: context, options: options, dataKey: dataKey,
            nonce: randomBytes(AEADAlgorithm.nonceByteCount))
    }

    /// Deterministic sealing for the published test vectors (`coffer-vectors`), from stanzas that
    /// already wrap `dataKey`. Never reuse a data key or nonce outside of that.
    @_spi(Hazmat)
    public static func seal(
        _ plaintext: [UInt8], stanzas: [RecipientStanza], context: EncryptionContext, options: EnvelopeOptions,
        dataKey: DataKey, nonce: [UInt8]
    ) throws -> Envelope {
        let contextBytes = try context.canonicalEncoding()
        let (payload, compressed) = try preparePayload(plaintext, options: options)
        let fixedHeader = Envelope.magic + [
            Envelope.version, options.algorithm.rawValue, (compressed ? Envelope.compressedFlag : 0) | Envelope.recipientsFlag,
        ]
        let header = try EnvelopeRecipientHeader.make(dataKey: dataKey, stanzas: stanzas, fixedHeader: fixedHeader)
        let sealed = try options.algorithm.seal(
            payload, using: EnvelopeRecipientHeader.payloadKey(dataKey: dataKey), nonce: nonce,
            authenticating: fixedHeader + contextBytes)
        return Envelope(
            algorithm: options.algorithm, isCompressed: compressed, keyProtection: .recipients(header), nonce: nonce,
            sealedPayload: sealed)
    }

    /// Opens the envelope with the first of `identities` that has a stanza in it, and the same
    /// context it was sealed with. Identities without a stanza here are skipped. Every failure —
    /// no matching identity, a stanza that does not open, an edited, added, dropped or reordered
    /// stanza, a wrong context, any flipped byte — is the one authentication error.
    ///
    /// An envelope in the key-encryption-key form opens with a ``KeyEncryptionKey`` among
    /// `identities` whose reference it names.
    public func open(
        with identities: [any Identity], context: EncryptionContext = .empty, limits: EnvelopeOpenLimits = .default
    ) throws -> [UInt8] {
        switch keyProtection {
        case .keyEncryptionKey(let reference, _):
            for case let kek as KeyEncryptionKey in identities where kek.reference == reference {
                return try open(using: kek, context: context, limits: limits)
            }
            throw CofferCryptoError.authenticationFailed
        case .recipients(let header):
            let contextBytes = try context.canonicalEncoding()
            let dataKey = try header.unwrapDataKey(with: identities, fixedHeader: fixedHeader)
            let payload = try algorithm.open(
                sealedPayload, using: EnvelopeRecipientHeader.payloadKey(dataKey: dataKey), nonce: nonce,
                authenticating: payloadAssociatedData(context: contextBytes))
            return try plaintext(fromAuthenticated: payload, limits: limits)
        }
    }

    /// Opens the envelope with one identity; see ``open(with:context:limits:)-(([any Identity],_,_)``.
    public func open(
        with identity: any Identity, context: EncryptionContext = .empty, limits: EnvelopeOpenLimits = .default
    ) throws -> [UInt8] {
        try open(with: [identity], context: context, limits: limits)
    }

    /// The same envelope sealed to `recipients` instead of its current ones, using `identities`
    /// to recover the data key. Only the stanzas and the MAC change; the payload bytes stay.
    ///
    /// Dropping a recipient this way does not revoke what it could already read: it held the
    /// data key, which still opens this payload. To shut a reader out, seal the plaintext anew.
    /// Throws ``CofferCryptoError/Code/invalidParameter`` for an envelope in the
    /// key-encryption-key form (use ``rewrapped(from:to:)`` there).
    public func rewrapped(to recipients: [any Recipient], using identities: [any Identity]) throws -> Envelope {
        guard case .recipients(let header) = keyProtection else {
            throw CofferCryptoError(.invalidParameter, detail: "not an envelope sealed to recipients")
        }
        guard (1...EnvelopeRecipientHeader.maximumStanzaCount).contains(recipients.count) else {
            throw CofferCryptoError(.invalidParameter, detail: "an envelope needs 1…255 recipients")
        }
        let dataKey = try header.unwrapDataKey(with: identities, fixedHeader: fixedHeader)
        return try replacingStanzas(recipients.map { try $0.stanza(wrapping: dataKey) }, dataKey: dataKey)
    }

    /// ``rewrapped(from:to:)`` for the recipient form: the first key-encryption-key stanza for
    /// `old` is replaced by one for `new`; the other stanzas stay byte for byte.
    func rewrapped(_ header: EnvelopeRecipientHeader, from old: KeyEncryptionKey, to new: KeyEncryptionKey) throws -> Envelope {
        let dataKey = try header.unwrapDataKey(with: [old], fixedHeader: fixedHeader)
        var replaced = false
        let stanzas = try header.stanzas.map { stanza -> RecipientStanza in
            guard !replaced, stanza.kind == .keyEncryptionKey,
                KeyEncryptionKey.parseStanzaBody(stanza.body)?.0 == old.reference
            else { return stanza }
            replaced = true
            return try new.stanza(wrapping: dataKey)
        }
        return try replacingStanzas(stanzas, dataKey: dataKey)
    }

    private func replacingStanzas(_ stanzas: [RecipientStanza], dataKey: DataKey) throws -> Envelope {
        let header = try EnvelopeRecipientHeader.make(dataKey: dataKey, stanzas: stanzas, fixedHeader: fixedHeader)
        return Envelope(
            algorithm: algorithm, isCompressed: isCompressed, keyProtection: .recipients(header), nonce: nonce,
            sealedPayload: sealedPayload)
    }
}
