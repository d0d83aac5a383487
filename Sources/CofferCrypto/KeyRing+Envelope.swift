/// Sealing, opening and rewrapping envelopes with a ``KeyRing``.
extension KeyRing: KeyEncryptionKeyResolving {
    /// Seals `plaintext` under the primary version with the ring's algorithm and compression.
    public func seal(_ plaintext: some Collection<UInt8>, context: EncryptionContext = .empty) throws -> Envelope {
        // The primary always holds its key (an invariant), so this cannot be nil.
        try Envelope.seal(plaintext, using: primary.material!, context: context, options: settings.envelopeOptions)
    }

    /// Opens an envelope sealed by any version of this ring that is active or decrypt-only.
    ///
    /// Failures:
    /// - ``CofferCryptoError/Code/keyVersionUnavailable`` when the envelope names a version of
    ///   this ring that is **disabled or destroyed**. This is a distinct code on purpose, and it
    ///   is no oracle: the key reference is written in clear in every envelope header, the check
    ///   compares only that public reference with the ring's states, and it happens before any
    ///   key touches the ciphertext, so it says nothing about whether the rest of the envelope is
    ///   authentic. What it does tell an operator — "something still needs v2, which you
    ///   disabled" — is the whole point of disabling before destroying.
    /// - ``CofferCryptoError/Code/authenticationFailed`` for everything else: another ring's
    ///   name, a version this ring never had, a wrong context, any tampering. An unknown version
    ///   is indistinguishable from a forged header, so it gets the forgery's error.
    public func open(
        _ envelope: Envelope, context: EncryptionContext = .empty, limits: EnvelopeOpenLimits = .default
    ) throws -> [UInt8] {
        // An envelope in the recipient form names no single key; its key-encryption-key stanzas
        // are resolved through this ring (unusable versions resolve to nothing).
        guard let reference = envelope.keyReference else { return try envelope.open(using: self, context: context, limits: limits) }
        return try envelope.open(using: try usableKey(for: reference), context: context, limits: limits)
    }

    /// The same envelope with its data key moved to the primary version; the payload bytes are
    /// unchanged and the context is not needed. An envelope already under the primary is
    /// returned as is. Fails like ``open(_:context:limits:)`` when the named version is not usable.
    public func rewrap(_ envelope: Envelope) throws -> Envelope {
        guard let reference = envelope.keyReference else {
            throw CofferCryptoError(.invalidParameter, detail: "the envelope is sealed to recipients; rewrap it with Envelope.rewrapped(to:using:)")
        }
        let old = try usableKey(for: reference)
        guard old.reference != primary.material!.reference else { return envelope }
        return try envelope.rewrapped(from: old, to: primary.material!)
    }

    /// The key for `reference` if this ring holds that version in a state that allows
    /// decryption; `nil` otherwise (another ring, an unknown, disabled or destroyed version).
    /// Generic callers (``Envelope/open(using:context:limits:)``, a stream's identities) thus
    /// see every unusable version as the one authentication error.
    public func keyEncryptionKey(for reference: KeyReference) throws -> KeyEncryptionKey? {
        guard reference.identifier == name, let entry = version(reference.version), entry.state.allowsDecryption else { return nil }
        return entry.material
    }

    private func usableKey(for reference: KeyReference) throws -> KeyEncryptionKey {
        guard reference.identifier == name, let entry = version(reference.version) else {
            throw CofferCryptoError.authenticationFailed
        }
        guard entry.state.allowsDecryption, let key = entry.material else {
            throw CofferCryptoError(.keyVersionUnavailable, detail: "\(reference) is \(entry.state)")
        }
        return key
    }
}
