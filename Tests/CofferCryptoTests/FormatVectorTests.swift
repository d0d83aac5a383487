import Crypto
import Foundation
import Testing

@_spi(Hazmat) @testable import CofferCrypto

/// The committed vectors for Coffer's own formats (docs/vectors, written by `coffer-vectors`):
/// every valid vector decrypts to its plaintext and re-encrypts, from the same fixed inputs, to the
/// same bytes; every invalid vector fails with the one authentication error.
@Suite struct FormatVectorTests {
    static func load(_ name: String) throws -> [[String: Any]] {
        let url = VectorDirectory.repositoryRoot.appendingPathComponent("docs/vectors/\(name).json")
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        return document["vectors"] as! [[String: Any]]
    }

    static func bytes(_ value: Any?) -> [UInt8] { Hex.decode(value as! String)! }

    static func key(_ json: Any?) throws -> KeyEncryptionKey {
        let json = json as! [String: Any]
        return try KeyEncryptionKey(
            restoring: bytes(json["key"]),
            reference: KeyReference(json["id"] as! String, version: UInt32(json["version"] as! Int)))
    }

    @Test func envelopes() throws {
        let vectors = try Self.load("coffer_envelope_v1")
        #expect(vectors.filter { $0["result"] as? String == "valid" }.count >= 5)
        #expect(vectors.filter { $0["result"] as? String == "invalid" }.count >= 5)
        for vector in vectors {
            let kek = try Self.key(vector["kek"])
            let context = EncryptionContext(vector["context"] as! [String: String])
            let bytes = Self.bytes(vector["envelope"])
            let name = vector["description"] as! String
            if vector["result"] as? String == "valid" {
                let plaintext = Self.bytes(vector["plaintext"])
                #expect(try Envelope(bytes: bytes).open(using: kek, context: context) == plaintext, "\(name)")
                #expect(try Envelope(text: vector["text"] as! String).bytes == bytes, "\(name)")
                let threshold = vector["compressionThreshold"] as! Int
                let options = EnvelopeOptions(
                    algorithm: AEADAlgorithm(rawValue: UInt8(vector["algorithm"] as! Int))!,
                    compression: threshold < 0 ? .disabled : .zlib(threshold: threshold))
                let resealed = try Envelope.seal(
                    plaintext, using: kek, context: context, options: options,
                    dataKey: DataKey(testVectorBytes: Self.bytes(vector["dataKey"])),
                    wrapNonce: Self.bytes(vector["wrapNonce"]), nonce: Self.bytes(vector["nonce"]))
                #expect(resealed.bytes == bytes, "\(name)")
            } else {
                #expect(throws: CofferCryptoError.authenticationFailed, "\(name)") {
                    try Envelope(bytes: bytes).open(using: kek, context: context)
                }
            }
        }
    }

    /// Envelopes sealed to recipients: every listed identity opens each valid vector; resealing
    /// the listed stanzas with the listed data key and nonce gives the same bytes; the KEK stanza
    /// re-derives from its nonce. The HPKE stanzas were made by Python `cryptography`, so opening
    /// them is also a check against an independent HPKE implementation.
    @Test func envelopesSealedToRecipients() throws {
        let vectors = try Self.load("coffer_envelope_recipients_v1")
        #expect(vectors.filter { $0["result"] as? String == "valid" }.count >= 3)
        #expect(vectors.filter { $0["result"] as? String == "invalid" }.count >= 10)
        for vector in vectors {
            let json = vector["identities"] as! [String: Any]
            var identities: [any Identity] = []
            if let kekJSON = json["kek"] { identities.append(try Self.key(kekJSON)) }
            if let x25519 = json["x25519PrivateKey"] {
                identities.append(X25519Identity(privateKey: try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: Self.bytes(x25519))))
            }
            if let seed = json["xwingSeed"] {
                identities.append(XWingIdentity(privateKey: try XWingMLKEM768X25519.PrivateKey(seedRepresentation: Self.bytes(seed), publicKey: nil)))
            }
            #expect(!identities.isEmpty)
            let context = EncryptionContext(vector["context"] as! [String: String])
            let bytes = Self.bytes(vector["envelope"])
            let name = vector["description"] as! String
            if vector["result"] as? String == "valid" {
                let plaintext = Self.bytes(vector["plaintext"])
                for identity in identities {
                    #expect(try Envelope(bytes: bytes).open(with: [identity], context: context) == plaintext, "\(name)")
                }
                #expect(try Envelope(text: vector["text"] as! String).bytes == bytes, "\(name)")
                let stanzas = try (vector["stanzas"] as! [[String: Any]]).map {
                    try RecipientStanza(kind: .init(rawValue: UInt8($0["type"] as! Int)), body: Self.bytes($0["body"]))
                }
                let dataKey = try DataKey(testVectorBytes: Self.bytes(vector["dataKey"]))
                for case let kek as KeyEncryptionKey in identities {
                    #expect(stanzas.contains(try kek.stanza(wrapping: dataKey, nonce: Self.bytes(vector["kekStanzaNonce"]))), "\(name)")
                }
                let threshold = vector["compressionThreshold"] as! Int
                let options = EnvelopeOptions(
                    algorithm: AEADAlgorithm(rawValue: UInt8(vector["algorithm"] as! Int))!,
                    compression: threshold < 0 ? .disabled : .zlib(threshold: threshold))
                let resealed = try Envelope.seal(
                    plaintext, stanzas: stanzas, context: context, options: options, dataKey: dataKey, nonce: Self.bytes(vector["nonce"]))
                #expect(resealed.bytes == bytes, "\(name)")
            } else {
                for identity in identities {
                    #expect(throws: CofferCryptoError.authenticationFailed, "\(name)") {
                        try Envelope(bytes: bytes).open(with: [identity], context: context)
                    }
                }
            }
        }
    }

    @Test func streams() throws {
        let vectors = try Self.load("coffer_stream_v1")
        #expect(vectors.filter { $0["result"] as? String == "valid" }.count >= 4)
        #expect(vectors.filter { $0["result"] as? String == "invalid" }.count >= 5)
        for vector in vectors {
            let keys = try (vector["recipients"] as! [Any]).map { try Self.key($0) }
            let context = EncryptionContext(vector["context"] as! [String: String])
            let bytes = Self.bytes(vector["stream"])
            let name = vector["description"] as! String
            if vector["result"] as? String == "valid" {
                let plaintext = Self.bytes(vector["plaintext"])
                for key in keys {
                    #expect(try CofferStream.open(bytes, with: [key], context: context) == plaintext, "\(name)")
                }
                let inputKey = try DataKey(testVectorBytes: Self.bytes(vector["inputKey"]))
                let nonces = (vector["stanzaNonces"] as! [Any]).map { Self.bytes($0) }
                let stanzas = try zip(keys, nonces).map { try $0.stanza(wrapping: inputKey, nonce: $1) }
                var encryptor = try StreamEncryptor(inputKey: inputKey, stanzas: stanzas, salt: Self.bytes(vector["salt"]), context: context)
                var output: [UInt8] = []
                try encryptor.update(plaintext, into: &output)
                try encryptor.finish(into: &output)
                #expect(output == bytes, "\(name)")
            } else {
                #expect(throws: CofferCryptoError.authenticationFailed, "\(name)") {
                    try CofferStream.open(bytes, with: keys, context: context)
                }
            }
        }
    }
}
