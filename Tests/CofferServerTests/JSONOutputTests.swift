import CofferAudit
import CofferCrypto
import CofferJSON
import Foundation
import Testing
@testable import CofferServer

/// The hand-written JSON of audit lines and crypto responses is the bytes JSONEncoder (sorted
/// keys, unescaped slashes) writes for the same values — checked on random values that include
/// quotes, backslashes, slashes, every control character and non-ASCII text.
@Suite("Hot-path JSON")
struct JSONOutputTests {
    static let pieces = ["a", "Z", "0", " ", "\"", "\\", "/", "é", "日本", "🔑", "\u{7F}", "\u{2028}"] + (0..<0x20).map { String(UnicodeScalar(UInt8($0))) }

    static func randomString<G: RandomNumberGenerator>(_ generator: inout G) -> String {
        (0..<Int.random(in: 0...12, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
    }

    static func encoded(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    @Test func auditLinesAreJSONEncodersBytes() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            var record = AuditRecord(
                time: Self.randomString(&generator), requestID: Self.randomString(&generator), identity: Self.randomString(&generator),
                client: Self.randomString(&generator), operation: Self.randomString(&generator),
                key: Bool.random() ? Self.randomString(&generator) : nil, version: Bool.random() ? UInt32.random(in: 0...UInt32.max) : nil,
                status: Int.random(in: -1000...1000), error: Bool.random() ? Self.randomString(&generator) : nil)
            let previous = Self.randomString(&generator)
            let (line, hash) = try AuditChain.line(for: record, after: previous)
            record.prev = previous
            #expect(line == (try Self.encoded(record)), "\(String(decoding: line, as: UTF8.self))")
            #expect(hash == AuditChain.hash(line))
        }
    }

    @Test func cryptoResponsesAreJSONEncodersBytes() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let encrypt = CryptoRoutes.EncryptResponse(ciphertext: Self.randomString(&generator), key: Self.randomString(&generator), version: UInt32.random(in: 0...UInt32.max))
            let decrypt = CryptoRoutes.DecryptResponse(plaintext: Self.randomString(&generator), key: Self.randomString(&generator), version: UInt32.random(in: 0...9))
            let batch = CryptoRoutes.BatchResult(results: (0..<Int.random(in: 0...5)).map { _ in
                Bool.random()
                    ? CryptoRoutes.BatchItem(result: encrypt, error: nil)
                    : CryptoRoutes.BatchItem(result: nil, error: CryptoRoutes.ErrorBody(code: Self.randomString(&generator), message: Self.randomString(&generator)))
            })
            for value in [encrypt, decrypt, batch] as [any Encodable & JSONWritable] {
                var out = JSONOutput()
                value.write(to: &out)
                #expect(out.bytes == (try Self.encoded(value)))
            }
        }
    }

    @Test func hexAndBase64URLMatchTheirReferences() {
        for count in 0..<70 {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255) }
            #expect(Hex.encode(bytes) == bytes.map { String(format: "%02x", $0) }.joined())
            let reference = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            #expect(Base64URL.encode(bytes) == reference)
            #expect(Base64URL.encode(bytes[...]) == reference && Base64URL.encode(AnyCollection(bytes)) == reference)
            #expect(Base64URL.decode(Substring(reference)) == bytes)
            #expect(Base64URL.encode(bytes, prefix: "coffer:v1:") == "coffer:v1:" + reference)
        }
        // Every 12-bit value in both halves of a three-byte group (the encoder's pair table).
        var groups: [UInt8] = []
        for value in 0..<4096 {
            let group = value << 12 | (4095 - value)
            groups += [UInt8(group >> 16), UInt8(group >> 8 & 0xFF), UInt8(group & 0xFF)]
        }
        let reference = Data(groups).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        #expect(Base64URL.encode(groups) == reference)
    }

    /// The word-at-a-time check agrees with the obvious byte loop for every byte value at every
    /// position of every length around the eight-byte word, alone and among other bytes.
    @Test func escapingCheckAgreesWithAByteLoop() {
        func reference(_ bytes: [UInt8]) -> Bool { bytes.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C } }
        for count in 0...20 {
            for position in 0..<max(count, 1) {
                for value in UInt8.min...UInt8.max {
                    for filler: UInt8 in [UInt8(ascii: "a"), 0x7F, 0xFF, 0x21, 0x5D] {
                        var bytes = [UInt8](repeating: filler, count: count)
                        if count > 0 { bytes[position] = value }
                        let fast = bytes.withUnsafeBytes { JSONEscaping.needsEscaping($0) }
                        if fast != reference(bytes) {
                            Issue.record("length \(count), byte \(value) at \(position) among \(filler): \(fast)")
                            return
                        }
                    }
                }
            }
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let bytes = (0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 0x18...0xFF, using: &generator) }
            #expect(bytes.withUnsafeBytes { JSONEscaping.needsEscaping($0) } == reference(bytes))
        }
    }
}
