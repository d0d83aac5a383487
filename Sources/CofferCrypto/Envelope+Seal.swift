extension Envelope {
    /// Seals `plaintext` under a fresh random data key, itself sealed under `kek`.
    public static func seal(
        _ plaintext: some Collection<UInt8>, using kek: KeyEncryptionKey, context: EncryptionContext = .empty,
        options: EnvelopeOptions = EnvelopeOptions()
    ) throws -> Envelope {
        // One draw from the CSPRNG for both nonces: envelopes are small, so per-call overhead
        // of the random source is a visible share of their cost.
        let nonces = randomBytes(2 * AEADAlgorithm.nonceByteCount)
        return try seal(
            Array(plaintext), using: kek, context: context, options: options, dataKey: .generate(),
            wrapNonce: Array(nonces[..<AEADAlgorithm.nonceByteCount]), nonce: Array(nonces[AEADAlgorithm.nonceByteCount...]))
    }

    /// Deterministic sealing for the published test vectors (`coffer-vectors`). Never reuse a
    /// data key or nonce outside of that.
    @_spi(Hazmat)
    public static func seal(
        _ plaintext: [UInt8], using kek: KeyEncryptionKey, context: EncryptionContext, options: EnvelopeOptions,
        dataKey: DataKey, wrapNonce: [UInt8], nonce: [UInt8]
    ) throws -> Envelope {
        guard plaintext.count <= maximumPlaintextByteCount else { throw CofferCryptoError(.messageTooLarge) }
        let contextBytes = try context.canonicalEncoding()
        var payload = plaintext
        var compressed = false
        if case .zlib(let threshold) = options.compression, plaintext.count >= threshold {
            let deflated = try ZlibCompression.compress(plaintext)
            if deflated.count < plaintext.count {
                payload = deflated
                compressed = true
            }
        }
        // Build the header first so the wrap can bind it.
        let draft = Envelope(
            algorithm: options.algorithm, isCompressed: compressed, keyReference: kek.reference,
            wrappedKey: WrappedKey(bytes: [UInt8](repeating: 0, count: WrappedKey.byteCount))!, nonce: nonce, sealedPayload: [])
        let wrapped = try WrappedKey.wrap(dataKey, under: kek, domain: .envelope, binding: draft.wrapBinding, nonce: wrapNonce)
        let sealed = try options.algorithm.seal(
            payload, using: dataKey.symmetricKey, nonce: nonce,
            authenticating: draft.payloadAssociatedData(context: contextBytes))
        return Envelope(
            algorithm: options.algorithm, isCompressed: compressed, keyReference: kek.reference,
            wrappedKey: wrapped, nonce: nonce, sealedPayload: sealed)
    }

    /// Opens the envelope with `kek`, which must be the key version it names, and the same
    /// context it was sealed with. Every failure is the one authentication error.
    public func open(
        using kek: KeyEncryptionKey, context: EncryptionContext = .empty, limits: EnvelopeOpenLimits = .default
    ) throws -> [UInt8] {
        guard kek.reference == keyReference else { throw CofferCryptoError.authenticationFailed }
        let dataKey = try wrappedKey.unwrap(using: kek, domain: .envelope, binding: wrapBinding)
        let payload = try algorithm.open(
            sealedPayload, using: dataKey.symmetricKey, nonce: nonce,
            authenticating: payloadAssociatedData(context: try context.canonicalEncoding()))
        guard isCompressed else { return payload }
        // The compressed bytes authenticated, so a failure here means a writer bug or a limit hit.
        guard let inflated = ZlibCompression.decompress(payload, limit: limits.maximumDecompressedByteCount) else {
            throw CofferCryptoError(.messageTooLarge, detail: "decompressed size limit or malformed zlib")
        }
        return inflated
    }

    /// Opens with whichever key `keys` supplies for ``keyReference``.
    public func open(
        using keys: some KeyEncryptionKeyResolving, context: EncryptionContext = .empty, limits: EnvelopeOpenLimits = .default
    ) throws -> [UInt8] {
        guard let kek = try keys.keyEncryptionKey(for: keyReference) else { throw CofferCryptoError.authenticationFailed }
        return try open(using: kek, context: context, limits: limits)
    }

    /// The same envelope with its data key re-sealed under `new` (typically the next version of
    /// the same key). The payload bytes are unchanged.
    public func rewrapped(from old: KeyEncryptionKey, to new: KeyEncryptionKey) throws -> Envelope {
        guard old.reference == keyReference else { throw CofferCryptoError.authenticationFailed }
        let dataKey = try wrappedKey.unwrap(using: old, domain: .envelope, binding: wrapBinding)
        let draft = Envelope(
            algorithm: algorithm, isCompressed: isCompressed, keyReference: new.reference,
            wrappedKey: wrappedKey, nonce: nonce, sealedPayload: sealedPayload)
        let wrapped = try WrappedKey.wrap(dataKey, under: new, domain: .envelope, binding: draft.wrapBinding)
        return Envelope(
            algorithm: algorithm, isCompressed: isCompressed, keyReference: new.reference,
            wrappedKey: wrapped, nonce: nonce, sealedPayload: sealedPayload)
    }
}
