internal import Glibc

/// Overwrites a byte array's storage with zeros in a way the optimizer may
/// not remove (`explicit_bzero`), for local copies of PINs and plaintext.
///
/// Only the storage this array currently owns is wiped: copies the caller
/// made earlier (Swift arrays are copy-on-write values) are out of reach,
/// which is why secrets are copied as rarely as possible.
func zeroize(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { buffer in
        if let base = buffer.baseAddress { explicit_bzero(base, buffer.count) }
    }
}
