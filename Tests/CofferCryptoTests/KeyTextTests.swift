import Crypto
import Foundation
import Testing
import _CryptoExtras

@testable import CofferCrypto

/// One-line and PEM forms of recipients, and encrypted identity files.
@Suite struct KeyTextTests {
    static let recipients: [any PublicKeyRecipient] = [TestKeys.x25519.recipient, TestKeys.xwing.recipient, TestKeys.rsa.recipient]

    @Test func textAndPEMRoundTrip() throws {
        for recipient in Self.recipients {
            let text = recipient.text
            #expect(!text.contains("\n") && text.hasPrefix("coffer-"))
            #expect(try (RecipientText.parse(text) as! any PublicKeyRecipient).text == text)
            #expect(try (RecipientText.parse(recipient.pemRepresentation) as! any PublicKeyRecipient).text == text)
            #expect("\(recipient)" == text)
        }
        #expect(TestKeys.x25519.recipient.text.count < 80)
    }

    /// A typo anywhere in a recipient is caught by the checksum (or the encoding), never
    /// silently accepted as a different key.
    @Test func everySubstitutionIsDetected() throws {
        let text = Array(TestKeys.x25519.recipient.text)
        for index in text.indices {
            var typo = text
            typo[index] = typo[index] == "A" ? "B" : "A"
            #expect(throws: CofferCryptoError.self, "position \(index)") { try RecipientText.parse(String(typo)) }
        }
        #expect(throws: CofferCryptoError.self) { try RecipientText.parse(String(text.dropLast())) }
        #expect(throws: CofferCryptoError.self) { try RecipientText.parse("age1qqqq") }
    }

    /// The checksum covers the kind: an X25519 key relabelled as X-Wing is refused.
    @Test func kindIsBoundIntoTheChecksum() throws {
        let relabelled = TestKeys.x25519.recipient.text.replacingOccurrences(of: "coffer-x25519-", with: "coffer-xwing-")
        #expect(throws: CofferCryptoError.self) { try RecipientText.parse(relabelled) }
    }

    /// The standard PEM forms are what OpenSSL and swift-crypto read.
    @Test func pemIsStandardSPKI() throws {
        let x25519PEM = TestKeys.x25519.recipient.pemRepresentation
        #expect(x25519PEM.hasPrefix("-----BEGIN PUBLIC KEY-----"))
        #expect(try Curve25519.KeyAgreement.PublicKey(pemRepresentation: x25519PEM).rawRepresentation == TestKeys.x25519.recipient.publicKey.rawRepresentation)
        let rsaPEM = TestKeys.rsa.recipient.pemRepresentation
        #expect(try _RSA.Encryption.PublicKey(pemRepresentation: rsaPEM).keySizeInBits == 2048)
        #expect(TestKeys.xwing.recipient.pemRepresentation.hasPrefix("-----BEGIN COFFER XWING PUBLIC KEY-----"))
    }

    @Test func identityFileRoundTripAndProtection() throws {
        let identities: [any KeyPairIdentity] = [TestKeys.x25519, TestKeys.xwing, TestKeys.rsa]
        let file = try IdentityFile.seal(identities, comments: ["created: test"], to: [TestKeys.kek])
        let text = String(decoding: file, as: UTF8.self)
        #expect(text.hasPrefix(Armor.beginLine + "\n"))
        #expect(!text.contains("COFFER-IDENTITY"), "private keys must never appear in clear")
        let opened = try IdentityFile.open(file, with: [TestKeys.kek])
        #expect(opened.map(\.publicRecipient.text) == identities.map(\.publicRecipient.text))
        // The reopened identities decrypt what was sealed to the originals.
        let sealed = try CofferStream.seal([1, 2, 3], to: [TestKeys.rsa.recipient])
        #expect(try CofferStream.open(sealed, with: opened) == [1, 2, 3])
        // Wrong key: the one authentication error.
        let other = KeyEncryptionKey.generate(reference: try KeyReference("backup", version: 3))
        #expect(throws: CofferCryptoError(.authenticationFailed)) { try IdentityFile.open(file, with: [other]) }
        // An ordinary encrypted file is not an identity file (context differs).
        let ordinary = Armor.encode(try CofferStream.seal(Array("COFFER-IDENTITY-X25519-x".utf8), to: [TestKeys.kek]))
        #expect(throws: CofferCryptoError(.authenticationFailed)) { try IdentityFile.open(ordinary, with: [TestKeys.kek]) }
    }

    @Test func identityFileContentIsValidated() throws {
        let good = try IdentityFile.secretText(TestKeys.x25519)
        #expect(try IdentityFile.parse(Array("# comment\n\n\(good)\n".utf8)).count == 1)
        var typo = Array(good)
        typo[30] = typo[30] == "A" ? "B" : "A"
        #expect(throws: CofferCryptoError(.invalidParameter)) { try IdentityFile.parse(Array(String(typo).utf8)) }
        #expect(throws: CofferCryptoError(.invalidParameter)) { try IdentityFile.parse(Array("# only comments\n".utf8)) }
        #expect(throws: CofferCryptoError(.invalidParameter)) { try IdentityFile.parse([0xFF, 0xFE]) }
    }
}

/// The armored form: strict, streaming, canonical.
@Suite struct ArmorTests {
    @Test(arguments: [0, 1, 2, 3, 47, 48, 49, 96, 1000, 70_000])
    func roundTrip(size: Int) throws {
        let bytes = patternBytes(size)
        let armored = Armor.encode(bytes)
        let lines = String(decoding: armored, as: UTF8.self).split(separator: "\n")
        #expect(lines.first == Substring(Armor.beginLine) && lines.last == Substring(Armor.endLine))
        #expect(lines.dropFirst().dropLast().allSatisfy { $0.count <= 64 })
        #expect(try Armor.decode(armored) == bytes)
        // Streaming in odd pieces gives the same result both ways.
        var encoder = ArmorEncoder()
        var streamed: [UInt8] = []
        for piece in stride(from: 0, to: bytes.count, by: 7).map({ Array(bytes[$0..<min($0 + 7, bytes.count)]) }) {
            piece.withUnsafeBytes { encoder.update($0, into: &streamed) }
        }
        encoder.finish(into: &streamed)
        #expect(streamed == armored)
        var decoder = ArmorDecoder()
        var decoded: [UInt8] = []
        for start in stride(from: 0, to: armored.count, by: 5) {
            try Array(armored[start..<min(start + 5, armored.count)]).withUnsafeBytes { try decoder.update($0, into: &decoded) }
        }
        try decoder.finish(into: &decoded)
        #expect(decoded == bytes)
    }

    @Test func crlfIsTolerated() throws {
        let armored = String(decoding: Armor.encode(patternBytes(100)), as: UTF8.self)
        #expect(try Armor.decode(Array(armored.replacingOccurrences(of: "\n", with: "\r\n").utf8)) == patternBytes(100))
    }

    @Test func nonCanonicalFormsAreRejected() throws {
        let good = String(decoding: Armor.encode(patternBytes(100)), as: UTF8.self)
        var lines = good.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let variants: [String] = [
            good.replacingOccurrences(of: "-----BEGIN COFFER", with: "-----BEGIN OTHER"),
            String(good.dropLast(Armor.endLine.count + 1)),  // no end line
            good + "\n",  // an extra empty line after the end
            good + "trailing",
            " " + good,
            { var l = lines; l[1] = String(l[1].dropLast()); return l.joined(separator: "\n") }(),  // short full line
            { var l = lines; l.insert("", at: 2); return l.joined(separator: "\n") }(),  // empty line inside
            { var l = lines; l[1] = String(l[1].dropLast(2)) + "=="; return l.joined(separator: "\n") }(),  // padding mid-body
            { var l = lines; l[3] = String(l[3].dropLast(3)) + "B=="; return l.joined(separator: "\n") }(),  // non-zero pad bits
            { var l = lines; l[1] = String(l[1].dropLast()) + "*"; return l.joined(separator: "\n") }(),
        ]
        lines = []
        for (index, variant) in variants.enumerated() {
            #expect(throws: CofferCryptoError(.authenticationFailed), "variant \(index)") { try Armor.decode(Array(variant.utf8)) }
        }
    }
}
