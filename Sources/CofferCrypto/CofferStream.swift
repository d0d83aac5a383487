/// One-shot helpers over ``StreamEncryptor`` and ``StreamDecryptor`` for data already in memory.
public enum CofferStream {
    /// Encrypts `plaintext` to `recipients` as one Coffer stream.
    public static func seal(
        _ plaintext: [UInt8], to recipients: [any Recipient], context: EncryptionContext = .empty, concurrency: Int = 1
    ) throws -> [UInt8] {
        var encryptor = try StreamEncryptor(recipients: recipients, context: context, concurrency: concurrency)
        var output: [UInt8] = []
        output.reserveCapacity(plaintext.count + plaintext.count / 1000 + 4096)
        try encryptor.update(plaintext, into: &output)
        try encryptor.finish(into: &output)
        return output
    }

    /// Decrypts a whole Coffer stream; returns nothing unless every byte authenticates.
    public static func open(
        _ ciphertext: [UInt8], with identities: [any Identity], context: EncryptionContext = .empty, concurrency: Int = 1
    ) throws -> [UInt8] {
        var decryptor = try StreamDecryptor(identities: identities, context: context, concurrency: concurrency)
        var output: [UInt8] = []
        output.reserveCapacity(ciphertext.count)
        try decryptor.update(ciphertext, into: &output)
        try decryptor.finish(into: &output)
        return output
    }

    /// Replaces the header of a complete stream held in memory (see ``StreamHeader/rewrapped(from:to:)``).
    public static func rewrap(_ ciphertext: [UInt8], from old: KeyEncryptionKey, to new: KeyEncryptionKey) throws -> [UInt8] {
        let (header, count) = try StreamHeader.parse(ciphertext)
        return try header.rewrapped(from: old, to: new).bytes + ciphertext[count...]
    }
}
