import Crypto
import Foundation
import Testing
import _CryptoExtras

@_spi(Hazmat) @testable import CofferCrypto

/// Keys generated once for the whole suite (RSA generation is slow in debug builds).
enum TestKeys {
    static let x25519 = X25519Identity.generate()
    static let xwing = try! XWingIdentity.generate()
    static let rsa = try! RSAIdentity.generate(bits: 2048)
    static let kek = KeyEncryptionKey.generate(reference: try! KeyReference("backup", version: 3))
    /// The cheapest scrypt Coffer accepts for new data; debug builds run scrypt unoptimized.
    static let passphrase = try! Passphrase("correct horse battery staple")
    static let passphraseRecipient = try! PassphraseRecipient(passphrase: passphrase, parameters: .scrypt(logN: 15, r: 8, p: 1))
}

/// The conformance suite every recipient/identity pair runs through.
@Suite struct RecipientTests {
    struct Pair: CustomTestStringConvertible, Sendable {
        let name: String
        let recipient: any Recipient
        let identity: any Identity
        let kind: RecipientStanza.Kind
        var testDescription: String { name }
    }

    static let pairs: [Pair] = [
        Pair(name: "x25519", recipient: TestKeys.x25519.recipient, identity: TestKeys.x25519, kind: .x25519),
        Pair(name: "xwing", recipient: TestKeys.xwing.recipient, identity: TestKeys.xwing, kind: .xwing),
        Pair(name: "rsa-2048", recipient: TestKeys.rsa.recipient, identity: TestKeys.rsa, kind: .rsaOAEP),
        Pair(name: "kek", recipient: TestKeys.kek, identity: TestKeys.kek, kind: .keyEncryptionKey),
        Pair(name: "passphrase", recipient: TestKeys.passphraseRecipient, identity: PassphraseIdentity(passphrase: TestKeys.passphrase), kind: .passphrase),
    ]

    /// Round trip, the stanza kind on the wire, and every other identity failing with the one
    /// authentication error.
    @Test(arguments: pairs)
    func roundTripAndIsolation(pair: Pair) throws {
        let plaintext = patternBytes(40_000)
        let sealed = try CofferStream.seal(plaintext, to: [pair.recipient])
        let (header, _) = try StreamHeader.parse(sealed)
        #expect(header.stanzas.map(\.kind) == [pair.kind])
        #expect(try CofferStream.open(sealed, with: [pair.identity]) == plaintext)
        for other in Self.pairs where other.name != pair.name {
            #expect(throws: CofferCryptoError(.authenticationFailed)) { try CofferStream.open(sealed, with: [other.identity]) }
        }
    }

    /// Flipping any byte of a stanza body makes the header fail (or the stanza not open).
    @Test(arguments: pairs)
    func stanzaTampering(pair: Pair) throws {
        let sealed = try CofferStream.seal(Array("short".utf8), to: [pair.recipient])
        let body = try StreamHeader.parse(sealed).header.stanzas[0].body
        let bodyStart = StreamHeader.magic.count + 2 + 3
        // Every byte for small bodies; a spread sample for X-Wing and RSA bodies.
        let step = body.count > 200 ? 97 : 1
        for offset in stride(from: 0, to: body.count, by: step) where pair.kind != .passphrase || offset % 7 == 0 {
            var damaged = sealed
            damaged[bodyStart + offset] ^= 0x01
            #expect(throws: CofferCryptoError.self, "offset \(offset)") { try CofferStream.open(damaged, with: [pair.identity]) }
        }
    }

    /// One file, every kind of recipient at once; each identity alone opens it.
    @Test func multipleRecipients() throws {
        let plaintext = patternBytes(100_000)
        let keyPairs = Self.pairs.filter { $0.kind != .passphrase }
        let sealed = try CofferStream.seal(plaintext, to: keyPairs.map(\.recipient), concurrency: 2)
        #expect(try StreamHeader.parse(sealed).header.stanzas.map(\.kind) == keyPairs.map(\.kind))
        for pair in keyPairs {
            #expect(try CofferStream.open(sealed, with: [pair.identity], concurrency: 2) == plaintext, "\(pair.name)")
        }
        // Identities that do not match are skipped until one does.
        let stranger = X25519Identity.generate()
        #expect(try CofferStream.open(sealed, with: [stranger, TestKeys.rsa]) == plaintext)
    }

    /// A passphrase must be a stream's only recipient: writers refuse to mix it, readers refuse a
    /// header that does (so a hostile file cannot stack scrypt runs).
    @Test func passphraseStandsAlone() throws {
        let others = Self.pairs.filter { $0.kind != .passphrase }
        for other in others {
            #expect(throws: CofferCryptoError(.invalidParameter), "\(other.name)") {
                try CofferStream.seal([1, 2, 3], to: [TestKeys.passphraseRecipient, other.recipient])
            }
        }
        #expect(throws: CofferCryptoError(.invalidParameter)) {
            try CofferStream.seal([1], to: [TestKeys.passphraseRecipient, TestKeys.passphraseRecipient])
        }
        // A crafted header with a passphrase stanza beside an X25519 one does not parse.
        let passphraseStanza = try StreamHeader.parse(try CofferStream.seal([1], to: [TestKeys.passphraseRecipient])).header.stanzas[0]
        let x25519Stanza = try StreamHeader.parse(try CofferStream.seal([1], to: [others[0].recipient])).header.stanzas[0]
        for order in [[passphraseStanza, x25519Stanza], [x25519Stanza, passphraseStanza], [passphraseStanza, passphraseStanza]] {
            var crafted = StreamHeader.magic + [StreamHeader.version, UInt8(order.count)]
            for stanza in order { stanza.encode(into: &crafted) }
            crafted += [UInt8](repeating: 0, count: StreamHeader.macByteCount + 100)
            #expect(throws: CofferCryptoError.authenticationFailed) { try StreamHeader.parse(crafted) }
        }
        // Alone, it parses.
        var alone = StreamHeader.magic + [StreamHeader.version, 1]
        passphraseStanza.encode(into: &alone)
        alone += [UInt8](repeating: 0, count: StreamHeader.macByteCount)
        #expect(try StreamHeader.parse(alone).header.stanzas.count == 1)
    }

    /// A stanza asking for scrypt 2^30 (16 GiB) is refused before any work is done.
    @Test func hostileScryptWorkFactorIsRefusedUpFront() throws {
        let record = PasswordKDFRecord(parameters: .scrypt(logN: 30, r: 8, p: 1), salt: [UInt8](repeating: 7, count: 32))
        let stanza = try RecipientStanza(kind: .passphrase, body: record.encoded() + [UInt8](repeating: 1, count: WrappedKey.byteCount))
        let identity = PassphraseIdentity(passphrase: TestKeys.passphrase)
        let start = ContinuousClock.now
        #expect(throws: CofferCryptoError(.workFactorTooHigh)) { try identity.inputKey(from: [stanza]) }
        #expect(ContinuousClock.now - start < .seconds(1))
    }

    /// Passphrase stanzas record scrypt only; weak parameters are refused for new data.
    @Test func passphraseParameterRules() throws {
        #expect(throws: CofferCryptoError(.invalidParameter)) {
            try PassphraseRecipient(passphrase: TestKeys.passphrase, parameters: .pbkdf2SHA256(iterations: 1_000_000))
        }
        #expect(throws: CofferCryptoError(.invalidParameter)) {
            try PassphraseRecipient(passphrase: TestKeys.passphrase, parameters: .scrypt(logN: 10, r: 8, p: 1))
        }
        #expect(throws: CofferCryptoError(.invalidParameter)) { try Passphrase("") }
        #expect("\(TestKeys.passphrase)" == "Passphrase(redacted)")
    }

    /// Malformed public-key stanza bodies are header errors, not crashes.
    @Test func malformedBodies() throws {
        for (kind, identity) in [(RecipientStanza.Kind.x25519, TestKeys.x25519 as any Identity), (.xwing, TestKeys.xwing)] {
            for length in [0, 1, 79, 81, 1167, 1169] {
                let stanza = try RecipientStanza(kind: kind, body: [UInt8](repeating: 9, count: length))
                #expect(throws: CofferCryptoError(.authenticationFailed)) { try identity.inputKey(from: [stanza]) }
            }
        }
        // An RSA body of another modulus size is simply not for this key.
        let stanza = try RecipientStanza(kind: .rsaOAEP, body: [UInt8](repeating: 9, count: 384))
        #expect(try TestKeys.rsa.inputKey(from: [stanza]) == nil)
    }

    @Test func rsaKeySizesAreLimited() throws {
        #expect(throws: CofferCryptoError(.invalidKeySize)) { try RSAIdentity.generate(bits: 1024) }
        #expect(throws: CofferCryptoError(.invalidKeySize)) { try RSAIdentity.generate(bits: 8192) }
    }
}
