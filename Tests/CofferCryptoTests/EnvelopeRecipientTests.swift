import Foundation
import Testing

@_spi(Hazmat) @testable import CofferCrypto

/// Envelopes sealed to recipients (flag bit 1): round trips per recipient kind, several
/// recipients, and the one authentication error for every wrong identity, context, flipped byte,
/// edited stanza list and hostile encoding.
@Suite struct EnvelopeRecipientTests {
    typealias Pair = RecipientTests.Pair
    static let pairs = RecipientTests.pairs
    static let publicKeyPairs = pairs.filter { $0.kind != .passphrase && $0.kind != .keyEncryptionKey }
    static let context: EncryptionContext = ["tenant": "acme", "record": "42"]
    static let fixedHeaderByteCount = 7

    /// Splits a recipient-form envelope into fixed header, stanzas, MAC and the rest.
    static func parts(_ bytes: [UInt8]) throws -> (fixed: [UInt8], stanzas: [RecipientStanza], mac: [UInt8], rest: [UInt8]) {
        let envelope = try Envelope(bytes: bytes)
        guard case .recipients(let header) = envelope.keyProtection else { throw CofferCryptoError(.invalidParameter) }
        return (envelope.fixedHeader, header.stanzas, header.mac, envelope.nonce + envelope.sealedPayload)
    }

    static func assemble(_ fixed: [UInt8], count: Int? = nil, _ stanzas: [RecipientStanza], _ mac: [UInt8], _ rest: [UInt8]) -> [UInt8] {
        var bytes = fixed
        bytes.append(UInt8(count ?? stanzas.count))
        for stanza in stanzas { stanza.encode(into: &bytes) }
        return bytes + mac + rest
    }

    static func expectAuthenticationFailure(
        _ bytes: [UInt8], identities: [any Identity], context: EncryptionContext = context, _ comment: Comment? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(throws: CofferCryptoError.authenticationFailed, comment, sourceLocation: sourceLocation) {
            try Envelope(bytes: bytes).open(with: identities, context: context)
        }
    }

    // MARK: round trips

    @Test(arguments: pairs)
    func roundTripAndIsolation(pair: Pair) throws {
        let plaintext = patternBytes(1000)
        let envelope = try Envelope.seal(plaintext, to: [pair.recipient], context: Self.context)
        #expect(envelope.isSealedToRecipients)
        #expect(envelope.keyReference == nil)
        #expect(envelope.stanzas.map(\.kind) == [pair.kind])
        #expect(envelope.bytes[6] == Envelope.recipientsFlag)
        #expect(try envelope.open(with: pair.identity, context: Self.context) == plaintext)
        #expect(try Envelope(bytes: envelope.bytes).open(with: [pair.identity], context: Self.context) == plaintext)
        // The text form carries the new envelopes unchanged.
        let text = envelope.text
        #expect(text.hasPrefix("coffer:v1:"))
        #expect(try Envelope(text: text) == envelope)
        #expect(try Envelope(text: text).open(with: [pair.identity], context: Self.context) == plaintext)
        for other in Self.pairs where other.name != pair.name {
            #expect(throws: CofferCryptoError.authenticationFailed, "\(other.name)") {
                try envelope.open(with: [other.identity], context: Self.context)
            }
        }
    }

    @Test(arguments: AEADAlgorithm.allCases, [0, 1, 16 * 1024 + 1])
    func algorithmsAndSizes(algorithm: AEADAlgorithm, size: Int) throws {
        let plaintext = patternBytes(size)
        let envelope = try Envelope.seal(plaintext, to: [TestKeys.x25519.recipient], context: Self.context, options: .init(algorithm: algorithm))
        #expect(envelope.algorithm == algorithm)
        #expect(envelope.bytes.count == 7 + 1 + 3 + 80 + 32 + 12 + size + 16)
        #expect(try Envelope(bytes: envelope.bytes).open(with: [TestKeys.x25519], context: Self.context) == plaintext)
    }

    @Test func compressionStillWorks() throws {
        let text = Array(String(repeating: "coffer compresses repetitive text well. ", count: 500).utf8)
        let squeezed = try Envelope.seal(text, to: [TestKeys.x25519.recipient], options: .init(compression: .zlib(threshold: 1024)))
        #expect(squeezed.isCompressed)
        #expect(squeezed.bytes[6] == Envelope.recipientsFlag | Envelope.compressedFlag)
        #expect(squeezed.bytes.count < text.count / 10)
        #expect(try Envelope(bytes: squeezed.bytes).open(with: [TestKeys.x25519]) == text)
        #expect(throws: CofferCryptoError(.messageTooLarge)) {
            try squeezed.open(with: [TestKeys.x25519], limits: EnvelopeOpenLimits(maximumDecompressedByteCount: 1000))
        }
        let plain = try Envelope.seal(text, to: [TestKeys.x25519.recipient])
        #expect(!plain.isCompressed)
    }

    /// One envelope, every public-key kind and a KEK at once; each identity alone opens it.
    @Test func severalRecipients() throws {
        let plaintext = patternBytes(3000)
        let recipients = Self.pairs.filter { $0.kind != .passphrase }
        let envelope = try Envelope.seal(plaintext, to: recipients.map(\.recipient), context: Self.context)
        #expect(envelope.stanzas.map(\.kind) == recipients.map(\.kind))
        for pair in recipients {
            #expect(try Envelope(bytes: envelope.bytes).open(with: [pair.identity], context: Self.context) == plaintext, "\(pair.name)")
        }
        // Identities without a stanza are skipped until one matches.
        #expect(try envelope.open(with: [X25519Identity.generate(), try XWingIdentity.generate(), TestKeys.rsa], context: Self.context) == plaintext)
        // The KEK entry points find the KEK stanza too.
        #expect(try envelope.open(using: TestKeys.kek, context: Self.context) == plaintext)
        #expect(try envelope.open(using: [kek("unrelated"), TestKeys.kek], context: Self.context) == plaintext)
        #expect(throws: CofferCryptoError.authenticationFailed) { try envelope.open(using: [kek("unrelated")], context: Self.context) }
    }

    @Test func recipientCountAndPassphraseRules() throws {
        #expect(throws: CofferCryptoError(.invalidParameter)) { try Envelope.seal([1], to: []) }
        let many = [any Recipient](repeating: TestKeys.x25519.recipient, count: 256)
        #expect(throws: CofferCryptoError(.invalidParameter)) { try Envelope.seal([1], to: many) }
        #expect(try Envelope.seal([1], to: Array(many.prefix(255))).stanzas.count == 255)
        // 56 X-Wing stanzas (1 171 bytes each) exceed the 64 KiB header.
        let xwings = [any Recipient](repeating: TestKeys.xwing.recipient, count: 56)
        #expect(throws: CofferCryptoError(.messageTooLarge)) { try Envelope.seal([1], to: xwings) }
        #expect(try Envelope.seal([1], to: Array(xwings.prefix(55))).open(with: [TestKeys.xwing]) == [1])
        // A passphrase is only ever the sole recipient.
        #expect(throws: CofferCryptoError(.invalidParameter)) {
            try Envelope.seal([1], to: [TestKeys.passphraseRecipient, TestKeys.x25519.recipient])
        }
        #expect(throws: CofferCryptoError(.messageTooLarge)) {
            try Envelope.seal([UInt8](repeating: 0, count: Envelope.maximumPlaintextByteCount + 1), to: [TestKeys.x25519.recipient])
        }
    }

    // MARK: failures

    @Test func wrongIdentitiesFail() throws {
        let envelope = try Envelope.seal(patternBytes(100), to: [TestKeys.x25519.recipient, TestKeys.kek], context: Self.context)
        let wrongKEKVersion = KeyEncryptionKey.generate(reference: try KeyReference("backup", version: 4))
        let sameReferenceOtherBytes = try KeyEncryptionKey(restoring: [UInt8](repeating: 7, count: 32), reference: TestKeys.kek.reference)
        let wrong: [[any Identity]] = [
            [], [X25519Identity.generate()], [try XWingIdentity.generate()], [TestKeys.rsa], [wrongKEKVersion],
            [sameReferenceOtherBytes], [PassphraseIdentity(passphrase: TestKeys.passphrase)],
        ]
        for identities in wrong {
            #expect(throws: CofferCryptoError.authenticationFailed) { try envelope.open(with: identities, context: Self.context) }
        }
        // A KEK-form envelope opens only with the KEK it names.
        let kekForm = try Envelope.seal([1, 2], using: TestKeys.kek)
        #expect(try kekForm.open(with: [TestKeys.x25519, TestKeys.kek]) == [1, 2])
        #expect(throws: CofferCryptoError.authenticationFailed) { try kekForm.open(with: [TestKeys.x25519, wrongKEKVersion]) }
    }

    @Test func contextMismatchFails() throws {
        let envelope = try Envelope.seal(patternBytes(100), to: [TestKeys.x25519.recipient], context: ["purpose": "backup"])
        for wrong: EncryptionContext in [.empty, ["purpose": "Backup"], ["purpose": "backup", "x": ""], ["purpos": "ebackup"]] {
            #expect(throws: CofferCryptoError.authenticationFailed) { try envelope.open(with: [TestKeys.x25519], context: wrong) }
        }
    }

    /// Every single-bit flip, every truncation and an appended byte of a two-recipient envelope
    /// fail with the one error, for each of its identities.
    @Test(arguments: [0, 33])
    func everyFlipAndTruncationFails(size: Int) throws {
        let bytes = try Envelope.seal(patternBytes(size), to: [TestKeys.x25519.recipient, TestKeys.kek], context: Self.context).bytes
        for identity in [TestKeys.x25519 as any Identity, TestKeys.kek] {
            everySingleBitFlip(of: bytes) { flipped, bit in
                Self.expectAuthenticationFailure(flipped, identities: [identity], "bit \(bit)")
            }
            for length in 0..<bytes.count {
                Self.expectAuthenticationFailure(Array(bytes.prefix(length)), identities: [identity], "length \(length)")
            }
            Self.expectAuthenticationFailure(bytes + [0], identities: [identity])
        }
    }

    /// X-Wing and RSA envelopes are larger: every byte flipped once (XOR 0x01) at a stride.
    @Test(arguments: publicKeyPairs)
    func byteFlipsAcrossLargeStanzas(pair: Pair) throws {
        let bytes = try Envelope.seal(patternBytes(20), to: [pair.recipient], context: Self.context).bytes
        let step = bytes.count > 300 ? 5 : 1
        for offset in stride(from: 0, to: bytes.count, by: step) {
            var flipped = bytes
            flipped[offset] ^= 0x01
            Self.expectAuthenticationFailure(flipped, identities: [pair.identity], "offset \(offset)")
        }
    }

    /// The MAC covers the stanza list: adding, dropping, reordering, duplicating, replacing or
    /// re-counting stanzas fails for every identity, including stanzas of unknown kind.
    @Test func stanzaListEditsFail() throws {
        let identities: [any Identity] = [TestKeys.x25519, TestKeys.xwing, TestKeys.kek]
        let bytes = try Envelope.seal(
            patternBytes(64), to: [TestKeys.x25519.recipient, TestKeys.xwing.recipient, TestKeys.kek], context: Self.context
        ).bytes
        let (fixed, stanzas, mac, rest) = try Self.parts(bytes)
        #expect(Self.assemble(fixed, stanzas, mac, rest) == bytes)
        let unknown = try RecipientStanza(kind: .init(rawValue: 0x7F), body: [1, 2, 3])
        let foreign = try Self.parts(try Envelope.seal(patternBytes(64), to: [TestKeys.x25519.recipient], context: Self.context).bytes).stanzas[0]
        let streamStanza = try StreamHeader.parse(try CofferStream.seal([1], to: [TestKeys.x25519.recipient])).header.stanzas[0]
        let edits: [(String, [RecipientStanza])] = [
            ("dropped first", Array(stanzas.dropFirst())),
            ("dropped last", Array(stanzas.dropLast())),
            ("reordered", [stanzas[1], stanzas[0], stanzas[2]]),
            ("duplicated", stanzas + [stanzas[0]]),
            ("unknown kind added", stanzas + [unknown]),
            ("unknown kind prepended", [unknown] + stanzas),
            ("stanza from another envelope added", stanzas + [foreign]),
            ("stanza replaced by another envelope's", [foreign, stanzas[1], stanzas[2]]),
            ("stream stanza added", [streamStanza] + stanzas),
        ]
        for (name, edited) in edits {
            for identity in identities {
                Self.expectAuthenticationFailure(Self.assemble(fixed, edited, mac, rest), identities: [identity], "\(name)")
            }
        }
        // A count byte that disagrees with the stanzas that follow.
        for count in [0, 1, 2, 4, 255] {
            Self.expectAuthenticationFailure(Self.assemble(fixed, count: count, stanzas, mac, rest), identities: identities, "count \(count)")
        }
        // Moving the recipient form's stanzas and MAC under the key-encryption-key flag, or a KEK
        // envelope under the recipient flag, fails too.
        var cleared = bytes
        cleared[6] &= ~Envelope.recipientsFlag
        Self.expectAuthenticationFailure(cleared, identities: identities)
        var kekForm = try Envelope.seal(patternBytes(64), using: TestKeys.kek, context: Self.context).bytes
        kekForm[6] |= Envelope.recipientsFlag
        Self.expectAuthenticationFailure(kekForm, identities: identities)
    }

    /// A malicious sender who wraps different data keys for different recipients cannot make
    /// both accept: the MAC commits to one data key.
    @Test func recipientsCannotBeGivenDifferentKeys() throws {
        let dataKey = DataKey.generate()
        let other = DataKey.generate()
        let envelope = try Envelope.seal(
            [1, 2, 3], stanzas: [try TestKeys.x25519.recipient.stanza(wrapping: dataKey), try TestKeys.kek.stanza(wrapping: other)],
            context: .empty, options: .init(), dataKey: dataKey, nonce: randomBytes(12))
        #expect(try envelope.open(with: [TestKeys.x25519]) == [1, 2, 3])
        #expect(throws: CofferCryptoError.authenticationFailed) { try envelope.open(with: [TestKeys.kek]) }
    }

    // MARK: hostile encodings

    static func hostile(_ tail: [UInt8]) -> [UInt8] {
        Envelope.magic + [Envelope.version, AEADAlgorithm.aes256GCM.rawValue, Envelope.recipientsFlag] + tail
    }

    @Test func hostileEncodingsFailFast() throws {
        let identities: [any Identity] = [TestKeys.x25519, TestKeys.xwing, TestKeys.rsa, TestKeys.kek]
        let payload = [UInt8](repeating: 0, count: 12 + 16)
        let mac = [UInt8](repeating: 0, count: 32)
        func stanza(_ type: UInt8, _ length: Int, declared: Int? = nil) -> [UInt8] {
            let declared = declared ?? length
            return [type, UInt8(declared >> 8), UInt8(declared & 0xFF)] + [UInt8](repeating: 0xAB, count: length)
        }
        let start = ContinuousClock.now
        let cases: [(String, [UInt8])] = [
            ("no count", Self.hostile([])),
            ("zero stanzas", Self.hostile([0] + mac + payload)),
            ("255 stanzas announced, none present", Self.hostile([255] + mac + payload)),
            ("255 maximal stanzas (16 MiB announced)", Self.hostile([255] + (0..<255).flatMap { _ in stanza(0x03, 0xFFFF) } + mac + payload)),
            ("one stanza over the header limit", Self.hostile([1] + stanza(0x03, 0xFFFF) + mac + payload)),
            ("stanza type zero", Self.hostile([1] + stanza(0x00, 80) + mac + payload)),
            ("truncated stanza body", Self.hostile([1] + stanza(0x03, 40, declared: 80))),
            ("truncated length", Self.hostile([1, 0x03, 0x00])),
            ("missing MAC", Self.hostile([1] + stanza(0x03, 80))),
            ("short MAC, no payload", Self.hostile([1] + stanza(0x03, 80) + Array(mac.prefix(20)))),
            ("no room for nonce and tag", Self.hostile([1] + stanza(0x03, 80) + mac + Array(payload.prefix(27)))),
            ("X25519 body of the wrong length", Self.hostile([1] + stanza(0x03, 81) + mac + payload)),
            ("X-Wing body of the wrong length", Self.hostile([1] + stanza(0x04, 1167) + mac + payload)),
            ("garbage X25519 stanza", Self.hostile([1] + stanza(0x03, 80) + mac + payload)),
            ("garbage X-Wing stanza", Self.hostile([1] + stanza(0x04, 1168) + mac + payload)),
            ("garbage RSA stanza", Self.hostile([1] + stanza(0x05, 256) + mac + payload)),
            ("garbage KEK stanza", Self.hostile([1] + stanza(0x01, 75) + mac + payload)),
            ("passphrase stanza beside another", Self.hostile([2] + stanza(0x02, 100) + stanza(0x03, 80) + mac + payload)),
            ("unknown stanzas only", Self.hostile([2] + stanza(0x7F, 10) + stanza(0xFF, 0) + mac + payload)),
        ]
        for (name, bytes) in cases {
            Self.expectAuthenticationFailure(bytes, identities: identities, "\(name)")
        }
        // 255 X25519-shaped stanzas within the limit parse and are each tried, and still fail.
        Self.expectAuthenticationFailure(Self.hostile([255] + (0..<255).flatMap { _ in stanza(0x03, 80) } + mac + payload), identities: [TestKeys.x25519])
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    // MARK: rewrapping

    @Test func rewrapKeepsThePayload() throws {
        let v1 = kek("orders", version: 1)
        let v2 = kek("orders", version: 2)
        let plaintext = patternBytes(5000)
        let envelope = try Envelope.seal(plaintext, to: [TestKeys.x25519.recipient, v1], context: Self.context)

        let moved = try envelope.rewrapped(from: v1, to: v2)
        #expect(moved.sealedPayload == envelope.sealedPayload && moved.nonce == envelope.nonce)
        #expect(moved.stanzas[0] == envelope.stanzas[0])
        #expect(try moved.open(with: [v2], context: Self.context) == plaintext)
        #expect(try moved.open(with: [TestKeys.x25519], context: Self.context) == plaintext)
        #expect(throws: CofferCryptoError.authenticationFailed) { try moved.open(with: [v1], context: Self.context) }
        #expect(throws: CofferCryptoError.authenticationFailed) { try envelope.rewrapped(from: v2, to: v1) }

        let handedOver = try envelope.rewrapped(to: [TestKeys.xwing.recipient, TestKeys.rsa.recipient], using: [TestKeys.x25519])
        #expect(handedOver.sealedPayload == envelope.sealedPayload)
        #expect(handedOver.stanzas.map(\.kind) == [.xwing, .rsaOAEP])
        #expect(try Envelope(text: handedOver.text).open(with: [TestKeys.rsa], context: Self.context) == plaintext)
        #expect(throws: CofferCryptoError.authenticationFailed) { try handedOver.open(with: [TestKeys.x25519], context: Self.context) }
        #expect(throws: CofferCryptoError.authenticationFailed) { try envelope.rewrapped(to: [TestKeys.xwing.recipient], using: [TestKeys.rsa]) }
        #expect(throws: CofferCryptoError(.invalidParameter)) {
            try Envelope.seal([1], using: v1).rewrapped(to: [TestKeys.xwing.recipient], using: [v1])
        }
    }
}
