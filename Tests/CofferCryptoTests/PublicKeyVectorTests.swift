import Crypto
import Foundation
import Testing
import _CryptoExtras

@_spi(Hazmat) @testable import CofferCrypto

/// RFC 9180 HPKE vectors and Wycheproof X25519 and RSA-OAEP vectors, run through the exact
/// primitives and parameters Coffer's public-key stanzas use.
@Suite(.enabled(if: VectorDirectory.isAvailable, VectorDirectory.skipReason))
struct PublicKeyVectorTests {
    struct HPKEVector: Decodable {
        let mode: Int
        let kem_id: Int
        let kdf_id: Int
        let aead_id: Int
        let info, skRm, pkRm, enc: Hex
        let psk, psk_id: Hex?
        let encryptions: [Encryption]
        let exports: [Export]
        struct Encryption: Decodable { let aad, ct, nonce, pt: Hex }
        struct Export: Decodable {
            let exporter_context: Hex
            let L: Int
            let exported_value: Hex
        }
    }

    /// Every X25519 base-mode and PSK-mode vector opens with swift-crypto's HPKE; the
    /// AES-256-GCM ones open with Coffer's own stanza suite constant, proving that suite is
    /// RFC 9180's DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM.
    @Test func rfc9180X25519() throws {
        let vectors = try JSONDecoder().decode(
            [HPKEVector].self, from: VectorDirectory.data("hpke/rfc9180_x25519_p256_hkdfsha256_subset.json"))
        var opened = 0
        for vector in vectors where vector.kem_id == 0x20 && vector.kdf_id == 1 && (vector.mode == 0 || vector.mode == 1) {
            let aead: HPKE.AEAD
            switch vector.aead_id {
            case 1: aead = .AES_GCM_128
            case 2: aead = .AES_GCM_256
            case 3: aead = .chaChaPoly
            default: continue  // export-only suites carry no encryptions
            }
            let suite = vector.aead_id == 2 ? HPKEStanza.x25519Suite : HPKE.Ciphersuite(kem: .Curve25519_HKDF_SHA256, kdf: .HKDF_SHA256, aead: aead)
            let privateKey = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: vector.skRm.bytes)
            #expect(privateKey.publicKey.rawRepresentation == Data(vector.pkRm.bytes))
            var recipient: HPKE.Recipient
            if vector.mode == 1 {
                recipient = try HPKE.Recipient(
                    privateKey: privateKey, ciphersuite: suite, info: Data(vector.info.bytes), encapsulatedKey: Data(vector.enc.bytes),
                    presharedKey: SymmetricKey(data: vector.psk!.bytes), presharedKeyIdentifier: Data(vector.psk_id!.bytes))
            } else {
                recipient = try HPKE.Recipient(
                    privateKey: privateKey, ciphersuite: suite, info: Data(vector.info.bytes), encapsulatedKey: Data(vector.enc.bytes))
            }
            for encryption in vector.encryptions {
                let plain = try recipient.open(Data(encryption.ct.bytes), authenticating: Data(encryption.aad.bytes))
                #expect([UInt8](plain) == encryption.pt.bytes)
                opened += 1
            }
            for export in vector.exports {
                let secret = try recipient.exportSecret(context: Data(export.exporter_context.bytes), outputByteCount: export.L)
                #expect(secret.withUnsafeBytes { Array($0) } == export.exported_value.bytes)
            }
        }
        #expect(opened >= 60)
    }

    struct X25519Group: Decodable {
        let tests: [Test]
        struct Test: Decodable {
            let tcId: Int
            let `public`, `private`, shared: Hex
            let result: WycheproofResult
            let flags: [String]
        }
    }

    /// Every valid agreement matches. swift-crypto's X25519 returns the all-zero shared secret
    /// for small-order public keys instead of failing, so Coffer's own check must catch every
    /// such case: as a recipient (refused) and as an encapsulated key (the stanza does not open).
    /// The list is exactly right, checked against X25519 itself: every listed encoding, with bit
    /// 255 clear or set, gives the all-zero output for random private keys; and 10 000 random
    /// encodings are neither listed nor give zero.
    @Test func smallOrderListAgreesWithX25519() throws {
        for encoding in X25519SmallOrder.encodings {
            for highBit: UInt8 in [0x00, 0x80] {
                var bytes = encoding
                bytes[31] |= highBit
                #expect(X25519SmallOrder.isSmallOrder(bytes))
                let point = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: bytes)
                for _ in 0..<4 {
                    let shared = try Curve25519.KeyAgreement.PrivateKey().sharedSecretFromKeyAgreement(with: point)
                    #expect(shared.withUnsafeBytes { $0.allSatisfy { $0 == 0 } })
                }
            }
        }
        let key = Curve25519.KeyAgreement.PrivateKey()
        for _ in 0..<10_000 {
            let bytes = (0..<32).map { _ in UInt8.random(in: 0...255) }
            let shared = try key.sharedSecretFromKeyAgreement(with: Curve25519.KeyAgreement.PublicKey(rawRepresentation: bytes))
            #expect(!X25519SmallOrder.isSmallOrder(bytes))
            #expect(!shared.withUnsafeBytes { $0.allSatisfy { $0 == 0 } })
        }
        #expect(X25519SmallOrder.isSmallOrder([UInt8](repeating: 0, count: 31)))
    }

    @Test func wycheproofX25519() throws {
        let tests = try WycheproofFile<X25519Group>.load("x25519_test.json").testGroups.flatMap(\.tests)
        var zeroCases = 0
        for test in tests {
            let privateKey = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: test.private.bytes)
            let publicKey = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: test.public.bytes)
            if test.flags.contains("ZeroSharedSecret") {
                zeroCases += 1
                #expect(X25519SmallOrder.isSmallOrder(test.public.bytes), "tcId \(test.tcId)")
                #expect(throws: CofferCryptoError(.invalidParameter), "tcId \(test.tcId)") { try X25519Recipient(publicKey: publicKey) }
                let stanza = try RecipientStanza(kind: .x25519, body: test.public.bytes + [UInt8](repeating: 0x42, count: 48))
                #expect(try X25519Identity(privateKey: privateKey).inputKey(from: [stanza]) == nil, "tcId \(test.tcId)")
            } else if test.result == .valid {
                let shared = try privateKey.sharedSecretFromKeyAgreement(with: publicKey)
                #expect(shared.withUnsafeBytes { Array($0) } == test.shared.bytes, "tcId \(test.tcId)")
                #expect(!X25519SmallOrder.isSmallOrder(test.public.bytes), "tcId \(test.tcId)")
            }
        }
        #expect(zeroCases >= 10)
    }

    struct OAEPGroup: Decodable {
        let keySize: Int
        let privateKeyPkcs8: Hex
        let tests: [Test]
        struct Test: Decodable {
            let tcId: Int
            let msg, ct, label: Hex
            let result: WycheproofResult
        }
    }

    /// RSA-OAEP-SHA256 decryption as ``RSAIdentity`` performs it: valid vectors with the empty
    /// label decrypt to `msg`; every invalid vector (and every non-empty label, which Coffer never
    /// uses) fails. Vectors whose message is a 32-byte key also go through the identity itself.
    @Test(arguments: ["rsa_oaep_2048_sha256_mgf1sha256_test.json", "rsa_oaep_3072_sha256_mgf1sha256_test.json", "rsa_oaep_4096_sha256_mgf1sha256_test.json"])
    func wycheproofRSAOAEP(file: String) throws {
        var checked = 0
        for group in try WycheproofFile<OAEPGroup>.load(file).testGroups {
            let privateKey = try _RSA.Encryption.PrivateKey(derRepresentation: group.privateKeyPkcs8.bytes)
            let identity = try RSAIdentity(privateKey: privateKey)
            for test in group.tests {
                checked += 1
                let plain = try? privateKey.decrypt(test.ct.bytes, padding: .PKCS1_OAEP_SHA256)
                if test.result == .valid && test.label.bytes.isEmpty {
                    #expect(plain.map { [UInt8]($0) } == test.msg.bytes, "tcId \(test.tcId)")
                } else if test.result == .invalid || !test.label.bytes.isEmpty {
                    #expect(plain == nil, "tcId \(test.tcId)")
                }
                if test.ct.bytes.count == group.keySize / 8 {
                    let stanza = try RecipientStanza(kind: .rsaOAEP, body: test.ct.bytes)
                    let key = try identity.inputKey(from: [stanza])
                    let expectKey = test.result == .valid && test.label.bytes.isEmpty && test.msg.bytes.count == 32
                    #expect((key != nil) == expectKey, "tcId \(test.tcId)")
                    if let key { #expect(key == (try DataKey(testVectorBytes: test.msg.bytes))) }
                }
            }
        }
        #expect(checked > 20)
    }
}
