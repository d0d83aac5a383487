/// Padded base64url (RFC 4648 §5 with `=` padding), the text encoding of Fernet keys and tokens.
///
/// Encoding produces exactly what Python's `base64.urlsafe_b64encode` produces. Decoding is
/// **stricter than Python**, whose `urlsafe_b64decode` maps `-_` to `+/` and then silently skips
/// any character outside the standard alphabet (whitespace, `+`, `/`, `.`, …) and ignores
/// non-zero trailing bits. Coffer accepts only the one canonical text of each byte string:
///
/// - only `A–Z a–z 0–9 - _`, then `=` padding to a multiple of 4 characters (padding required);
/// - no whitespace or line breaks anywhere, no `+` or `/`;
/// - the unused low bits of the last character are zero.
///
/// Everything Python's encoder emits satisfies these rules, so strictness costs no interop; it
/// means one token has one spelling (tokens can be compared, logged by hash, or deduplicated as
/// strings) and malformed input is refused before any key is touched.
///
/// The codec is table-driven over bytes: Fernet tokens can be tens of megabytes, and the
/// Foundation route (base64, then two character replacements on a `String`) costs several copies.
enum FernetBase64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Sextet value of each byte, or 0xFF for bytes outside the url-safe alphabet.
    private static let sextets: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(value) }
        return table
    }()

    /// Length of the encoding of `byteCount` bytes.
    static func encodedCount(_ byteCount: Int) -> Int { (byteCount + 2) / 3 * 4 }

    static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
        let count = encodedCount(bytes.count)
        return String(unsafeUninitializedCapacity: count) { output in
            alphabet.withUnsafeBufferPointer { table in
                var input = 0
                var out = 0
                let whole = bytes.count - bytes.count % 3
                while input < whole {
                    let word = UInt32(bytes[input]) << 16 | UInt32(bytes[input + 1]) << 8 | UInt32(bytes[input + 2])
                    output[out] = table[Int(word >> 18)]
                    output[out + 1] = table[Int(word >> 12 & 0x3F)]
                    output[out + 2] = table[Int(word >> 6 & 0x3F)]
                    output[out + 3] = table[Int(word & 0x3F)]
                    input += 3
                    out += 4
                }
                let rest = bytes.count - whole
                if rest > 0 {
                    let word = UInt32(bytes[input]) << 16 | (rest == 2 ? UInt32(bytes[input + 1]) << 8 : 0)
                    output[out] = table[Int(word >> 18)]
                    output[out + 1] = table[Int(word >> 12 & 0x3F)]
                    output[out + 2] = rest == 2 ? table[Int(word >> 6 & 0x3F)] : UInt8(ascii: "=")
                    output[out + 3] = UInt8(ascii: "=")
                }
            }
            return count
        }
    }

    static func encode(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { encode($0) }
    }

    /// The bytes of a canonical padded base64url text, or nil.
    static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode(UnsafeRawBufferPointer($0)) }
    }

    static func decode(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
        guard text.count % 4 == 0 else { return nil }
        guard text.count > 0 else { return [] }
        var padding = 0
        if text[text.count - 1] == UInt8(ascii: "=") { padding = text[text.count - 2] == UInt8(ascii: "=") ? 2 : 1 }
        let byteCount = text.count / 4 * 3 - padding
        var valid = true
        let bytes = [UInt8](unsafeUninitializedCapacity: byteCount) { output, initialized in
            sextets.withUnsafeBufferPointer { table in
                // Full quads, excluding the last one (which may hold padding).
                var input = 0
                var out = 0
                var bad: UInt8 = 0
                let fullQuads = text.count - 4
                while input < fullQuads {
                    let a = table[Int(text[input])], b = table[Int(text[input + 1])]
                    let c = table[Int(text[input + 2])], d = table[Int(text[input + 3])]
                    bad |= a | b | c | d
                    let word = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    output[out] = UInt8(truncatingIfNeeded: word >> 16)
                    output[out + 1] = UInt8(truncatingIfNeeded: word >> 8)
                    output[out + 2] = UInt8(truncatingIfNeeded: word)
                    input += 4
                    out += 3
                }
                // 0xFF marks a non-alphabet byte; any valid sextet is below 64.
                if bad & 0xC0 != 0 { valid = false }
                let a = table[Int(text[input])], b = table[Int(text[input + 1])]
                let c = padding == 2 ? 0 : table[Int(text[input + 2])]
                let d = padding >= 1 ? 0 : table[Int(text[input + 3])]
                if (a | b | c | d) & 0xC0 != 0 { valid = false }
                let word = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                // Canonical form: the bits below the last encoded byte are zero.
                if padding == 2 && word & 0xFFFF != 0 { valid = false }
                if padding == 1 && word & 0xFF != 0 { valid = false }
                output[out] = UInt8(truncatingIfNeeded: word >> 16)
                if padding < 2 { output[out + 1] = UInt8(truncatingIfNeeded: word >> 8) }
                if padding < 1 { output[out + 2] = UInt8(truncatingIfNeeded: word) }
            }
            initialized = byteCount
        }
        return valid ? bytes : nil
    }
}
