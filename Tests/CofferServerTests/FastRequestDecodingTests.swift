import Foundation
import Testing
@testable import CofferServer

/// The fast request decoder may only ever agree with JSONDecoder: whatever it accepts, JSONDecoder
/// decodes to the same values; and the usual bodies do take the fast path.
@Suite("Fast request decoding")
struct FastRequestDecodingTests {
    typealias EncryptBatch = CryptoRoutes.Batch<CryptoRoutes.EncryptRequest>

    static func fast<T: FastDecodable>(_ type: T.Type, _ body: [UInt8]) -> T? {
        body.withUnsafeBytes { FastRequestDecoding.parse($0).flatMap { T(fast: $0) } }
    }

    static func same(_ a: CryptoRoutes.EncryptRequest, _ b: CryptoRoutes.EncryptRequest) -> Bool { a.plaintext == b.plaintext && a.context == b.context }

    static let pieces = [
        #"{"plaintext":"aGVsbG8="}"#, #"{"plaintext":"aGVsbG8=","context":{"tenant":"7"}}"#, #"{ "context" : null , "plaintext" : "" }"#,
        #"{"plaintext":"a\/b"}"#, #"{"plaintext":"x","plaintext":"y"}"#, #"{"plaintext":"x","extra":1}"#, #"{"plaintext":1}"#,
        #"{"plaintext":"x","context":{"a":"é","b":"日本"}}"#, #"{"plaintext":"x","context":{"a":1}}"#, #"{"plaintext":"x","context":[]}"#,
        #"{"items":[{"plaintext":"QQ=="},{"plaintext":"Qg==","context":{"k":"v"}}]}"#, #"{"items":[]}"#, #"{"items":{}}"#,
        #"{"plaintext":"\u0041"}"#, "{\"plaintext\":\"tab\there\"}", #"[{"plaintext":"x"}]"#, #"{"plaintext":"x"} trailing"#, "",
        #"{"plaintext":"x",}"#, #"{"plaintext" "x"}"#, #"{"plaintext":"x""#, "\u{FEFF}{\"plaintext\":\"x\"}", #"{"plaintext":null}"#,
    ]

    @Test func acceptsOnlyWhatJSONDecoderDecodesTheSameWay() throws {
        var bodies = Self.pieces.map { Array($0.utf8) }
        // Every piece mutated at every position: a byte flipped, dropped, or a quote inserted.
        for piece in Self.pieces.map({ Array($0.utf8) }) where !piece.isEmpty {
            for position in 0..<piece.count {
                var flipped = piece; flipped[position] ^= 0x20; bodies.append(flipped)
                var dropped = piece; dropped.remove(at: position); bodies.append(dropped)
                var quoted = piece; quoted.insert(UInt8(ascii: "\""), at: position); bodies.append(quoted)
                var invalid = piece; invalid[position] = 0xFF; bodies.append(invalid)
            }
        }
        var fastCount = 0
        for body in bodies {
            if let fast = Self.fast(CryptoRoutes.EncryptRequest.self, body) {
                fastCount += 1
                let reference = try? JSONDecoder().decode(CryptoRoutes.EncryptRequest.self, from: Data(body))
                #expect(reference.map { Self.same($0, fast) } == true, "\(String(decoding: body, as: UTF8.self))")
            }
            if let fast = Self.fast(EncryptBatch.self, body) {
                let reference = try? JSONDecoder().decode(EncryptBatch.self, from: Data(body))
                #expect(reference?.items.count == fast.items.count, "\(String(decoding: body, as: UTF8.self))")
                if let reference { #expect(zip(reference.items, fast.items).allSatisfy(Self.same)) }
            }
        }
        #expect(fastCount > 20, "the fast path is taken for ordinary bodies")
    }

    @Test func ordinaryBodiesTakeTheFastPath() {
        #expect(Self.fast(CryptoRoutes.EncryptRequest.self, Array(#"{"plaintext":"aGVsbG8=","context":{"tenant":"7"}}"#.utf8))?.context == ["tenant": "7"])
        #expect(Self.fast(CryptoRoutes.CiphertextRequest.self, Array(#"{"ciphertext":"coffer:v1:AAAA"}"#.utf8))?.ciphertext == "coffer:v1:AAAA")
        let items = (0..<100).map { _ in #"{"plaintext":"\#(Data((0..<1024).map { _ in UInt8.random(in: 0...255) }).base64EncodedString())"}"# }
        #expect(Self.fast(EncryptBatch.self, Array(#"{"items":[\#(items.joined(separator: ","))]}"#.utf8))?.items.count == 100)
        // Outside the subset: left to JSONDecoder.
        #expect(Self.fast(CryptoRoutes.EncryptRequest.self, Array(#"{"plaintext":"a\/b"}"#.utf8)) == nil)
        #expect(Self.fast(CryptoRoutes.EncryptRequest.self, Array(#"{"plaintext":"x","unknown":"y"}"#.utf8)) == nil)
    }
}
