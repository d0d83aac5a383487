/// Decrypts any byte range of a Coffer stream, reading only the header and the chunks that cover
/// the range.
///
/// Creating it checks the header MAC and the key commitment. ``plaintextCount`` is computed from
/// the ciphertext length; it is authenticated (by opening the final chunk) whenever a read
/// reaches the end of the message, or explicitly by ``authenticatedPlaintextCount()``. A read of
/// a range ending earlier checks only the chunks it covers.
public struct StreamRandomAccessDecryptor<Source: RandomAccessCiphertext> {
    private let message: ChunkedMessageReader<Source>

    public init(source: Source, identities: [any Identity], context: EncryptionContext = .empty) throws {
        let headerBytes = try source.read(from: 0, count: min(source.count, StreamHeader.maximumByteCount))
        let (header, headerCount) = try StreamHeader.parse(headerBytes)
        let inputKey = try header.unwrapInputKey(with: identities)
        message = try ChunkedMessageReader(
            source: source, offset: headerCount, inputKey: inputKey.symmetricKey, context: try context.canonicalEncoding())
    }

    /// Plaintext length implied by the ciphertext length (see ``authenticatedPlaintextCount()``).
    public var plaintextCount: Int { message.plaintextCount }

    /// Opens the final chunk, proving the stream was neither truncated nor extended.
    public func authenticatedPlaintextCount() throws -> Int { try message.authenticatedPlaintextCount() }

    /// The plaintext bytes in `range`.
    public func read(_ range: Range<Int>) throws -> [UInt8] { try message.read(range) }
}
