import Crypto

/// The header in front of every Coffer stream:
/// ```
/// magic "C0 FF EE 53" || version 0x01 || u8 stanzaCount (≥ 1) || stanza… || mac (32)
/// mac = HMAC-SHA-256(key = HKDF-Expand-SHA-256(input key, "coffer/v1/stream-header-mac", 32),
///                    message = every header byte before the mac)
/// ```
/// The MAC is keyed from the stream's input key, so only someone who can open a stanza can
/// produce it, and no stanza can be added, removed, reordered or edited without detection.
/// Stanzas wrap the input key only; the payload never depends on them, which is what lets a
/// rewrap replace stanzas and the MAC without touching a byte of the payload.
public struct StreamHeader: Hashable, Sendable {
    public static let magic: [UInt8] = [0xC0, 0xFF, 0xEE, 0x53]
    public static let version: UInt8 = 1
    public static let macByteCount = 32
    /// Headers larger than this are refused, so a reader's buffer stays bounded.
    public static let maximumByteCount = 64 * 1024

    public let stanzas: [RecipientStanza]
    let mac: [UInt8]

    /// Writes a header for `inputKey` with one stanza per recipient.
    static func make(inputKey: DataKey, stanzas: [RecipientStanza]) throws -> (header: StreamHeader, bytes: [UInt8]) {
        guard StreamHeader.passphraseStandsAlone(stanzas) else {
            throw CofferCryptoError(.invalidParameter, detail: "a passphrase must be a stream's only recipient")
        }
        guard !stanzas.isEmpty, stanzas.count <= Int(UInt8.max) else {
            throw CofferCryptoError(.invalidParameter, detail: "a stream needs 1…255 recipients")
        }
        var bytes = unauthenticatedBytes(stanzas)
        guard bytes.count + macByteCount <= maximumByteCount else { throw CofferCryptoError(.messageTooLarge, detail: "header") }
        let mac = try computeMAC(inputKey: inputKey, over: bytes)
        bytes.append(contentsOf: mac)
        return (StreamHeader(stanzas: stanzas, mac: mac), bytes)
    }

    private static func unauthenticatedBytes(_ stanzas: [RecipientStanza]) -> [UInt8] {
        var bytes = magic + [version, UInt8(stanzas.count)]
        for stanza in stanzas { stanza.encode(into: &bytes) }
        return bytes
    }

    static func macKey(inputKey: DataKey) throws -> SymmetricKey {
        try HKDFHash.sha256.expand(
            pseudoRandomKey: inputKey.symmetricKey, info: Array("coffer/v1/stream-header-mac".utf8), outputByteCount: 32)
    }

    private static func computeMAC(inputKey: DataKey, over bytes: [UInt8]) throws -> [UInt8] {
        let macKey = try macKey(inputKey: inputKey)
        return HMACHash.sha256.authenticationCode(for: bytes, using: macKey)
    }

    /// The serialized header.
    public var bytes: [UInt8] { StreamHeader.unauthenticatedBytes(stanzas) + mac }

    /// Outcome of trying to parse a header from the start of a stream.
    enum ParseResult {
        /// The header is at least this many bytes long in total; parse again once they arrive.
        case needMoreBytes(total: Int)
        case complete(StreamHeader, byteCount: Int)
    }

    /// Parses a header from a stream's first bytes. Any malformation — wrong magic or version,
    /// zero stanzas, stanza type 0, a header longer than ``maximumByteCount`` — is an
    /// authentication failure, like every other problem with a ciphertext. When bytes are missing
    /// it says exactly how many the header needs, so a reader fed one byte at a time parses only
    /// a handful of times instead of once per byte.
    static func parse(prefix: [UInt8]) throws -> ParseResult {
        func need(_ total: Int) throws -> ParseResult {
            guard total <= maximumByteCount else { throw CofferCryptoError.authenticationFailed }
            return .needMoreBytes(total: total)
        }
        let fixed = magic.count + 2
        guard prefix.count >= fixed else { return try need(fixed) }
        var reader = ByteReader(prefix)
        guard reader.readBytes(magic.count)!.elementsEqual(magic), reader.readByte() == version,
            let count = reader.readByte(), count >= 1
        else { throw CofferCryptoError.authenticationFailed }
        var stanzas: [RecipientStanza] = []
        for _ in 0..<count {
            let start = reader.offset
            guard prefix.count >= start + 3 else { return try need(start + 3) }
            let bodyLength = Int(prefix[start + 1]) << 8 | Int(prefix[start + 2])
            guard prefix.count >= start + 3 + bodyLength else { return try need(start + 3 + bodyLength) }
            guard let stanza = RecipientStanza.decode(from: &reader) else { throw CofferCryptoError.authenticationFailed }
            stanzas.append(stanza)
        }
        guard let mac = reader.readBytes(macByteCount) else { return try need(reader.offset + macByteCount) }
        guard reader.offset <= maximumByteCount, passphraseStandsAlone(stanzas) else { throw CofferCryptoError.authenticationFailed }
        return .complete(StreamHeader(stanzas: stanzas, mac: Array(mac)), byteCount: reader.offset)
    }

    /// A passphrase stanza must be the only stanza (as in age, and as in the envelope). Each costs
    /// a reader one scrypt run at the recorded cost before it can tell whether it opens, so a
    /// hostile header packed with passphrase stanzas at the cost limit would make a reader burn
    /// minutes; and a passphrase file should not silently also open for a key holder.
    static func passphraseStandsAlone(_ stanzas: [RecipientStanza]) -> Bool {
        stanzas.count <= 1 || !stanzas.contains { $0.kind == .passphrase }
    }

    /// Parses the header at the start of a stream's first bytes, or returns `nil` when more bytes
    /// are needed (so a reader can look at the stanzas, e.g. to ask for a passphrase only when
    /// the stream has a passphrase stanza, before decrypting). Throws for a malformed header.
    public static func peek(_ prefix: [UInt8]) throws -> (header: StreamHeader, byteCount: Int)? {
        switch try parse(prefix: prefix) {
        case .needMoreBytes: return nil
        case .complete(let header, let count): return (header, count)
        }
    }

    /// Parses a complete header from the start of `bytes`; returns it and its length.
    public static func parse(_ bytes: [UInt8]) throws -> (header: StreamHeader, byteCount: Int) {
        switch try parse(prefix: Array(bytes.prefix(maximumByteCount))) {
        case .needMoreBytes: throw CofferCryptoError.authenticationFailed
        case .complete(let header, let count): return (header, count)
        }
    }

    /// Recovers the input key with the first identity that has a stanza here, then checks the
    /// MAC in constant time. A header no identity can open, or whose MAC fails, is one error.
    public func unwrapInputKey(with identities: [any Identity]) throws -> DataKey {
        for identity in identities {
            guard let key = try identity.inputKey(from: stanzas) else { continue }
            let macKey = try StreamHeader.macKey(inputKey: key)
            guard mac.count == StreamHeader.macByteCount,
                HMACHash.sha256.isValid(mac, for: StreamHeader.unauthenticatedBytes(stanzas), using: macKey)
            else {
                throw CofferCryptoError.authenticationFailed
            }
            return key
        }
        throw CofferCryptoError.authenticationFailed
    }

    /// A new header for the same input key with `old`'s stanza replaced by one for `new` (for
    /// example the next version of the same key). Other stanzas are kept byte for byte. The
    /// payload is untouched, so rewrapping costs the same for a 1 KiB file and a 1 TiB object.
    public func rewrapped(from old: KeyEncryptionKey, to new: KeyEncryptionKey) throws -> StreamHeader {
        let inputKey = try unwrapInputKey(with: [old])
        var replaced = false
        let newStanzas = try stanzas.map { stanza -> RecipientStanza in
            guard !replaced, stanza.kind == .keyEncryptionKey,
                KeyEncryptionKey.parseStanzaBody(stanza.body)?.0 == old.reference
            else { return stanza }
            replaced = true
            return try new.stanza(wrapping: inputKey)
        }
        return try StreamHeader.make(inputKey: inputKey, stanzas: newStanzas).header
    }

    /// A new header for the same input key with the given recipients added (for example a
    /// second key, or a recovery key), keeping existing stanzas.
    public func adding(_ recipients: [any Recipient], using identity: any Identity) throws -> StreamHeader {
        let inputKey = try unwrapInputKey(with: [identity])
        let added = try recipients.map { try $0.stanza(wrapping: inputKey) }
        return try StreamHeader.make(inputKey: inputKey, stanzas: stanzas + added).header
    }
}
