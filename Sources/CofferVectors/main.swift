// coffer-vectors: writes docs/vectors/coffer_envelope_v1.json, coffer_stream_v1.json and coffer_key_ring_v1.json.
//
//   swift run coffer-vectors docs/vectors
//
// Every random input (keys, nonces, salts) is fixed here, so the output is byte-for-byte
// reproducible; CofferCryptoTests checks the committed files against the library both ways
// (decrypt each vector; re-encrypt it with the same inputs and compare).
@_spi(Hazmat) import CofferCrypto
import Foundation

func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

/// Deterministic filler: byte i = (i * 31 + seed) mod 251.
func filler(_ count: Int, seed: Int) -> [UInt8] { (0..<count).map { UInt8((($0 * 31) + seed) % 251) } }

let kekBytes = filler(32, seed: 1)
let kek = try KeyEncryptionKey(restoring: kekBytes, reference: KeyReference("vector-key", version: 3))
let kek2Bytes = filler(32, seed: 2)
let kek2 = try KeyEncryptionKey(restoring: kek2Bytes, reference: KeyReference("other.key_2", version: 1))

func keyJSON(_ key: KeyEncryptionKey, _ bytes: [UInt8]) -> [String: Any] {
    ["id": key.reference.identifier.rawValue, "version": Int(key.reference.version.rawValue), "key": hex(bytes)]
}

func flip(_ bytes: [UInt8], at index: Int) -> [UInt8] {
    var copy = bytes
    copy[index] ^= 0x01
    return copy
}

// MARK: envelopes

var envelopeVectors: [[String: Any]] = []
let envelopeCases: [(String, [UInt8], EncryptionContext, EnvelopeOptions)] = [
    ("empty plaintext, AES-256-GCM, no context", [], .empty, .init()),
    ("short plaintext, AES-256-GCM, context", Array("attack at dawn".utf8), ["tenant": "acme", "purpose": "test"], .init()),
    ("ChaCha20-Poly1305", filler(100, seed: 3), ["a": ""], .init(algorithm: .chacha20Poly1305)),
    ("AES-256-GCM-SIV", filler(64, seed: 4), .empty, .init(algorithm: .aes256GCMSIV)),
    ("zlib-compressed plaintext", Array(String(repeating: "coffer ", count: 200).utf8), ["k": "v"], .init(compression: .zlib(threshold: 128))),
]
for (index, (name, plaintext, context, options)) in envelopeCases.enumerated() {
    let dataKeyBytes = filler(32, seed: 10 + index)
    let wrapNonce = filler(12, seed: 20 + index)
    let nonce = filler(12, seed: 30 + index)
    let envelope = try Envelope.seal(
        plaintext, using: kek, context: context, options: options,
        dataKey: DataKey(testVectorBytes: dataKeyBytes), wrapNonce: wrapNonce, nonce: nonce)
    let base: [String: Any] = [
        "kek": keyJSON(kek, kekBytes), "context": context.entries, "algorithm": Int(options.algorithm.rawValue),
        "compressionThreshold": { if case .zlib(let t) = options.compression { return t } else { return -1 } }(),
        "dataKey": hex(dataKeyBytes), "wrapNonce": hex(wrapNonce), "nonce": hex(nonce), "plaintext": hex(plaintext),
    ]
    var valid = base
    valid["description"] = name
    valid["envelope"] = hex(envelope.bytes)
    valid["text"] = envelope.text
    valid["result"] = "valid"
    envelopeVectors.append(valid)
    if index == 1 {
        let bytes = envelope.bytes
        let invalid: [(String, [UInt8], EncryptionContext)] = [
            ("wrong context", bytes, ["tenant": "acme"]),
            ("flipped payload tag bit", flip(bytes, at: bytes.count - 1), context),
            ("flipped key version", flip(bytes, at: 7 + 1 + 10 + 3), context),
            ("flipped wrapped-key byte", flip(bytes, at: 7 + 1 + 10 + 4 + 20), context),
            ("reserved flag bit set", bytes.enumerated().map { $0.offset == 6 ? $0.element | 0x80 : $0.element }, context),
            ("unknown algorithm", bytes.enumerated().map { $0.offset == 5 ? 9 : $0.element }, context),
            ("truncated", Array(bytes.dropLast(1)), context),
            ("trailing byte", bytes + [0], context),
        ]
        for (what, bad, badContext) in invalid {
            var vector = base
            vector["description"] = what
            vector["context"] = badContext.entries
            vector["envelope"] = hex(bad)
            vector["result"] = "invalid"
            vector["error"] = "authentication_failed"
            envelopeVectors.append(vector)
        }
    }
}

// MARK: streams

var streamVectors: [[String: Any]] = []
let chunk = 16 * 1024
let streamCases: [(String, Int, EncryptionContext, [KeyEncryptionKey])] = [
    ("empty stream, one recipient", 0, .empty, [kek]),
    ("one short chunk, context", 100, ["object": "a/b.txt"], [kek]),
    ("exactly one full chunk then an empty final chunk", chunk, .empty, [kek]),
    ("two chunks, two recipients", chunk + 1, .empty, [kek, kek2]),
]
for (index, (name, size, context, recipients)) in streamCases.enumerated() {
    let inputKeyBytes = filler(32, seed: 40 + index)
    let inputKey = try DataKey(testVectorBytes: inputKeyBytes)
    let salt = filler(24, seed: 50 + index)
    let nonces = recipients.indices.map { filler(12, seed: 60 + index * 4 + $0) }
    let stanzas = try zip(recipients, nonces).map { try $0.stanza(wrapping: inputKey, nonce: $1) }
    var encryptor = try StreamEncryptor(inputKey: inputKey, stanzas: stanzas, salt: salt, context: context)
    let plaintext = filler(size, seed: 70 + index)
    var output: [UInt8] = []
    try encryptor.update(plaintext, into: &output)
    try encryptor.finish(into: &output)
    let base: [String: Any] = [
        "recipients": recipients.map { keyJSON($0, $0 == kek ? kekBytes : kek2Bytes) },
        "stanzaNonces": nonces.map(hex), "context": context.entries, "inputKey": hex(inputKeyBytes),
        "salt": hex(salt), "plaintext": hex(plaintext),
    ]
    var valid = base
    valid["description"] = name
    valid["stream"] = hex(output)
    valid["result"] = "valid"
    streamVectors.append(valid)
    if index == 3 {
        let headerCount = try StreamHeader.parse(output).byteCount
        let invalid: [(String, [UInt8])] = [
            ("flipped header MAC bit", flip(output, at: headerCount - 1)),
            ("flipped stanza byte", flip(output, at: 12)),
            ("flipped salt bit", flip(output, at: headerCount)),
            ("flipped commitment bit", flip(output, at: headerCount + 30)),
            ("flipped first-chunk bit", flip(output, at: headerCount + 56 + 100)),
            ("truncated at the chunk boundary", Array(output.prefix(headerCount + 56 + 16 * 1024 + 16))),
            ("final chunk dropped a byte", Array(output.dropLast(1))),
            ("trailing byte", output + [0]),
            ("second stanza removed (count byte edited)", output.enumerated().map { $0.offset == 5 ? 1 : $0.element }),
        ]
        for (what, bad) in invalid {
            var vector = base
            vector["description"] = what
            vector["stream"] = hex(bad)
            vector["result"] = "invalid"
            vector["error"] = "authentication_failed"
            streamVectors.append(vector)
        }
    }
}

func write(_ name: String, _ vectors: [[String: Any]], notes: String) throws {
    let directory = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "docs/vectors"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let document: [String: Any] = ["format": name, "notes": notes, "generator": "swift run coffer-vectors docs/vectors", "vectors": vectors]
    let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    try (data + Data("\n".utf8)).write(to: URL(fileURLWithPath: directory).appendingPathComponent("\(name).json"))
    FileHandle.standardError.write(Data("wrote \(directory)/\(name).json (\(vectors.count) vectors)\n".utf8))
}

try write("coffer_envelope_v1", envelopeVectors, notes: "docs/FORMAT.md, Format 1. Hex strings; 'compressionThreshold' -1 means compression disabled.")
try write("coffer_stream_v1", streamVectors, notes: "docs/FORMAT.md, Format 2. Stanza nonces are listed in recipient order.")
try write("coffer_key_ring_v1", keyRingVectors(), notes: "docs/FORMAT.md, Key ring file: serialized rings. Hex strings; -1 means the setting is off; a destroyed version's key is empty.")
