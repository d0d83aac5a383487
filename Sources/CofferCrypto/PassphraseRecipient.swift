/// Encrypts a stream to a passphrase: stanza type 0x02.
///
/// Body: `PasswordKDFRecord || WrappedKey` where the record MUST name scrypt and the wrap uses
/// the derived key with domain `stream-passphrase-stanza` and binding = the record's bytes, so
/// the cost parameters and salt cannot be edited without failing the unwrap. scrypt rather than
/// PBKDF2 because it is memory-hard: a GPU farm gains far less against it.
public struct PassphraseRecipient: Recipient {
    let passphrase: Passphrase
    let parameters: PasswordKDFParameters

    /// Throws if `parameters` is not scrypt or is weaker than Coffer accepts for new data.
    public init(passphrase: Passphrase, parameters: PasswordKDFParameters = .defaultScrypt) throws {
        guard case .scrypt = parameters else {
            throw CofferCryptoError(.invalidParameter, detail: "passphrase stanzas use scrypt")
        }
        try parameters.validateForNewData()
        self.passphrase = passphrase
        self.parameters = parameters
    }

    public func stanza(wrapping inputKey: DataKey) throws -> RecipientStanza {
        let record = try PasswordKDFRecord.generate(parameters: parameters)
        let binding = record.encoded()
        let wrapped = try WrappedKey.wrap(
            inputKey, under: passphrase.deriveKey(record, limits: .default), domain: .streamPassphraseStanza,
            binding: binding, nonce: randomBytes(AEADAlgorithm.nonceByteCount))
        return try RecipientStanza(kind: .passphrase, body: binding + wrapped.bytes)
    }
}

/// Decrypts streams encrypted to a passphrase.
///
/// The recorded scrypt cost is checked against `limits` *before* any work, so a hostile file
/// cannot make the reader burn minutes of CPU or gigabytes of memory; such a stanza throws
/// ``CofferCryptoError/Code/workFactorTooHigh``. A wrong passphrase is indistinguishable from
/// any other failure to open.
public struct PassphraseIdentity: Identity {
    package let passphrase: Passphrase
    let limits: PasswordKDFLimits

    public init(passphrase: Passphrase, limits: PasswordKDFLimits = .default) {
        self.passphrase = passphrase
        self.limits = limits
    }

    public func inputKey(from stanzas: [RecipientStanza]) throws -> DataKey? {
        for stanza in stanzas where stanza.kind == .passphrase {
            var reader = ByteReader(stanza.body)
            guard let record = PasswordKDFRecord.decode(from: &reader), case .scrypt = record.parameters else {
                throw CofferCryptoError.authenticationFailed
            }
            let binding = Array(stanza.body[..<reader.offset])
            guard let wrapped = WrappedKey(bytes: reader.readRest()) else { throw CofferCryptoError.authenticationFailed }
            let key = try passphrase.deriveKey(record, limits: limits)
            if let inputKey = try? wrapped.unwrap(using: key, domain: .streamPassphraseStanza, binding: binding) {
                return inputKey
            }
        }
        return nil
    }
}
