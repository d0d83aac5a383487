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
func hexDecode(_ text: String) -> [UInt8] {
    let digits = Array(text.utf8)
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<($0 + 2)], as: UTF8.self), radix: 16)! }
}

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
        envelopeVectors += invalidEnvelopeVectors(base: base, invalid)
    }
}

// MARK: envelopes sealed to recipients

// HPKE encapsulation is randomized and swift-crypto has no public deterministic HPKE sender, so the
// HPKE stanza bodies below are fixed inputs: minted once by an independent implementation (Python
// `cryptography`'s HPKE, scripts/mint_envelope_stanzas.py) for the data key, X25519 private key and
// X-Wing seed listed here. Everything around them (the KEK stanza, MAC, payload) is derived.
let recipientDataKeyBytes = filler(32, seed: 100)
let x25519PrivateKey = filler(32, seed: 101)
let xwingSeed = filler(32, seed: 102)
let x25519StanzaBody = "c570e36e8bd46b472702720c26329ad70349d092b3e815d5adcbbcc04028d84c725a88bc8e998b01eef54444dcf28b1f8a844814f6e8515472446147f57c8a1f4d4fd62b3b4c46d9171d18750d096495"
let xwingStanzaBody = [
    "cdbcce5050a8972d16a09a756b3358baf2669cdb80a3a65fb99dfeaabd458e0a6792158fa5b6c508437f6c91eee8c6df",
    "565781e18a79acf8e1717dd6afb0eb8765228215016cefbc76f7d8e1dd8db265c4d1842993e513960c2c15c85d106d2e",
    "d095c19f6524d4897f2fc1948e063510bc9143c42dd769be682e98e16bd7125c8143346618f4fc685228538b5e2187d6",
    "6ead102719f469f3934f4775f9973e016841d32fb0d353453caff15502718261753515b4c9985b1bfcfc8fb919e23bcb",
    "6ae6db3a0d9e89e0d699e4ee97115b453abcb469892bcd86e3cea110eb4bc2bae1de25e433a094db17c1c401d834c1f3",
    "b166bb2f2f5c6e09a37d849d84aaeb9c63086ee78973d8635c0db52e2108d6b6e82a0cd47a53548f3deb6893c6cbf2ed",
    "7a818ac25e6a133f5152fe726ae1425c12236152a774da26df62aba0ef4b503916d5326d873ca9d93c1c8e31d8cfebba",
    "51673f49bf202b356e11efd46b6e1047857a35e1e10e7b7dcefadafa940664def63541bb6b78e8f11cb458be52ed779d",
    "60976ccf947765223fa2db5319a40d79709669886f0891a38af5d18657180eecfd8bc36916a1375769bc7b2a842dc4f2",
    "c2a554873734cb6fefb84e5edd737261db29a5e335b2590e9c99c881efcccc553469ed66bde6800769192e835ddecc83",
    "9973848912d9799abe36d114c28489afdd36751c32c479e3c0d2d3cd06acb43d2951fd31fab8101d94cf33787675e554",
    "be889402511901a1f7b19abdb46e7b5b4399542694121e05feadf8fc65a512e94d537c238ec234fc9c8ee56e6116c072",
    "24cb4d15688feffc0c075a45b42c153b863d13c702e2bb0be407722ce3b53092e453a07bfa088e7b1f113b83a9ee02f0",
    "1b1aea603b7e802196d026aab9ae28a85059a020a6610d0523fec9ce6606beff7f3741710b0fc935df55bfeb4ef10cdb",
    "22c81f7db406de2eedd63b0fac305e9e5ed9a9418adebf911229fcd4565b1027af2393451bc604830e76a19435bf6a4c",
    "4381081219aa9631374fb085a0ccc8be8ff7a39eccb973b993a9e8fe5450280126c680e13c40a55e2807b56337d4d064",
    "00596b8b8ac344900735d12119df4ea1143bcd7e758db5b26ca9355812bce7f1dba42b3f7c36875857c47d7f4a83e106",
    "0d290b6cbbfa0668c29f8849d8bfb8136f0a9556ffad68180d5d042db4fe389ec3a4ce5dbc1c899990aba38d2e57650e",
    "dbf77e4d8f003594cbaf45d199b3278ea866dd6bb1ad8748a114213dcfff2f69daf27661b1b75c58f6369d4065165f0b",
    "3f5c6dcd7b4ec2b8b56090ead4364a2a96d3860e6583eb54a594a2e275c675efa08b3ac3ff88f79eecaf78bf6b4ee7cd",
    "360363a41eae241f1d99fff1e4d7e5768e21a1d0906ae1c8bec1b436354723be83f1a35b24bb992e62a537d3fee925c8",
    "9775be8886f92768ca4b394b9b565a8c6fa95dd98553582b947b7f6d1286d4611412f7c97349d38be4d433590b4bb5bf",
    "2cc73430968b0a2f015c2bf24e1e82af64b14184efbe90c8aa6f032eb75c2b4a8534238ad141f35b0f781af2aaa99e77",
    "c1be0b9dc54d468eb0786a6f25c5ce41072e8ebc8d79c8ccae0cdabc34d897a49aba4cd1cd04216ee2e6403d9a471b58",
    "2fa7f61bc301a0093575f6b4ab93ca72",
].joined()

let futureStanza = try RecipientStanza(kind: .init(rawValue: 0x7F), body: Array("a newer writer's recipient".utf8))

var recipientVectors: [[String: Any]] = []
let recipientDataKey = try DataKey(testVectorBytes: recipientDataKeyBytes)
let kekStanzaNonce = filler(12, seed: 103)
let kekStanza = try kek.stanza(wrapping: recipientDataKey, nonce: kekStanzaNonce)
let x25519Stanza = try RecipientStanza(kind: .x25519, body: Array(hexDecode(x25519StanzaBody)))
let xwingStanza = try RecipientStanza(kind: .xwing, body: Array(hexDecode(xwingStanzaBody)))
let recipientCases: [(String, [RecipientStanza], [UInt8], EncryptionContext, EnvelopeOptions)] = [
    ("one key-encryption-key stanza, AES-256-GCM, context", [kekStanza], Array("attack at dawn".utf8), ["tenant": "acme"], .init()),
    ("X25519 stanza, a stanza of unknown type, KEK stanza; ChaCha20-Poly1305", [x25519Stanza, futureStanza, kekStanza],
     filler(100, seed: 104), ["a": ""], .init(algorithm: .chacha20Poly1305)),
    ("X-Wing stanza, AES-256-GCM-SIV, zlib-compressed", [xwingStanza], Array(String(repeating: "coffer ", count: 200).utf8), .empty,
     .init(algorithm: .aes256GCMSIV, compression: .zlib(threshold: 128))),
]
/// One vector per malformed envelope, each expected to fail with `authentication_failed`.
func invalidEnvelopeVectors(base: [String: Any], _ invalid: [(String, [UInt8], EncryptionContext)]) -> [[String: Any]] {
    invalid.map { what, bad, badContext in
        var vector = base
        vector["description"] = what
        vector["context"] = badContext.entries
        vector["envelope"] = hex(bad)
        vector["result"] = "invalid"
        vector["error"] = "authentication_failed"
        return vector
    }
}

func stanzaJSON(_ stanza: RecipientStanza) -> [String: Any] { ["type": Int(stanza.kind.rawValue), "body": hex(stanza.body)] }
for (index, (name, stanzas, plaintext, context, options)) in recipientCases.enumerated() {
    let nonce = filler(12, seed: 110 + index)
    let envelope = try Envelope.seal(plaintext, stanzas: stanzas, context: context, options: options, dataKey: recipientDataKey, nonce: nonce)
    var identities: [String: Any] = [:]
    if stanzas.contains(where: { $0.kind == .keyEncryptionKey }) { identities["kek"] = keyJSON(kek, kekBytes) }
    if stanzas.contains(where: { $0.kind == .x25519 }) { identities["x25519PrivateKey"] = hex(x25519PrivateKey) }
    if stanzas.contains(where: { $0.kind == .xwing }) { identities["xwingSeed"] = hex(xwingSeed) }
    let base: [String: Any] = [
        "identities": identities, "kekStanzaNonce": hex(kekStanzaNonce), "stanzas": stanzas.map(stanzaJSON),
        "context": context.entries, "algorithm": Int(options.algorithm.rawValue),
        "compressionThreshold": { if case .zlib(let t) = options.compression { return t } else { return -1 } }(),
        "dataKey": hex(recipientDataKeyBytes), "nonce": hex(nonce), "plaintext": hex(plaintext),
    ]
    var valid = base
    valid["description"] = name
    valid["envelope"] = hex(envelope.bytes)
    valid["text"] = envelope.text
    valid["result"] = "valid"
    recipientVectors.append(valid)
    if index == 1 {
        let bytes = envelope.bytes
        // Offsets: fixed header 7, count 1, X25519 stanza 3 + 80, unknown stanza 3 + 26, KEK stanza 3 + 75, MAC 32.
        let macStart = 7 + 1 + 83 + 29 + 78
        let withoutUnknown = Array(bytes[..<7]) + [2] + Array(bytes[8..<91]) + Array(bytes[120...])
        let swapped = Array(bytes[..<8]) + Array(bytes[120..<198]) + Array(bytes[91..<120]) + Array(bytes[8..<91]) + Array(bytes[198...])
        let invalid: [(String, [UInt8], EncryptionContext)] = [
            ("wrong context", bytes, ["a": "b"]),
            ("flipped header MAC bit", flip(bytes, at: macStart), context),
            ("flipped X25519 stanza byte", flip(bytes, at: 7 + 1 + 3 + 40), context),
            ("flipped unknown-stanza byte", flip(bytes, at: 7 + 1 + 83 + 3), context),
            ("flipped KEK stanza key version", flip(bytes, at: 7 + 1 + 83 + 29 + 3 + 1 + 10 + 3), context),
            ("unknown stanza removed (count edited)", withoutUnknown, context),
            ("stanzas reordered", swapped, context),
            ("recipient flag cleared", bytes.enumerated().map { $0.offset == 6 ? $0.element & ~0x02 : $0.element }, context),
            ("reserved flag bit set", bytes.enumerated().map { $0.offset == 6 ? $0.element | 0x80 : $0.element }, context),
            ("zero stanzas", Array(bytes[..<7]) + [0] + Array(bytes[macStart...]), context),
            ("flipped payload tag bit", flip(bytes, at: bytes.count - 1), context),
            ("truncated", Array(bytes.dropLast(1)), context),
            ("trailing byte", bytes + [0], context),
        ]
        recipientVectors += invalidEnvelopeVectors(base: base, invalid)
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
try write(
    "coffer_envelope_recipients_v1", recipientVectors,
    notes: "docs/FORMAT.md, Format 1, recipient form. Hex strings; stanza bodies are inputs (HPKE ones minted by Python cryptography); 'compressionThreshold' -1 means compression disabled.")
try write("coffer_stream_v1", streamVectors, notes: "docs/FORMAT.md, Format 2. Stanza nonces are listed in recipient order.")
try write("coffer_key_ring_v1", keyRingVectors(), notes: "docs/FORMAT.md, Key ring file: serialized rings. Hex strings; -1 means the setting is off; a destroyed version's key is empty.")
