/// One entry of a stream header: the stream's input key wrapped for one reader.
///
/// Wire form: `u8 type || u16 bodyLength || body`. Readers skip stanzas whose type they do not
/// know (a newer writer may add recipients an older reader cannot use), but every stanza, known or
/// not, is covered by the header MAC.
public struct RecipientStanza: Hashable, Sendable {
    /// Stanza types. Values are never reused.
    public struct Kind: RawRepresentable, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// The input key sealed under a ``KeyEncryptionKey`` (see ``WrappedKey``).
        public static let keyEncryptionKey = Kind(rawValue: 0x01)
        /// The input key sealed under a key derived from a passphrase with scrypt.
        public static let passphrase = Kind(rawValue: 0x02)
        /// The input key sealed with HPKE (RFC 9180) to an X25519 public key.
        public static let x25519 = Kind(rawValue: 0x03)
        /// The input key sealed with HPKE to an X-Wing (ML-KEM-768 + X25519) public key.
        public static let xwing = Kind(rawValue: 0x04)
        /// The input key encrypted with RSA-OAEP-SHA256 to an RSA public key.
        public static let rsaOAEP = Kind(rawValue: 0x05)
    }

    public static let maximumBodyByteCount = Int(UInt16.max)

    public let kind: Kind
    public let body: [UInt8]

    public init(kind: Kind, body: [UInt8]) throws {
        guard kind.rawValue != 0, body.count <= RecipientStanza.maximumBodyByteCount else {
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

    static func decode(from reader: inout ByteReader) -> RecipientStanza? {
        guard let type = reader.readByte(), type != 0, let length = reader.readBigEndian(UInt16.self),
            let body = reader.readBytes(Int(length))
        else { return nil }
        return try? RecipientStanza(kind: Kind(rawValue: type), body: Array(body))
    }
}
