import Foundation

/// One generic loader for Wycheproof JSON files (`testGroups[].tests[]`), as swift-crypto does.
struct WycheproofFile<Group: Decodable>: Decodable {
    let testGroups: [Group]

    static func load(_ name: String) throws -> WycheproofFile<Group> {
        try JSONDecoder().decode(WycheproofFile<Group>.self, from: VectorDirectory.data("wycheproof/\(name)"))
    }
}

enum WycheproofResult: String, Decodable {
    case valid, invalid, acceptable
}

struct AEADGroup: Decodable {
    let ivSize: Int
    let keySize: Int
    let tagSize: Int
    let tests: [Test]
    struct Test: Decodable {
        let tcId: Int
        let key, iv, aad, msg, ct, tag: Hex
        let result: WycheproofResult
    }
}

struct HKDFGroup: Decodable {
    let tests: [Test]
    struct Test: Decodable {
        let tcId: Int
        let ikm, salt, info, okm: Hex
        let size: Int
        let result: WycheproofResult
    }
}

struct MACGroup: Decodable {
    let keySize: Int
    let tagSize: Int
    let tests: [Test]
    struct Test: Decodable {
        let tcId: Int
        let key, msg, tag: Hex
        let result: WycheproofResult
    }
}

struct PBKDFGroup: Decodable {
    let tests: [Test]
    struct Test: Decodable {
        let tcId: Int
        let password, salt, dk: Hex
        let iterationCount: Int
        let dkLen: Int
        let result: WycheproofResult
    }
}

struct ChunkedGroup: Decodable {
    let aead: String
    let sha: String
    let tests: [Test]
    struct Test: Decodable {
        let tcId: Int
        let comment: String
        let key, ctx, ct: Hex
        let aeadKey, baseNonce, msgSha512: Hex?
        let msgLength: Int?
        let result: WycheproofResult
        let flags: [String]
    }
}

/// A hex string decoded to bytes.
struct Hex: Decodable, Hashable {
    let bytes: [UInt8]
    init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let bytes = Hex.decode(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad hex"))
        }
        self.bytes = bytes
    }

    static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
        var i = 0
        while i < utf8.count {
            guard let hi = nibble(utf8[i]), let lo = nibble(utf8[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
