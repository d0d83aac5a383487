import Crypto

/// The key part of an envelope sealed to recipients (flag bit 1):
/// ```
/// u8 stanzaCount (1…255) || stanza_1 || … || stanza_count || mac (32)
/// stanza = u8 type (≠ 0) || u16 bodyLength || body          (exactly the stream's stanzas)
/// mac    = HMAC-SHA-256(HKDF-Expand-SHA-256(dataKey, "coffer/v1/envelope-header-mac", 32),
///                       magic || version || algorithm || flags || stanzaCount || every stanza)
/// ```
/// Why a header MAC, rather than putting the stanzas into the payload's associated data:
/// - **Key commitment across recipients.** AES-GCM and ChaCha20-Poly1305 do not commit to their
///   key: a malicious sender can give two recipients different data keys under which one
///   ciphertext opens to two different plaintexts. HMAC-SHA-256 does commit, so every recipient
///   whose MAC verifies holds the same data key and reads the same plaintext.
/// - **Rewrapping leaves the payload alone**, as in the key-encryption-key form and the stream:
///   adding, removing or rotating a recipient rewrites the stanzas and the MAC only.
/// - **One construction to review**: it is the stream header's, with its own HKDF label.
/// Stanzas in the payload's associated data would also have authenticated them, but then every
/// rewrap would re-encrypt the payload, and it would give no key commitment.
///
/// Each stanza's own HPKE or OAEP (or GCM-SIV) already binds the wrapped data key to the
/// recipient's key; the MAC adds what no single stanza can: that the *list* is exactly what the
/// sender wrote (no stanza added, dropped, reordered or edited, unknown kinds included).
struct EnvelopeRecipientHeader: Hashable, Sendable {
    static let macByteCount = 32
    /// Everything from the magic through the MAC; the stream header's limit, so the reader's work
    /// before any key is tried stays bounded (255 stanzas at most, 64 KiB in all).
    static let maximumByteCount = 64 * 1024
    static let maximumStanzaCount = Int(UInt8.max)

    let stanzas: [RecipientStanza]
    let mac: [UInt8]

    /// Builds the header for `dataKey` over `fixedHeader` (magic through flags, bit 1 set).
    static func make(dataKey: DataKey, stanzas: [RecipientStanza], fixedHeader: [UInt8]) throws -> EnvelopeRecipientHeader {
        guard (1...maximumStanzaCount).contains(stanzas.count) else {
            throw CofferCryptoError(.invalidParameter, detail: "an envelope needs 1…255 recipients")
        }
        guard isPassphraseRuleSatisfied(stanzas) else {
            throw CofferCryptoError(.invalidParameter, detail: "a passphrase must be an envelope's only recipient")
        }
        let draft = EnvelopeRecipientHeader(stanzas: stanzas, mac: [])
        let authenticated = draft.authenticatedBytes(fixedHeader: fixedHeader)
        guard authenticated.count + macByteCount <= maximumByteCount else {
            throw CofferCryptoError(.messageTooLarge, detail: "envelope header")
        }
        let mac = HMACHash.sha256.authenticationCode(for: authenticated, using: try macKey(dataKey: dataKey))
        return EnvelopeRecipientHeader(stanzas: stanzas, mac: mac)
    }

    /// A passphrase stanza must be the only one (as in age): each costs the reader a scrypt run
    /// at the recorded work factor, and a passphrase envelope should not silently also open for
    /// public keys its author may not know about.
    static func isPassphraseRuleSatisfied(_ stanzas: [RecipientStanza]) -> Bool {
        stanzas.count == 1 || !stanzas.contains { $0.kind == .passphrase }
    }

    /// `fixedHeader || u8 count || stanzas`: the bytes the MAC covers.
    func authenticatedBytes(fixedHeader: [UInt8]) -> [UInt8] {
        var bytes = fixedHeader
        bytes.append(UInt8(stanzas.count))
        for stanza in stanzas { stanza.encode(into: &bytes) }
        return bytes
    }

    static func macKey(dataKey: DataKey) throws -> SymmetricKey {
        try HKDFHash.sha256.expand(
            pseudoRandomKey: dataKey.symmetricKey, info: Array("coffer/v1/envelope-header-mac".utf8), outputByteCount: 32)
    }

    /// The AEAD key of the payload. Derived rather than the data key itself, so the data key is
    /// only ever an HKDF input (never both an HMAC and an AEAD key), and a stanza copied from a
    /// stream (where the same kind of 32-byte key feeds C2SP chunked encryption) yields unrelated
    /// keys here.
    static func payloadKey(dataKey: DataKey) throws -> SymmetricKey {
        try HKDFHash.sha256.expand(
            pseudoRandomKey: dataKey.symmetricKey, info: Array("coffer/v1/envelope-payload-key".utf8), outputByteCount: 32)
    }

    /// Recovers the data key with the first identity that has a stanza here and verifies the MAC
    /// in constant time. A header no identity opens, or whose MAC fails, is the one
    /// authentication error. The only other error that can leave is a passphrase identity's
    /// ``CofferCryptoError/Code/workFactorTooHigh`` (about scrypt parameters written in clear in
    /// the envelope, so it reveals nothing secret, and it is what tells a user why the reader
    /// refused to run scrypt).
    func unwrapDataKey(with identities: [any Identity], fixedHeader: [UInt8]) throws -> DataKey {
        for identity in identities {
            let found: DataKey?
            do { found = try identity.inputKey(from: stanzas) } catch let error as CofferCryptoError where error.code == .workFactorTooHigh {
                throw error
            } catch {
                throw CofferCryptoError.authenticationFailed
            }
            guard let dataKey = found else { continue }
            guard mac.count == EnvelopeRecipientHeader.macByteCount,
                HMACHash.sha256.isValid(mac, for: authenticatedBytes(fixedHeader: fixedHeader), using: try EnvelopeRecipientHeader.macKey(dataKey: dataKey))
            else { throw CofferCryptoError.authenticationFailed }
            return dataKey
        }
        throw CofferCryptoError.authenticationFailed
    }

    /// Parses `u8 count || stanzas || mac` after the fixed header (7 bytes already read).
    /// Malformed, oversized or truncated input is the authentication error.
    static func decode(from reader: inout ByteReader) throws -> EnvelopeRecipientHeader {
        guard let count = reader.readByte(), count >= 1 else { throw CofferCryptoError.authenticationFailed }
        var stanzas: [RecipientStanza] = []
        stanzas.reserveCapacity(Int(count))
        for _ in 0..<count {
            // Stop as soon as the header outgrows its limit, before reading further stanzas.
            guard let stanza = RecipientStanza.decode(from: &reader), reader.offset <= maximumByteCount - macByteCount else {
                throw CofferCryptoError.authenticationFailed
            }
            stanzas.append(stanza)
        }
        guard isPassphraseRuleSatisfied(stanzas), let mac = reader.readBytes(macByteCount) else {
            throw CofferCryptoError.authenticationFailed
        }
        return EnvelopeRecipientHeader(stanzas: stanzas, mac: Array(mac))
    }
}
