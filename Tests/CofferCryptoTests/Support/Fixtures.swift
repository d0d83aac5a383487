import Foundation

@testable import CofferCrypto

/// Deterministic pseudo-random bytes for test plaintexts (not for keys).
func patternBytes(_ count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 33)
    }
}

func kek(_ name: String = "app-key", version: UInt32 = 1) -> KeyEncryptionKey {
    KeyEncryptionKey.generate(reference: try! KeyReference(name, version: version))
}

/// Every input derived from `bytes` by flipping exactly one bit.
func everySingleBitFlip(of bytes: [UInt8], _ body: ([UInt8], Int) throws -> Void) rethrows {
    var copy = bytes
    for bit in 0..<(bytes.count * 8) {
        copy[bit / 8] ^= 1 << (bit % 8)
        try body(copy, bit)
        copy[bit / 8] ^= 1 << (bit % 8)
    }
}
