/// Whether a run of bytes inside a JSON string needs escaping: a quote, a backslash or a control
/// character (below 0x20).
///
/// Both hot paths that move kilobytes of base64 through JSON — the request fast path and
/// `JSONOutput` — ask this of every string, and the answer is almost always no. A byte loop was
/// 8 % of a batch request (the compiler did not vectorize it), so this looks at eight bytes at a
/// time with the classic word tricks: for a 64-bit word `w`, `(w - 0x01…01 * n) & ~w & 0x80…80`
/// is non-zero exactly when some byte of `w` is below `n` (for `n ≤ 0x80`), and a byte equal to
/// `c` is a zero byte of `w ^ (0x01…01 * c)`. Exact, not probabilistic: the tests compare it with
/// a byte loop on every byte value at every position.
public enum JSONEscaping {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    @inline(__always)
    private static func hasByteBelow(_ limit: UInt64, _ word: UInt64) -> Bool {
        (word &- ones &* limit) & ~word & highBits != 0
    }

    @inline(__always)
    private static func hasByte(_ value: UInt64, _ word: UInt64) -> Bool {
        hasByteBelow(1, word ^ (ones &* value))
    }

    /// Whether any byte is `"`, `\` or below 0x20.
    public static func needsEscaping(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let count = bytes.count
        guard count > 0, let base = bytes.baseAddress else { return false }
        var offset = 0
        while offset + 8 <= count {
            let word = base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            if hasByteBelow(0x20, word) || hasByte(0x22, word) || hasByte(0x5C, word) { return true }
            offset += 8
        }
        while offset < count {
            let byte = base.load(fromByteOffset: offset, as: UInt8.self)
            if byte < 0x20 || byte == 0x22 || byte == 0x5C { return true }
            offset += 1
        }
        return false
    }
}
