/// Someone a stream or an envelope can be encrypted to: turns the stream's input key (or the
/// envelope's data key) into a stanza.
///
/// Implementations: ``KeyEncryptionKey``, ``PassphraseRecipient``, ``X25519Recipient``,
/// ``XWingRecipient``, ``RSARecipient``. Two small protocols carry all extensibility (as in age);
/// there is no registry.
public protocol Recipient: Sendable {
    func stanza(wrapping inputKey: DataKey) throws -> RecipientStanza
}

/// Someone who can decrypt: finds a stanza meant for it and recovers the input key.
///
/// Public-key and passphrase stanzas carry no recipient identifier (which would tell an observer
/// who a file is for), so an identity tries every stanza of its kind and treats one that does not
/// open as "not mine". Only a stanza that names this identity explicitly (a key-encryption key's
/// reference) and still fails to open is an error. Either way the caller ends with the one
/// authentication error when no identity yields a key whose header MAC verifies.
public protocol Identity: Sendable {
    /// Returns the input key, or `nil` if no stanza is for this identity.
    func inputKey(from stanzas: [RecipientStanza]) throws -> DataKey?
}
