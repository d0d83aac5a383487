/// One entry of a stream header: the stream's input key wrapped for one reader.
///
/// Wire form: `u8 type || u16 bodyLength || body`. Readers skip stanzas whose type they do not
/// know (a newer writer may add recipients an older reader cannot use), but every stanza, known or
/// not, is covered by the header MAC.
public struct StreamStanza: Hashable, Sendable {
    /// Stanza types. Values are never reused.
    public struct Kind: RawRepresentable, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// The input key sealed under a ``KeyEncryptionKey`` (see ``WrappedKey``).
        public static let keyEncryptionKey = Kind(rawValue: 0x01)
        // Reserved for the recipients of later releases: 0x02 passphrase (scrypt),
        // 0x03 HPKE X25519, 0x04 HPKE X-Wing, 0x05 RSA-OAEP-SHA256.
    }

    public static let maximumBodyByteCount = Int(UInt16.max)

    public let kind: Kind
    public let body: [UInt8]

    public init(kind: Kind, body: [UInt8]) throws {
        guard kind.rawValue != 0, body.count <= StreamStanza.maximumBodyByteCount else {
            throw CofferCryptoError(.invalidParameter, detail: "stanza")
        }
        self.kind = kind
        self.body = body
    }

    func encode(into out: inout [UInt8]) {
        out.append(kind.rawValue)
        out.appendBigEndian(UInt16(body.count))
        out.append(contentsOf: body)
    }

    static func decode(from reader: inout ByteReader) -> StreamStanza? {
        guard let type = reader.readByte(), type != 0, let length = reader.readBigEndian(UInt16.self),
            let body = reader.readBytes(Int(length))
        else { return nil }
        return try? StreamStanza(kind: Kind(rawValue: type), body: Array(body))
    }
}

/// Someone a stream can be encrypted to: turns the stream's input key into a stanza.
public protocol StreamRecipient: Sendable {
    func stanza(wrapping inputKey: DataKey) throws -> StreamStanza
}

/// Someone who can decrypt: finds a stanza meant for it and recovers the input key.
public protocol StreamIdentity: Sendable {
    /// Returns the input key, or `nil` if no stanza is for this identity. Throws only when a
    /// stanza is addressed to this identity but does not open.
    func inputKey(from stanzas: [StreamStanza]) throws -> DataKey?
}
