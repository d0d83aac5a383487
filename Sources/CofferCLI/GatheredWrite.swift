import Glibc

/// Writes several pieces of output in order with as few `writev(2)` calls as the kernel allows:
/// one per batch of sealed or opened chunks instead of one `write(2)` per 16 KiB chunk.
///
/// The kernel may stop anywhere — mid-piece, after a signal or on a full disk — and takes at
/// most `IOV_MAX` pieces per call, so the write resumes exactly where the last call stopped.
enum GatheredWrite {
    /// `IOV_MAX` on Linux (Glibc does not export it to Swift).
    static let maximumVectors = 1024

    /// Writes every byte of `pieces` through `writev`, which returns the count written or
    /// `-errno`; retries `EINTR`. Returns how many bytes were written — all of them, or those
    /// before the failure — and the `errno` it failed with, if it did.
    static func writeAll(
        _ pieces: UnsafeBufferPointer<UnsafeRawBufferPointer>, using writev: (UnsafePointer<iovec>, Int32) -> Int
    ) -> (written: Int, failure: Int32?) {
        let total = pieces.reduce(0) { $0 + $1.count }
        var remaining = total
        let failure: Int32? = withUnsafeTemporaryAllocation(of: iovec.self, capacity: max(1, pieces.count)) { vectors in
            for (i, piece) in pieces.enumerated() {
                vectors.initializeElement(
                    at: i, to: iovec(iov_base: UnsafeMutableRawPointer(mutating: piece.baseAddress), iov_len: piece.count))
            }
            var next = 0
            while remaining > 0 {
                while vectors[next].iov_len == 0 { next += 1 }
                let written = writev(vectors.baseAddress! + next, Int32(min(pieces.count - next, maximumVectors)))
                if written == -Int(EINTR) { continue }
                if written < 0 { return Int32(-written) }
                // writev(2) never reports 0 for a non-empty request on a file or pipe; if it did,
                // looping would spin forever.
                if written == 0 { return EIO }
                remaining -= written
                var done = written
                while done > 0 {
                    // Empty pieces (whose base may be nil) are stepped over, never adjusted.
                    while vectors[next].iov_len == 0 { next += 1 }
                    let take = min(done, vectors[next].iov_len)
                    vectors[next].iov_base += take
                    vectors[next].iov_len -= take
                    done -= take
                }
            }
            return nil
        }
        return (total - remaining, failure)
    }
}
