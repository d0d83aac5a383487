/// Key ring files: a ``KeyRing`` as stored on disk, always encrypted.
///
/// ```
/// "coffer-key-ring: " || name || LF || armored Coffer stream
/// ```
/// The stream (Format 2, armored) holds the ring's serialized form and is encrypted to a
/// passphrase (``PassphraseRecipient``) or a wrapping key (a ``KeyEncryptionKey``, see
/// ``WrappingKey``) — exactly how ``IdentityFile`` stores private keys, so no new
/// cryptography is involved. Its encryption context is
/// `coffer.content = key-ring, coffer.key-ring = <name>`:
/// - an identity file or an ordinary encrypted file cannot be passed off as a ring, nor a ring
///   as either;
/// - the name is authenticated: editing the clear label makes the file fail to open, and a
///   caller that says which ring it expects (`expectedName`) cannot be handed another ring's
///   file encrypted under the same passphrase or wrapping key.
///
/// The clear label is there so tools can say which ring a file holds without a secret; the name
/// is public anyway (every envelope header carries it).
public enum KeyRingFile {
    public static let labelPrefix = "coffer-key-ring: "

    /// The encryption context binding a ring file to its ring's name.
    public static func context(for name: KeyIdentifier) -> EncryptionContext {
        ["coffer.content": "key-ring", "coffer.key-ring": name.rawValue]
    }

    /// Encrypts `ring` to `recipients` (a passphrase or a wrapping key; any ``Recipient`` works).
    public static func seal(_ ring: KeyRing, to recipients: [any Recipient]) throws -> [UInt8] {
        var body = ring.encoded()
        defer { wipe(&body) }
        let stream = try CofferStream.seal(body, to: recipients, context: context(for: ring.name))
        return Array((labelPrefix + ring.name.rawValue + "\n").utf8) + Armor.encode(stream)
    }

    /// The ring name on the file's first line. **Unauthenticated** until ``open(_:with:expectedName:)``
    /// succeeds; for display and for choosing what to expect.
    ///
    /// - Throws: ``CofferCryptoError/Code/invalidKeyRing`` if the file does not start with a
    ///   well-formed label line.
    public static func name(of file: [UInt8]) throws -> KeyIdentifier {
        try split(file).name
    }

    /// Decrypts a ring file with `unlockers` (a ``PassphraseIdentity`` or the wrapping
    /// ``KeyEncryptionKey``).
    ///
    /// - Parameter expectedName: the ring the caller means to load; a file for any other ring
    ///   fails. Pass it whenever the caller knows the name.
    /// - Throws: ``CofferCryptoError/Code/authenticationFailed`` for a wrong passphrase or key,
    ///   a tampered file (label included), or another ring's file;
    ///   ``CofferCryptoError/Code/workFactorTooHigh`` for a hostile scrypt cost;
    ///   ``CofferCryptoError/Code/invalidKeyRing`` for a file without a label line, or an
    ///   authentic file whose contents are malformed.
    public static func open(
        _ file: [UInt8], with unlockers: [any Identity], expectedName: KeyIdentifier? = nil
    ) throws -> KeyRing {
        let (name, armored) = try split(file)
        if let expectedName, expectedName != name { throw CofferCryptoError.authenticationFailed }
        let stream: [UInt8]
        do { stream = try Armor.decode(armored) } catch { throw CofferCryptoError.authenticationFailed }
        var body = try CofferStream.open(stream, with: unlockers, context: context(for: name))
        defer { wipe(&body) }
        let ring = try KeyRing(encoded: body)
        guard ring.name == name else {
            throw CofferCryptoError(.invalidKeyRing, detail: "the ring inside is not the ring the file is sealed for")
        }
        return ring
    }

    /// The scrypt parameters of the file's passphrase stanza, if it has one, so a tool that
    /// rewrites the file (after a rotation) can keep the cost the file was created with. Not
    /// authenticated; ``PassphraseRecipient`` still refuses costs too weak for new data.
    public static func recordedPassphraseParameters(_ file: [UInt8]) -> PasswordKDFParameters? {
        guard let (_, armored) = try? split(file), let stream = try? Armor.decode(armored),
            let (header, _) = try? StreamHeader.parse(stream),
            let stanza = header.stanzas.first(where: { $0.kind == .passphrase })
        else { return nil }
        var reader = ByteReader(stanza.body)
        return PasswordKDFRecord.decode(from: &reader)?.parameters
    }

    /// Splits the label line from the armored stream.
    static func split(_ file: [UInt8]) throws -> (name: KeyIdentifier, armored: [UInt8]) {
        let prefix = Array(labelPrefix.utf8)
        let maximumLine = prefix.count + KeyIdentifier.maximumLength
        guard file.starts(with: prefix), let newline = file.prefix(maximumLine + 1).firstIndex(of: 0x0A),
            let name = KeyIdentifier(validating: file[prefix.count..<newline])
        else { throw CofferCryptoError(.invalidKeyRing, detail: "not a key ring file") }
        return (name, Array(file[(newline + 1)...]))
    }

    private static func wipe(_ bytes: inout [UInt8]) {
        _ = bytes.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) }
    }
}
