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
