import Crypto
import Foundation
import Testing

@testable import CofferCrypto

/// Wycheproof HKDF, HMAC and PBKDF2 vectors and the RFC 7914 numbers through Coffer's wrappers.
@Suite(.enabled(if: VectorDirectory.isAvailable, VectorDirectory.skipReason))
struct WycheproofKDFTests {
    @Test(arguments: [(HKDFHash.sha256, "hkdf_sha256_test.json"), (HKDFHash.sha512, "hkdf_sha512_test.json")])
    func hkdf(hash: HKDFHash, file: String) throws {
        let groups = try WycheproofFile<HKDFGroup>.load(file).testGroups
        var count = 0
        for test in groups.flatMap(\.tests) {
            count += 1
            let ikm = SymmetricKey(data: test.ikm.bytes)
            switch test.result {
            case .valid, .acceptable:
                let okm = try hash.deriveKey(inputKeyMaterial: ikm, salt: test.salt.bytes, info: test.info.bytes, outputByteCount: test.size)
                #expect(okm.withUnsafeBytes { Array($0) } == test.okm.bytes, "tcId \(test.tcId)")
            case .invalid:
                // Invalid HKDF vectors ask for more than 255 × hash length: an error, not a crash.
                #expect(throws: CofferCryptoError(.invalidParameter), "tcId \(test.tcId)") {
                    try hash.deriveKey(inputKeyMaterial: ikm, salt: test.salt.bytes, info: test.info.bytes, outputByteCount: test.size)
                }
            }
        }
        #expect(count > 50)
    }

    @Test(arguments: [(HMACHash.sha256, "hmac_sha256_test.json"), (HMACHash.sha512, "hmac_sha512_test.json")])
    func hmac(hash: HMACHash, file: String) throws {
        let groups = try WycheproofFile<MACGroup>.load(file).testGroups
        var count = 0
        for group in groups {
            for test in group.tests {
                count += 1
                let key = SymmetricKey(data: test.key.bytes)
                let valid = hash.isValid(test.tag.bytes, for: test.msg.bytes, using: key)
                #expect(valid == (test.result != .invalid), "tcId \(test.tcId)")
                if test.result == .valid, group.tagSize / 8 == hash.tagByteCount {
                    #expect(hash.authenticationCode(for: test.msg.bytes, using: key) == test.tag.bytes, "tcId \(test.tcId)")
                }
            }
        }
        #expect(count > 100)
    }

    @Test func pbkdf2() throws {
        let groups = try WycheproofFile<PBKDFGroup>.load("pbkdf2_hmacsha256_test.json").testGroups
        let limits = PasswordKDFLimits(maximumPBKDF2Iterations: .max, maximumScryptMemoryBytes: 0, maximumScryptParallelism: 0)
        var count = 0
        for test in groups.flatMap(\.tests) {
            count += 1
            let parameters = PasswordKDFParameters.pbkdf2SHA256(iterations: UInt32(test.iterationCount))
            switch test.result {
            case .valid, .acceptable:
                let dk = try parameters.deriveKey(from: test.password.bytes, salt: test.salt.bytes, outputByteCount: test.dkLen, limits: limits)
                #expect(dk.withUnsafeBytes { Array($0) } == test.dk.bytes, "tcId \(test.tcId)")
            case .invalid:
                #expect(throws: CofferCryptoError.self, "tcId \(test.tcId)") {
                    try parameters.deriveKey(from: test.password.bytes, salt: test.salt.bytes, outputByteCount: test.dkLen, limits: limits)
                }
            }
        }
        #expect(count >= 50)
    }
}

/// RFC 7914 §11 (PBKDF2-HMAC-SHA256) and §12 (scrypt). §8–10 cover scrypt's internal steps
/// (Salsa20/8, BlockMix, ROMix), which swift-crypto does not expose separately; the §12 outputs
/// exercise them end to end.
@Suite(.enabled(if: VectorDirectory.isAvailable, VectorDirectory.skipReason))
struct RFC7914Tests {
    struct Vectors: Decodable {
        struct PBKDF2: Decodable { let password, salt: String; let c, dkLen: Int; let dk: Hex }
        struct Scrypt: Decodable { let password, salt: String; let N, r, p, dkLen: Int; let dk: Hex }
        let pbkdf2_hmac_sha256: [PBKDF2]
        let scrypt: [Scrypt]
    }

    static func load() throws -> Vectors {
        try JSONDecoder().decode(Vectors.self, from: VectorDirectory.data("rfc7914_scrypt_pbkdf2.json"))
    }

    @Test func pbkdf2() throws {
        let vectors = try Self.load().pbkdf2_hmac_sha256
        #expect(!vectors.isEmpty)
        for vector in vectors {
            let dk = try PasswordKDFParameters.pbkdf2SHA256(iterations: UInt32(vector.c))
                .deriveKey(from: Array(vector.password.utf8), salt: Array(vector.salt.utf8), outputByteCount: vector.dkLen)
            #expect(dk.withUnsafeBytes { Array($0) } == vector.dk.bytes)
        }
    }

    @Test func scrypt() throws {
        let vectors = try Self.load().scrypt
        #expect(vectors.count >= 3)
        for vector in vectors {
            let logN = UInt8(vector.N.trailingZeroBitCount)
            let parameters = PasswordKDFParameters.scrypt(logN: logN, r: UInt32(vector.r), p: UInt32(vector.p))
            // The RFC's §12 first case uses N = 16, far below what Coffer writes; readers still
            // accept it because only the maximum is enforced when reading.
            let limits = PasswordKDFLimits(maximumPBKDF2Iterations: 0, maximumScryptMemoryBytes: 1 << 31, maximumScryptParallelism: 16)
            let dk = try parameters.deriveKey(
                from: Array(vector.password.utf8), salt: Array(vector.salt.utf8), outputByteCount: vector.dkLen, limits: limits)
            #expect(dk.withUnsafeBytes { Array($0) } == vector.dk.bytes, "N=\(vector.N) r=\(vector.r) p=\(vector.p)")
        }
    }
}
