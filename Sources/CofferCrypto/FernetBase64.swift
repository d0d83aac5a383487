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
            encode(bytes, into: UnsafeMutableRawBufferPointer(output))
            return count
        }
    }

    static func encode(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { encode($0) }
    }

    /// Two output characters for every 12-bit value, as one little-endian `UInt16`: a 3-byte group
    /// becomes two lookups and one 4-byte store instead of four lookups and four stores.
    private static let pairs: [UInt16] = (0..<4096).map { UInt16(alphabet[$0 >> 6]) | UInt16(alphabet[$0 & 0x3F]) << 8 }

    /// Encodes `bytes` into `output` (exactly ``encodedCount(_:)`` bytes), padding the end.
    /// Callers may encode a long input in pieces whose lengths are multiples of 3.
    static func encode(_ bytes: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) {
        precondition(output.count == encodedCount(bytes.count))
        guard let source = bytes.baseAddress, let target = output.baseAddress else { return }
        pairs.withUnsafeBufferPointer { pairs in
            let pairs = pairs.baseAddress!
            var input = 0
            var out = 0
            let whole = bytes.count - bytes.count % 3
            while input < whole {
                let word = UInt32(source.load(fromByteOffset: input, as: UInt8.self)) << 16
                    | UInt32(source.load(fromByteOffset: input + 1, as: UInt8.self)) << 8
                    | UInt32(source.load(fromByteOffset: input + 2, as: UInt8.self))
                let quad = UInt32(pairs[Int(word >> 12)]) | UInt32(pairs[Int(word & 0xFFF)]) << 16
                target.storeBytes(of: quad.littleEndian, toByteOffset: out, as: UInt32.self)
                input += 3
                out += 4
            }
            let rest = bytes.count - whole
            if rest > 0 {
                let word = UInt32(bytes[input]) << 16 | (rest == 2 ? UInt32(bytes[input + 1]) << 8 : 0)
                output[out] = alphabet[Int(word >> 18)]
                output[out + 1] = alphabet[Int(word >> 12 & 0x3F)]
                output[out + 2] = rest == 2 ? alphabet[Int(word >> 6 & 0x3F)] : UInt8(ascii: "=")
                output[out + 3] = UInt8(ascii: "=")
            }
        }
    }

    /// The bytes of a canonical padded base64url text, or nil.
    static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode(UnsafeRawBufferPointer($0)) }
    }

    static func decode(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
        guard let byteCount = decodedCount(text) else { return nil }
        var valid = true
        let bytes = [UInt8](unsafeUninitializedCapacity: byteCount) { output, initialized in
            valid = decode(text, into: UnsafeMutableRawBufferPointer(output))
            initialized = byteCount
        }
        return valid ? bytes : nil
    }

    /// How many bytes `text` decodes to, judged from its length and trailing `=` only; nil if the
    /// length is not a multiple of 4.
    static func decodedCount(_ text: UnsafeRawBufferPointer) -> Int? {
        guard text.count % 4 == 0 else { return nil }
        guard text.count > 0 else { return 0 }
        var padding = 0
        if text[text.count - 1] == UInt8(ascii: "=") { padding = text[text.count - 2] == UInt8(ascii: "=") ? 2 : 1 }
        return text.count / 4 * 3 - padding
    }

    /// Decodes a whole text (``decodedCount(_:)`` bytes into `output`); false if it is not canonical.
    static func decode(_ text: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Bool {
        guard text.count > 0 else { return true }
        let lastQuad = text.count - 4
        return decodeQuads(UnsafeRawBufferPointer(rebasing: text[..<lastQuad]), into: output)
            && decodeFinalQuad(UnsafeRawBufferPointer(rebasing: text[lastQuad...]), into: UnsafeMutableRawBufferPointer(rebasing: output[(lastQuad / 4 * 3)...]))
    }

    /// Decodes unpadded quads (`text.count` a multiple of 4) into `text.count / 4 * 3` bytes; false
    /// if any character is outside the alphabet (including `=`). Pieces of one text can be decoded
    /// independently, on different threads.
    static func decodeQuads(_ text: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Bool {
        precondition(text.count % 4 == 0 && output.count >= text.count / 4 * 3)
        guard let source = text.baseAddress, let target = output.baseAddress else { return true }
        return pairSextets.withUnsafeBufferPointer { table in
            let table = table.baseAddress!
            var input = 0
            var out = 0
            var bad: UInt16 = 0
            while input < text.count {
                // Two characters at a time: one lookup yields 12 bits (or the 0x8000 marker).
                let high = table[Int(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: input, as: UInt16.self)))]
                let low = table[Int(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: input + 2, as: UInt16.self)))]
                bad |= high | low
                let word = UInt32(high) << 12 | UInt32(low)
                target.storeBytes(of: UInt8(truncatingIfNeeded: word >> 16), toByteOffset: out, as: UInt8.self)
                target.storeBytes(of: UInt8(truncatingIfNeeded: word >> 8), toByteOffset: out + 1, as: UInt8.self)
                target.storeBytes(of: UInt8(truncatingIfNeeded: word), toByteOffset: out + 2, as: UInt8.self)
                input += 4
                out += 3
            }
            return bad & 0x8000 == 0
        }
    }

    /// The 12-bit value of every two-character pair, indexed by the pair as a little-endian
    /// `UInt16` (first character in the low byte), or 0x8000 if either character is outside the
    /// alphabet. 128 KiB, built once.
    private static let pairSextets: [UInt16] = (0..<65536).map { pair in
        let first = sextets[pair & 0xFF], second = sextets[pair >> 8]
        return first | second >= 64 ? 0x8000 : UInt16(first) << 6 | UInt16(second)
    }

    /// The last quad: up to two `=`, and the bits below the last encoded byte must be zero.
    private static func decodeFinalQuad(_ quad: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Bool {
        sextets.withUnsafeBufferPointer { table in
            let padding = quad[3] == UInt8(ascii: "=") ? (quad[2] == UInt8(ascii: "=") ? 2 : 1) : 0
            let a = table[Int(quad[0])], b = table[Int(quad[1])]
            let c = padding == 2 ? 0 : table[Int(quad[2])]
            let d = padding >= 1 ? 0 : table[Int(quad[3])]
            guard (a | b | c | d) & 0xC0 == 0 else { return false }
            let word = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
            if padding == 2 && word & 0xFFFF != 0 { return false }
            if padding == 1 && word & 0xFF != 0 { return false }
            output[0] = UInt8(truncatingIfNeeded: word >> 16)
            if padding < 2 { output[1] = UInt8(truncatingIfNeeded: word >> 8) }
            if padding < 1 { output[2] = UInt8(truncatingIfNeeded: word) }
            return true
        }
    }
}
