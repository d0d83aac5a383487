#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto

/// Compares two byte strings without data-dependent timing, by comparing them as swift-crypto
/// `SymmetricKey`s, whose `==` is BoringSSL's constant-time `CRYPTO_memcmp`. Lengths are public.
package func constantTimeEquals(_ a: some ContiguousBytes, _ b: some ContiguousBytes) -> Bool {
    SymmetricKey(data: a) == SymmetricKey(data: b)
}
