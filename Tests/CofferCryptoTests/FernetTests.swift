import Crypto
import Foundation
import _CryptoExtras
import Testing

@testable import CofferCrypto

/// Fernet behaviour that needs no peer: round trips, the time rules as a table, strict decoding,
/// and tampering. Python interop is in `FernetInteropTests`, the spec vectors in `FernetVectorTests`.
@Suite struct FernetTests {
    let fernet = Fernet(key: Fernet.generateKey())
    static let t: UInt64 = 1_700_000_000

    @Test(arguments: [0, 1, 15, 16, 17, 1000, 100_000])
    func roundTrip(size: Int) throws {
        let plaintext = patternBytes(size)
        let token = try fernet.encrypt(plaintext)
        #expect(try fernet.decrypt(token) == plaintext)
        #expect(try fernet.decrypt(token, ttl: 60) == plaintext)
        let bytes = try #require(FernetBase64.decode(token))
        // version ‖ timestamp ‖ IV ‖ PKCS7-padded ciphertext ‖ HMAC
        #expect(bytes.count == 1 + 8 + 16 + (size / 16 + 1) * 16 + 32)
        #expect(bytes[0] == 0x80)
    }

    /// Around the size where sealing and opening switch to two threads (FernetToken+Parallel):
    /// the bytes must equal a one-shot AES-CBC + HMAC of the whole message.
    @Test(arguments: [FernetToken.parallelThreshold, FernetToken.parallelThreshold + 1, 5 * 1024 * 1024 + 7])
    func largeTokensMatchTheOneShotConstruction(size: Int) throws {
        let plaintext = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
        let iv = patternBytes(16, seed: UInt64(size))
        let token = try FernetToken.seal(plaintext, timestamp: Self.t, iv: iv, key: fernet.key)
        let ciphertext = try AES._CBC.encrypt(plaintext, using: fernet.key.encryptionKey, iv: AES._CBC.IV(ivBytes: iv))
        let body = [0x80, 0, 0, 0, 0, 0x65, 0x53, 0xF1, 0x00] + iv + Array(ciphertext)
        let mac = Array(HMAC<SHA256>.authenticationCode(for: body, using: fernet.key.signingKey))
        #expect(token == FernetBase64.encode(body + mac))
        #expect(try fernet.decrypt(token) == plaintext)

        // Tampering anywhere in a large token, and a bad character in either decoding half, fails.
        let bytes = FernetBase64.decode(token)!
        for index in [30, bytes.count / 2, bytes.count - 1] {
            var copy = bytes
            copy[index] ^= 0x04
            #expect(throws: CofferCryptoError.authenticationFailed) { try fernet.decrypt(FernetBase64.encode(copy)) }
        }
        var text = Array(token.utf8)
        for index in [text.count / 2 - 2, text.count - 6] {
            let saved = text[index]
            text[index] = UInt8(ascii: "+")
            #expect(throws: CofferCryptoError.authenticationFailed) { try fernet.decrypt(String(decoding: text, as: UTF8.self)) }
            text[index] = saved
        }
    }

    @Test func freshIVEveryTime() throws {
        let a = try fernet.encrypt([1, 2, 3], at: Self.t)
        let b = try fernet.encrypt([1, 2, 3], at: Self.t)
        #expect(a != b)
        #expect(FernetBase64.decode(a)![9..<25] != FernetBase64.decode(b)![9..<25])
    }

    @Test func timestampIsWholeSecondsTruncated() throws {
        let token = try fernet.encrypt([7], now: Date(timeIntervalSince1970: 1_700_000_000.999))
        #expect(try fernet.extractTimestamp(token) == 1_700_000_000)
        #expect(throws: CofferCryptoError(.invalidParameter)) { try fernet.encrypt([7], now: Date(timeIntervalSince1970: -1)) }
    }

    /// (token timestamp, ttl, now, maximum skew, valid?) — Python's rules, spelled out.
    static let timeCases: [(timestamp: UInt64, ttl: Int64?, now: Int64, skew: Int64, valid: Bool)] = [
        (t, 60, Int64(t), 60, true),
        (t, 60, Int64(t) + 60, 60, true),  // exactly at the TTL: valid (timestamp + ttl < now is false)
        (t, 60, Int64(t) + 61, 60, false),  // one second past
        (t, 0, Int64(t), 60, true),
        (t, 0, Int64(t) + 1, 60, false),
        (t, -1, Int64(t), 60, false),  // a negative TTL is arithmetic, as in Python
        (t + 60, 60, Int64(t), 60, true),  // future, within the skew
        (t + 61, 60, Int64(t), 60, false),  // future, beyond the skew
        (t + 1, 60, Int64(t), 0, false),  // a custom, zero skew
        (t + 120, 60, Int64(t), 120, true),  // a custom, wider skew
        (t, nil, Int64(t) + 1_000_000, 60, true),  // no TTL: no expiry …
        (t + 1_000_000, nil, Int64(t), 60, true),  // … and, as in Python, no skew check either
        (UInt64.max, 60, Int64(t), 60, false),  // no wrap-around at the top of the range
        (UInt64.max, nil, Int64(t), 60, true),
        (0, Int64.max, Int64.max, 60, true),  // 128-bit arithmetic: 0 + max < max is false
        (t, Int64.max, Int64(t), 60, true),
    ]

    @Test(arguments: timeCases.indices)
    func timeRules(index: Int) throws {
        let c = Self.timeCases[index]
        let token = try fernet.encrypt(Array("payload".utf8), at: c.timestamp)
        if c.valid {
            #expect(try fernet.decrypt(token, ttl: c.ttl, at: c.now, maximumClockSkew: c.skew) == Array("payload".utf8))
        } else {
            #expect(throws: CofferCryptoError.authenticationFailed) {
                try fernet.decrypt(token, ttl: c.ttl, at: c.now, maximumClockSkew: c.skew)
            }
        }
        // The Date form agrees with the seconds form.
        let viaDate = Result { try fernet.decrypt(token, ttl: c.ttl, maximumClockSkew: c.skew, now: Date(timeIntervalSince1970: Double(c.now) + 0.5)) }
        if c.now < 1 << 52 { #expect(((try? viaDate.get()) != nil) == c.valid) }
    }

    @Test func negativeSkewIsAParameterError() throws {
        let token = try fernet.encrypt([1])
        #expect(throws: CofferCryptoError(.invalidParameter)) { try fernet.decrypt(token, ttl: 10, maximumClockSkew: -1) }
    }

    @Test func extractTimestampAuthenticates() throws {
        let token = try fernet.encrypt([1, 2], at: 1234)
        #expect(try fernet.extractTimestamp(token) == 1234)
        #expect(throws: CofferCryptoError.authenticationFailed) { try Fernet(key: Fernet.generateKey()).extractTimestamp(token) }
        var bytes = FernetBase64.decode(token)!
        bytes[8] ^= 1
        #expect(throws: CofferCryptoError.authenticationFailed) { try fernet.extractTimestamp(FernetBase64.encode(bytes)) }
    }

    @Test func everyFlippedByteAndBitFails() throws {
        let token = try fernet.encrypt(patternBytes(20), at: Self.t)
        let bytes = FernetBase64.decode(token)!
        for index in bytes.indices {
            var copy = bytes
            copy[index] ^= 0xFF
            #expect(throws: CofferCryptoError.authenticationFailed) { try fernet.decrypt(FernetBase64.encode(copy)) }
        }
        var failures = 0
        everySingleBitFlip(of: bytes) { copy, _ in
            if (try? fernet.decrypt(FernetBase64.encode(copy))) == nil { failures += 1 }
        }
        #expect(failures == bytes.count * 8)
    }

    @Test func truncatedOrExtendedFails() throws {
        let bytes = FernetBase64.decode(try fernet.encrypt(patternBytes(40), at: Self.t))!
        for length in 0..<bytes.count {
            #expect(throws: CofferCryptoError.authenticationFailed) { try fernet.decrypt(FernetBase64.encode(Array(bytes.prefix(length)))) }
        }
        for extra in [[0], [UInt8](repeating: 0, count: 16), patternBytes(32)] {
            #expect(throws: CofferCryptoError.authenticationFailed) { try fernet.decrypt(FernetBase64.encode(bytes + extra)) }
        }
    }

    @Test func wrongKeyFails() throws {
        let token = try fernet.encrypt([1, 2, 3])
        #expect(throws: CofferCryptoError.authenticationFailed) { try Fernet(key: Fernet.generateKey()).decrypt(token) }
        // Same signing half, different encryption half: authentic, but the padding is garbage
        // (or, 1 time in 256, the plaintext is): never the original plaintext.
        let mixed = try fernet.key.withUnsafeSecretBytes { try FernetKey(restoring: Array($0[0..<16]) + patternBytes(16)) }
        #expect((try? Fernet(key: mixed).decrypt(token)) != [1, 2, 3])
    }

    /// A token whose MAC is valid but whose structure is wrong is still refused: the version byte
    /// and the block structure are checked, not only the MAC.
    @Test(arguments: [0x00, 0x7F, 0x81, 0xFF] as [UInt8])
    func badVersionWithValidMACFails(version: UInt8) throws {
        var bytes = FernetBase64.decode(try fernet.encrypt([1, 2, 3], at: Self.t))!
        bytes[0] = version
        #expect(throws: CofferCryptoError.authenticationFailed) { try fernet.decrypt(resigned(bytes)) }
    }

    @Test func partialBlockWithValidMACFails() throws {
        var bytes = FernetBase64.decode(try fernet.encrypt(patternBytes(40), at: Self.t))!
        bytes.removeSubrange((bytes.count - 33)..<(bytes.count - 32))
        #expect(throws: CofferCryptoError.authenticationFailed) { try fernet.decrypt(resigned(bytes)) }
    }

    /// Replaces the HMAC with a correct one under `fernet`'s signing half.
    func resigned(_ bytes: [UInt8]) -> String {
        let body = Array(bytes.dropLast(32))
        let mac = fernet.key.withUnsafeSecretBytes { key in
            Array(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(key[0..<16]))))
        }
        return FernetBase64.encode(body + mac)
    }

    /// Texts Python's lenient decoder would accept but Coffer refuses (FORMAT.md, "Fernet compatibility").
    @Test func nonCanonicalTokenTextFails() throws {
        let token = try fernet.encrypt(patternBytes(17), at: Self.t)  // 89 bytes: one `=`
        #expect(token.hasSuffix("=") && !token.hasSuffix("=="))
        let variants = [
            token + "\n", " " + token, token.replacingOccurrences(of: "=", with: ""),
            token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/"),
            String(token.prefix(40)) + "\n" + String(token.dropFirst(40)), token + "=", token + "====",
            "", "gAAAAA", String(repeating: "=", count: 120),
        ]
        for text in variants where text != token {
            #expect(throws: CofferCryptoError.authenticationFailed) { try fernet.decrypt(text) }
        }
        // Non-zero unused bits in the last character before the padding.
        var chars = Array(token.utf8)
        let last = chars.count - 2
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        chars[last] = alphabet[alphabet.firstIndex(of: chars[last])! | 1]
        #expect(throws: CofferCryptoError.authenticationFailed) { try fernet.decrypt(String(decoding: chars, as: UTF8.self)) }
    }

    @Test func keyTextIsStrictAndRoundTrips() throws {
        let key = Fernet.generateKey()
        let text = key.unsafeSecretText
        #expect(text.utf8.count == 44 && text.hasSuffix("="))
        #expect(try FernetKey(base64: text) == key)
        #expect(key != Fernet.generateKey())
        let bad = [
            text + "\n", " " + text, String(text.dropLast()), text.replacingOccurrences(of: "-", with: "+"),
            FernetBase64.encode(patternBytes(31)), FernetBase64.encode(patternBytes(33)), "", "not a key",
        ]
        for candidate in bad where candidate != text {
            #expect(throws: CofferCryptoError(.invalidKeySize)) { try FernetKey(base64: candidate) }
        }
        #expect(throws: CofferCryptoError(.invalidKeySize)) { try FernetKey(restoring: patternBytes(16)) }
    }

    @Test func keyNeverPrintsItself() throws {
        let key = Fernet.generateKey()
        let text = key.unsafeSecretText
        var dumped = ""
        dump(key, to: &dumped)
        for rendering in [key.description, key.debugDescription, "\(key)", String(reflecting: key), dumped, "\(Fernet(key: key))"] {
            #expect(!rendering.contains(text))
            #expect(!rendering.contains(String(text.prefix(12))))
        }
    }

    @Test func base64MatchesFoundationForEveryLength() throws {
        for length in 0..<70 {
            let bytes = patternBytes(length, seed: UInt64(length) + 1)
            let foundation = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            #expect(FernetBase64.encode(bytes) == foundation)
            #expect(FernetBase64.decode(foundation) == bytes)
        }
    }
}

@Suite struct MultiFernetTests {
    let new = Fernet(key: Fernet.generateKey())
    let old = Fernet(key: Fernet.generateKey())
    var multi: MultiFernet { try! MultiFernet([new, old]) }

    @Test func encryptsWithFirstDecryptsWithAny() throws {
        let token = try multi.encrypt([1, 2, 3])
        #expect(try new.decrypt(token) == [1, 2, 3])
        #expect(throws: CofferCryptoError.authenticationFailed) { try old.decrypt(token) }
        #expect(try multi.decrypt(try old.encrypt([4])) == [4])
        #expect(try multi.decrypt(try new.encrypt([5])) == [5])
        #expect(throws: CofferCryptoError.authenticationFailed) { try multi.decrypt(try Fernet(key: Fernet.generateKey()).encrypt([6])) }
    }

    @Test func ttlAppliesToEveryKey() throws {
        let token = try old.encrypt([1], at: 1000)
        #expect(try multi.decrypt(token, ttl: 10, at: 1010) == [1])
        #expect(throws: CofferCryptoError.authenticationFailed) { try multi.decrypt(token, ttl: 10, at: 1011) }
        #expect(throws: CofferCryptoError.authenticationFailed) { try multi.decrypt(token, ttl: 10, at: 1000 - 61) }
    }

    @Test func rotateKeepsTheTimestampAndMovesToTheFirstKey() throws {
        let token = try old.encrypt(patternBytes(50), at: 1234)
        let rotated = try multi.rotate(token)
        #expect(rotated != token)
        #expect(try new.extractTimestamp(rotated) == 1234)
        #expect(try new.decrypt(rotated) == patternBytes(50))
        #expect(throws: CofferCryptoError.authenticationFailed) { try old.decrypt(rotated) }
        // Rotating a token already under the first key re-encrypts it too (fresh IV).
        let again = try multi.rotate(rotated)
        #expect(again != rotated)
        #expect(try new.extractTimestamp(again) == 1234)
        // No TTL applies to rotation, so a very old token still rotates.
        #expect(try new.decrypt(try multi.rotate(try old.encrypt([1], at: 0))) == [1])
        #expect(throws: CofferCryptoError.authenticationFailed) { try multi.rotate(try Fernet(key: Fernet.generateKey()).encrypt([1])) }
        #expect(throws: CofferCryptoError.authenticationFailed) { try multi.rotate("garbage") }
    }

    @Test func needsAKey() {
        #expect(throws: CofferCryptoError(.invalidParameter)) { try MultiFernet([]) }
        #expect(throws: CofferCryptoError(.invalidParameter)) { try MultiFernet(keys: []) }
    }
}
