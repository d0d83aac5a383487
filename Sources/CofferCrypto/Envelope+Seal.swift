extension Envelope {
    /// Seals `plaintext` under a fresh random data key, itself sealed under `kek`.
    public static func seal(
        _ plaintext: some Collection<UInt8>, using kek: KeyEncryptionKey, context: EncryptionContext = .empty,
        options: EnvelopeOptions = EnvelopeOptions()
    ) throws -> Envelope {
        // One draw from the CSPRNG for the data key and both nonces: envelopes are small, so
        // the per-call cost of the random source is a visible share of theirs.
        let (dataKey, nonces) = DataKey.generate(withRandomBytes: 2 * AEADAlgorithm.nonceByteCount)
        return try seal(
            Array(plaintext), using: kek, context: context, options: options, dataKey: dataKey,
            wrapNonce: Array(nonces[..<AEADAlgorithm.nonceByteCount]), nonce: Array(nonces[AEADAlgorithm.nonceByteCount...]))
    }

    /// Deterministic sealing for the published test vectors (`coffer-vectors`). Never reuse a
    /// data key or nonce outside of that.
    @_spi(Hazmat)
    public static func seal(
        _ plaintext: [UInt8], using kek: KeyEncryptionKey, context: EncryptionContext, options: EnvelopeOptions,
        dataKey: DataKey, wrapNonce: [UInt8], nonce: [UInt8]
    ) throws -> Envelope {
        let contextBytes = try context.canonicalEncoding()
        let (payload, compressed) = try preparePayload(plaintext, options: options)
        // The header first, so the wrap can bind it.
        let fixedHeader = Envelope.magic + [Envelope.version, options.algorithm.rawValue, compressed ? Envelope.compressedFlag : 0]
        let wrapped = try WrappedKey.wrap(
            dataKey, under: kek, domain: .envelope, binding: wrapBinding(fixedHeader: fixedHeader, reference: kek.reference),
            nonce: wrapNonce)
        let sealed = try options.algorithm.seal(
            payload, using: dataKey.symmetricKey, nonce: nonce, authenticating: fixedHeader + contextBytes)
        return Envelope(
            algorithm: options.algorithm, isCompressed: compressed, keyProtection: .keyEncryptionKey(kek.reference, wrapped),
            nonce: nonce, sealedPayload: sealed)
    }

    /// The bytes the payload AEAD seals: the plaintext, or its zlib stream when compression is
    /// on for this call, the plaintext reaches the threshold and the stream is actually shorter.
    static func preparePayload(_ plaintext: [UInt8], options: EnvelopeOptions) throws -> (payload: [UInt8], compressed: Bool) {
        guard plaintext.count <= maximumPlaintextByteCount else { throw CofferCryptoError(.messageTooLarge) }
        if case .zlib(let threshold) = options.compression, plaintext.count >= threshold {
            let deflated = try ZlibCompression.compress(plaintext)
            if deflated.count < plaintext.count { return (deflated, true) }
        }
        return (plaintext, false)
    }

    /// The plaintext of an authenticated payload, inflated if the envelope says it is compressed.
    func plaintext(fromAuthenticated payload: [UInt8], limits: EnvelopeOpenLimits) throws -> [UInt8] {
        guard isCompressed else { return payload }
        // The compressed bytes authenticated, so a failure here means a writer bug or a limit hit.
        guard let inflated = ZlibCompression.decompress(payload, limit: limits.maximumDecompressedByteCount) else {
            throw CofferCryptoError(.messageTooLarge, detail: "decompressed size limit or malformed zlib")
        }
        return inflated
    }

    /// Opens the envelope with `kek`, which must be the key version it names (or, for an
    /// envelope sealed to recipients, the version one of its key-encryption-key stanzas names),
    /// and the same context it was sealed with. Every failure is the one authentication error.
    public func open(
        using kek: KeyEncryptionKey, context: EncryptionContext = .empty, limits: EnvelopeOpenLimits = .default
    ) throws -> [UInt8] {
        switch keyProtection {
        case .recipients:
            return try open(with: [kek], context: context, limits: limits)
        case .keyEncryptionKey(let reference, let wrapped):
            guard kek.reference == reference else { throw CofferCryptoError.authenticationFailed }
            let dataKey = try wrapped.unwrap(
                using: kek, domain: .envelope, binding: Envelope.wrapBinding(fixedHeader: fixedHeader, reference: reference))
            let payload = try algorithm.open(
                sealedPayload, using: dataKey.symmetricKey, nonce: nonce,
                authenticating: payloadAssociatedData(context: try context.canonicalEncoding()))
            return try plaintext(fromAuthenticated: payload, limits: limits)
        }
    }

    /// Opens with whichever key `keys` supplies for ``keyReference`` (or, for an envelope sealed
    /// to recipients, for the references its key-encryption-key stanzas name, in order).
    public func open(
        using keys: some KeyEncryptionKeyResolving, context: EncryptionContext = .empty, limits: EnvelopeOpenLimits = .default
    ) throws -> [UInt8] {
        switch keyProtection {
        case .keyEncryptionKey(let reference, _):
            guard let kek = try keys.keyEncryptionKey(for: reference) else { throw CofferCryptoError.authenticationFailed }
            return try open(using: kek, context: context, limits: limits)
        case .recipients(let header):
            var found: [KeyEncryptionKey] = []
            for stanza in header.stanzas where stanza.kind == .keyEncryptionKey {
                guard let (reference, _) = KeyEncryptionKey.parseStanzaBody(stanza.body) else { throw CofferCryptoError.authenticationFailed }
                if let kek = try keys.keyEncryptionKey(for: reference) { found.append(kek) }
            }
            return try open(with: found, context: context, limits: limits)
        }
    }

    /// The same envelope with its data key re-sealed under `new` (typically the next version of
    /// the same key). The payload bytes are unchanged. For an envelope sealed to recipients, the
    /// first stanza for `old` is replaced by one for `new` and the header MAC recomputed; other
    /// stanzas are kept byte for byte.
    public func rewrapped(from old: KeyEncryptionKey, to new: KeyEncryptionKey) throws -> Envelope {
        switch keyProtection {
        case .recipients(let header):
            return try rewrapped(header, from: old, to: new)
        case .keyEncryptionKey(let reference, let wrapped):
            guard old.reference == reference else { throw CofferCryptoError.authenticationFailed }
            let dataKey = try wrapped.unwrap(
                using: old, domain: .envelope, binding: Envelope.wrapBinding(fixedHeader: fixedHeader, reference: reference))
            let rewrapped = try WrappedKey.wrap(
                dataKey, under: new, domain: .envelope, binding: Envelope.wrapBinding(fixedHeader: fixedHeader, reference: new.reference))
            return Envelope(
                algorithm: algorithm, isCompressed: isCompressed, keyProtection: .keyEncryptionKey(new.reference, rewrapped),
                nonce: nonce, sealedPayload: sealedPayload)
        }
    }
}
