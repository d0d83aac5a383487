import CSystemRandom

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `count` bytes from the system CSPRNG: getrandom(2), in one system call for up to 256 bytes.
/// (The standard library's `SystemRandomNumberGenerator` makes one call per 8 bytes, which showed
/// up as most of an envelope's cost.) A CSPRNG failure is not recoverable, so it traps, as the
/// standard library does.
package func randomBytes(_ count: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    guard count > 0 else { return bytes }
    bytes.withUnsafeMutableBytes { buffer in
        var filled = 0
        while filled < count {
            let result = getrandom(buffer.baseAddress! + filled, count - filled, 0)
            if result < 0 {
                if errno == EINTR { continue }
                fatalError("getrandom failed: \(errno)")
            }
            filled += result
        }
    }
    return bytes
}
