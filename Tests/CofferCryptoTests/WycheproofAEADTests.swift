import Crypto
import Foundation
import Testing

@testable import CofferCrypto

/// Wycheproof AEAD vectors through ``AEADAlgorithm``, Coffer's wrapper over swift-crypto.
@Suite(.enabled(if: VectorDirectory.isAvailable, VectorDirectory.skipReason))
struct WycheproofAEADTests {
    @Test(arguments: [
        (AEADAlgorithm.aes256GCM, "aes_gcm_test.json"),
        (AEADAlgorithm.chacha20Poly1305, "chacha20_poly1305_test.json"),
        (AEADAlgorithm.aes256GCMSIV, "aes_gcm_siv_test.json"),
    ])
    func vectors(algorithm: AEADAlgorithm, file: String) throws {
        let groups = try WycheproofFile<AEADGroup>.load(file).testGroups
        var checked = 0
        var rejectedSizes = 0
        for group in groups {
            let supported = group.keySize == 256 && group.ivSize == 96 && group.tagSize == 128
            for test in group.tests {
                let key = SymmetricKey(data: test.key.bytes)
                guard supported else {
                    // Coffer only ever uses 256-bit keys, 96-bit nonces and full tags; anything
                    // else must be refused up front rather than half-supported.
                    guard test.key.bytes.count != 32 || test.iv.bytes.count != 12 else { continue }
                    #expect(throws: CofferCryptoError.self) {
                        try algorithm.open(test.ct.bytes + test.tag.bytes, using: key, nonce: test.iv.bytes, authenticating: test.aad.bytes)
                    }
                    rejectedSizes += 1
                    continue
                }
                checked += 1
                switch test.result {
                case .valid, .acceptable:
                    let sealed = try algorithm.seal(test.msg.bytes, using: key, nonce: test.iv.bytes, authenticating: test.aad.bytes)
                    #expect(sealed == test.ct.bytes + test.tag.bytes, "tcId \(test.tcId)")
                    let opened = try algorithm.open(test.ct.bytes + test.tag.bytes, using: key, nonce: test.iv.bytes, authenticating: test.aad.bytes)
                    #expect(opened == test.msg.bytes, "tcId \(test.tcId)")
                case .invalid:
                    #expect(throws: CofferCryptoError.authenticationFailed, "tcId \(test.tcId)") {
                        try algorithm.open(test.ct.bytes + test.tag.bytes, using: key, nonce: test.iv.bytes, authenticating: test.aad.bytes)
                    }
                }
            }
        }
        #expect(checked > 30, "too few vectors applied to \(algorithm)")
        print("\(file): \(checked) vectors checked, \(rejectedSizes) unsupported-size vectors refused")
    }
}
