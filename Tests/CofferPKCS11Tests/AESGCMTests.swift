import CofferPKCS11
import Testing

@Suite("AES-GCM")
struct AESGCMTests {
    private let session: PKCS11Session
    private let key: PKCS11Key

    /// Each test gets its own key; labels are unique per test instance.
    init() throws {
        session = try SoftHSMFixture.session()
        let suffix = SoftHSMFixture.randomBytes(8).map { String($0, radix: 16) }.joined()
        key = try session.generateAESKey(label: "gcm-\(suffix)")
    }

    @Test("encrypt then decrypt returns the plaintext", arguments: [0, 1, 16, 1000])
    func roundTrip(length: Int) throws {
        let iv = SoftHSMFixture.randomBytes(12)
        let aad = Array("coffer/keys/v1".utf8)
        let plaintext = SoftHSMFixture.randomBytes(length)
        let sealed = try session.encryptAESGCM(key: key, iv: iv, additionalData: aad, plaintext: plaintext)
        #expect(sealed.count == length + 16)
        #expect(length == 0 || Array(sealed.prefix(length)) != plaintext)
        let opened = try session.decryptAESGCM(key: key, iv: iv, additionalData: aad, ciphertextAndTag: sealed)
        #expect(opened == plaintext)
    }

    @Test("empty additional data round-trips")
    func emptyAdditionalData() throws {
        let iv = SoftHSMFixture.randomBytes(12)
        let sealed = try session.encryptAESGCM(key: key, iv: iv, additionalData: [], plaintext: [1, 2, 3])
        #expect(try session.decryptAESGCM(key: key, iv: iv, additionalData: [], ciphertextAndTag: sealed) == [1, 2, 3])
    }

    @Test("tampering, wrong AAD, wrong IV or wrong key is authenticationFailed")
    func authenticationFailures() throws {
        let iv = SoftHSMFixture.randomBytes(12)
        let aad = Array("header".utf8)
        let sealed = try session.encryptAESGCM(
            key: key, iv: iv, additionalData: aad, plaintext: Array("root key wrapped data".utf8))

        var flippedCiphertext = sealed
        flippedCiphertext[0] ^= 0x01
        var flippedTag = sealed
        flippedTag[sealed.count - 1] ^= 0x80
        var wrongIV = iv
        wrongIV[11] ^= 0x01
        let otherKey = try session.generateAESKey(
            label: "gcm-other-" + SoftHSMFixture.randomBytes(8).map { String($0, radix: 16) }.joined())

        let attempts: [(String, () throws -> [UInt8])] = [
            ("ciphertext", { try session.decryptAESGCM(key: key, iv: iv, additionalData: aad, ciphertextAndTag: flippedCiphertext) }),
            ("tag", { try session.decryptAESGCM(key: key, iv: iv, additionalData: aad, ciphertextAndTag: flippedTag) }),
            ("aad", { try session.decryptAESGCM(key: key, iv: iv, additionalData: Array("other".utf8), ciphertextAndTag: sealed) }),
            ("no aad", { try session.decryptAESGCM(key: key, iv: iv, additionalData: [], ciphertextAndTag: sealed) }),
            ("iv", { try session.decryptAESGCM(key: key, iv: wrongIV, additionalData: aad, ciphertextAndTag: sealed) }),
            ("key", { try session.decryptAESGCM(key: otherKey, iv: iv, additionalData: aad, ciphertextAndTag: sealed) }),
            ("truncated", { try session.decryptAESGCM(key: key, iv: iv, additionalData: aad, ciphertextAndTag: Array(sealed.prefix(15))) }),
            ("tag only", { try session.decryptAESGCM(key: key, iv: iv, additionalData: aad, ciphertextAndTag: Array(sealed.suffix(16))) }),
        ]
        for (what, attempt) in attempts {
            let error = try #require(throws: PKCS11Error.self, "\(what)") { try attempt() }
            #expect(error.code == .authenticationFailed, "\(what): \(error)")
        }
        // The session is still usable after failed decryptions.
        #expect(try session.decryptAESGCM(key: key, iv: iv, additionalData: aad, ciphertextAndTag: sealed)
            == Array("root key wrapped data".utf8))
    }

    @Test("an IV that is not 12 bytes is invalidArgument", arguments: [0, 11, 13, 16])
    func badIVLength(length: Int) throws {
        let error = try #require(throws: PKCS11Error.self) {
            try session.encryptAESGCM(key: key, iv: [UInt8](repeating: 7, count: length), additionalData: [], plaintext: [1])
        }
        #expect(error.code == .invalidArgument)
    }

    @Test("8 concurrent tasks sharing one session all succeed")
    func concurrentUse() async throws {
        let session = self.session
        let key = self.key
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for round in 0..<25 {
                        let iv = SoftHSMFixture.randomBytes(12)
                        let aad: [UInt8] = [UInt8(task), UInt8(round)]
                        let plaintext = SoftHSMFixture.randomBytes(64 + task)
                        let sealed = try session.encryptAESGCM(key: key, iv: iv, additionalData: aad, plaintext: plaintext)
                        let opened = try session.decryptAESGCM(key: key, iv: iv, additionalData: aad, ciphertextAndTag: sealed)
                        guard opened == plaintext else { return false }
                    }
                    return true
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.count == 8)
        #expect(results.allSatisfy { $0 })
    }
}
