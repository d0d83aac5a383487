import Foundation
import Testing

@testable import CofferCrypto

/// Ring files: the ring sealed as an armored Coffer stream under a passphrase or a wrapping key,
/// bound to its name.
@Suite struct KeyRingFileTests {
    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)
    // scrypt at the cheapest cost accepted for new data: debug builds run scrypt unoptimized.
    static let passphrase = try! Passphrase("correct horse battery staple")
    static let recipient = try! PassphraseRecipient(passphrase: passphrase, parameters: .scrypt(logN: 15, r: 8, p: 1))
    static let orders = try! sampleRing(name: "orders")
    static let ordersFile = try! KeyRingFile.seal(orders, to: [recipient])

    static func sampleRing(name: String) throws -> KeyRing {
        var ring = try KeyRing.generate(name: try KeyIdentifier(name), settings: try KeyRingSettings(compressionThreshold: 64), now: t0)
        try ring.rotate(now: t0.addingTimeInterval(3600))
        try ring.setState(.destroyed, for: .first)
        return ring
    }

    @Test func passphraseFileOpensOnlyWithThePassphrase() throws {
        let text = String(decoding: Self.ordersFile, as: UTF8.self)
        #expect(text.hasPrefix("coffer-key-ring: orders\n-----BEGIN COFFER ENCRYPTED FILE-----\n"))
        #expect(try KeyRingFile.name(of: Self.ordersFile).rawValue == "orders")
        let opened = try KeyRingFile.open(Self.ordersFile, with: [PassphraseIdentity(passphrase: Self.passphrase)], expectedName: Self.orders.name)
        #expect(opened == Self.orders)
        #expect(opened.version(.first)?.hasKeyMaterial == false)
        #expect(throws: CofferCryptoError(.authenticationFailed)) {
            try KeyRingFile.open(Self.ordersFile, with: [PassphraseIdentity(passphrase: try Passphrase("Correct horse battery staple"))])
        }
        #expect(KeyRingFile.recordedPassphraseParameters(Self.ordersFile) == .scrypt(logN: 15, r: 8, p: 1))
    }

    @Test func wrappingKeyFileOpensOnlyWithThatKey() throws {
        let wrappingKey = WrappingKey.generate()
        let file = try KeyRingFile.seal(Self.orders, to: [wrappingKey])
        #expect(try KeyRingFile.open(file, with: [wrappingKey], expectedName: Self.orders.name) == Self.orders)
        #expect(throws: CofferCryptoError(.authenticationFailed)) { try KeyRingFile.open(file, with: [WrappingKey.generate()]) }
        #expect(throws: CofferCryptoError(.authenticationFailed)) { try KeyRingFile.open(file, with: [PassphraseIdentity(passphrase: Self.passphrase)]) }
        #expect(KeyRingFile.recordedPassphraseParameters(file) == nil)
    }

    /// A file is bound to its ring's name: it opens only as that ring, and relabelling it (to
    /// pass one ring's file off as another's under the same key) fails authentication.
    @Test func fileOpensOnlyForItsRingName() throws {
        let wrappingKey = WrappingKey.generate()
        let file = try KeyRingFile.seal(Self.orders, to: [wrappingKey])
        #expect(throws: CofferCryptoError(.authenticationFailed)) {
            try KeyRingFile.open(file, with: [wrappingKey], expectedName: try KeyIdentifier("payments"))
        }
        let relabelled = Array("coffer-key-ring: payments\n".utf8) + file.drop { $0 != 0x0A }.dropFirst()
        #expect(try KeyRingFile.name(of: relabelled).rawValue == "payments")
        #expect(throws: CofferCryptoError(.authenticationFailed)) { try KeyRingFile.open(relabelled, with: [wrappingKey]) }
        #expect(throws: CofferCryptoError(.authenticationFailed)) {
            try KeyRingFile.open(relabelled, with: [wrappingKey], expectedName: try KeyIdentifier("payments"))
        }
    }

    /// Other Coffer files under the same key are not rings, and a ring file is not an identity file.
    @Test func contentTypeIsBound() throws {
        let wrappingKey = WrappingKey.generate()
        let label = Array("coffer-key-ring: orders\n".utf8)
        let ordinary = label + Armor.encode(try CofferStream.seal(Self.orders.encoded(), to: [wrappingKey]))
        #expect(throws: CofferCryptoError(.authenticationFailed)) { try KeyRingFile.open(ordinary, with: [wrappingKey]) }
        let file = try KeyRingFile.seal(Self.orders, to: [wrappingKey])
        let armored = Array(file.drop { $0 != 0x0A }.dropFirst())
        #expect(throws: CofferCryptoError(.authenticationFailed)) { try IdentityFile.open(armored, with: [wrappingKey]) }
    }

    /// An authentic file whose contents name another ring (only a key holder can make one) is
    /// an invalid ring, not a silent load of the wrong ring.
    @Test func ringInsideMustMatchTheLabel() throws {
        let wrappingKey = WrappingKey.generate()
        let payments = try Self.sampleRing(name: "payments")
        let stream = try CofferStream.seal(payments.encoded(), to: [wrappingKey], context: KeyRingFile.context(for: Self.orders.name))
        let forged = Array("coffer-key-ring: orders\n".utf8) + Armor.encode(stream)
        #expect(throws: CofferCryptoError(.invalidKeyRing)) { try KeyRingFile.open(forged, with: [wrappingKey]) }
    }

    @Test(arguments: [
        "", "coffer-key-ring: orders", "coffer-key-ring:orders\n", "coffer-key-ring: \n", "coffer-key-ring: or ders\n",
        "Coffer-key-ring: orders\n", "-----BEGIN COFFER ENCRYPTED FILE-----\n",
        "coffer-key-ring: " + String(repeating: "a", count: 129) + "\n",
    ])
    func malformedLabelsAreNotRingFiles(text: String) throws {
        #expect(throws: CofferCryptoError(.invalidKeyRing)) { try KeyRingFile.name(of: Array(text.utf8)) }
        #expect(throws: CofferCryptoError(.invalidKeyRing)) { try KeyRingFile.open(Array(text.utf8), with: [WrappingKey.generate()]) }
    }

    @Test func tamperedArmorFailsAuthentication() throws {
        let wrappingKey = WrappingKey.generate()
        let file = try KeyRingFile.seal(Self.orders, to: [wrappingKey])
        let newline = file.firstIndex(of: 0x0A)!
        var sawFailure = 0
        for offset in stride(from: newline + 40, to: file.count - 40, by: 97) where file[offset] != 0x0A {
            var copy = file
            copy[offset] = copy[offset] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            #expect(throws: CofferCryptoError(.authenticationFailed)) { try KeyRingFile.open(copy, with: [wrappingKey]) }
            sawFailure += 1
        }
        #expect(sawFailure > 3)
        #expect(throws: CofferCryptoError(.authenticationFailed)) { try KeyRingFile.open(Array(file.dropLast(50)), with: [wrappingKey]) }
    }

    @Test func wrappingKeyTextRoundTripsAndCatchesTypos() throws {
        let key = WrappingKey.generate()
        let text = WrappingKey.text(of: key)
        #expect(text.hasPrefix("COFFER-WRAPPING-KEY-"))
        #expect(try WrappingKey.parse(text + "\n") == key)
        #expect(key.reference == WrappingKey.reference)
        var typo = Array(text)
        typo[30] = typo[30] == "A" ? "B" : "A"
        #expect(throws: CofferCryptoError(.invalidParameter)) { try WrappingKey.parse(String(typo)) }
        #expect(throws: CofferCryptoError(.invalidParameter)) { try WrappingKey.parse(String(text.dropLast())) }
        #expect(throws: CofferCryptoError(.invalidParameter)) { try WrappingKey.parse("COFFER-IDENTITY-X25519-" + text.dropFirst(20)) }
        #expect(!"\(key)".contains(text.dropFirst(20).prefix(16)))
    }
}
