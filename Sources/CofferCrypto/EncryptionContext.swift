/// Caller-supplied key–value pairs bound to a ciphertext as associated data.
///
/// The context is not stored in the ciphertext: whoever decrypts must present the same pairs
/// again, which lets a service tie a ciphertext to, say, a tenant or a record id so that it cannot
/// be replayed elsewhere. Order does not matter; bytes do: keys and values are compared as their
/// exact UTF-8 bytes, with no Unicode normalization.
///
/// Canonical encoding (the associated data actually authenticated), big-endian lengths:
/// ```
/// u16 count || for each pair, sorted by the key's UTF-8 bytes:
///     u16 keyLength (1…1024) || key || u16 valueLength (0…65535) || value
/// ```
/// An empty context encodes as `00 00`.
public struct EncryptionContext: Hashable, Sendable, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    public static let maximumKeyLength = 1024
    public static let maximumEntries = 256

    public let entries: [String: String]

    public static let empty = EncryptionContext()

    public init(_ entries: [String: String] = [:]) {
        self.entries = entries
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.entries = Dictionary(elements, uniquingKeysWith: { _, last in last })
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// The canonical byte encoding; throws for contexts that cannot be encoded.
    public func canonicalEncoding() throws -> [UInt8] {
        guard entries.count <= Self.maximumEntries else { throw CofferCryptoError(.invalidContext, detail: "too many entries") }
        let pairs = entries.map { (Array($0.key.utf8), Array($0.value.utf8)) }
            .sorted { $0.0.lexicographicallyPrecedes($1.0) }
        var out: [UInt8] = []
        out.appendBigEndian(UInt16(pairs.count))
        var previous: [UInt8]? = nil
        for (key, value) in pairs {
            guard !key.isEmpty, key.count <= Self.maximumKeyLength, value.count <= Int(UInt16.max) else {
                throw CofferCryptoError(.invalidContext, detail: "key must be 1…1024 bytes, value at most 65535")
            }
            // Canonically-equivalent Swift strings can be distinct dictionary keys only if their
            // bytes differ, so equal byte keys here mean an ambiguous context: refuse it.
            guard previous != key else { throw CofferCryptoError(.invalidContext, detail: "duplicate key") }
            previous = key
            out.appendBigEndian(UInt16(key.count))
            out.append(contentsOf: key)
            out.appendBigEndian(UInt16(value.count))
            out.append(contentsOf: value)
        }
        return out
    }

    /// Only the number of pairs: keys and values may be sensitive.
    public var description: String { "EncryptionContext(\(entries.count) pairs)" }
}
