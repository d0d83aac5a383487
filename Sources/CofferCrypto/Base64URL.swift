/// Unpadded base64url (RFC 4648 §5), decoded strictly: only the url alphabet, no padding, no
/// whitespace, and no non-zero trailing bits, so every byte string has exactly one text form.
///
/// Table-driven and free of Foundation: key texts, recipients and signed tokens go through here
/// on hot paths (token verification), and the strict rules are simplest to state as code.
package enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    /// 0xFF for bytes outside the alphabet.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    package static func encode(_ bytes: some Collection<UInt8>) -> String {
        encode(bytes, prefix: "")
    }

    /// `prefix` followed by the encoding, built in one allocation (envelope texts, `coffer:v1:…`).
    package static func encode(_ bytes: some Collection<UInt8>, prefix: StaticString) -> String {
        if let encoded = bytes.withContiguousStorageIfAvailable({ encode(buffer: UnsafeRawBufferPointer($0), prefix: prefix) }) { return encoded }
        return Array(bytes).withUnsafeBytes { encode(buffer: $0, prefix: prefix) }
    }

    private static let alphabetText: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

    /// The two characters of every 12-bit value, first character in the low byte: one lookup and
    /// one two-byte store per half of a three-byte group (8 KiB, built once).
    private static let characterPairs: [UInt16] = alphabetText.withUTF8Buffer { alphabet in
        (0..<4096).map { UInt16(alphabet[$0 >> 6]) | UInt16(alphabet[$0 & 63]) << 8 }
    }

    /// Three bytes to four characters at a time into the string's own storage (envelope texts
    /// are encoded once per API request, and a batch response is mostly base64url: going byte by
    /// byte through an iterator was a tenth of a batch request's time, a character at a time
    /// still 5 %).
    private static func encode(buffer input: UnsafeRawBufferPointer, prefix: StaticString) -> String {
        let count = input.count
        let length = prefix.utf8CodeUnitCount + count / 3 * 4 + [0, 2, 3][count % 3]
        return String(unsafeUninitializedCapacity: length) { out in
            prefix.withUTF8Buffer { prefixBytes in
                for (position, byte) in prefixBytes.enumerated() { out[position] = byte }
            }
            let output = UnsafeMutableRawPointer(out.baseAddress!)
            characterPairs.withUnsafeBufferPointer { pairs in
                var read = 0, written = prefix.utf8CodeUnitCount
                while read + 3 <= count {
                    let group = Int(input[read]) << 16 | Int(input[read + 1]) << 8 | Int(input[read + 2])
                    let four = UInt32(pairs[group >> 12]) | UInt32(pairs[group & 0xFFF]) << 16
                    output.storeBytes(of: four.littleEndian, toByteOffset: written, as: UInt32.self)
                    read += 3
                    written += 4
                }
                let remaining = count - read
                if remaining > 0 {
                    let group = Int(input[read]) << 16 | (remaining == 2 ? Int(input[read + 1]) << 8 : 0)
                    let first = pairs[group >> 12], second = pairs[group & 0xFFF]
                    out[written] = UInt8(truncatingIfNeeded: first)
                    out[written + 1] = UInt8(truncatingIfNeeded: first >> 8)
                    if remaining == 2 { out[written + 2] = UInt8(truncatingIfNeeded: second) }
                }
            }
            return length
        }
    }

    package static func decode(_ text: Substring) -> [UInt8]? {
        let input = Array(text.utf8)
        guard input.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(input.count * 3 / 4)
        var index = 0
        while index < input.count {
            let end = min(index + 4, input.count)
            var group: UInt32 = 0
            for position in index..<end {
                let value = values[Int(input[position])]
                guard value != 0xFF else { return nil }
                group |= UInt32(value) << (18 - 6 * UInt32(position - index))
            }
            let produced = end - index - 1  // 4 characters → 3 bytes, 3 → 2, 2 → 1
            out.append(UInt8(truncatingIfNeeded: group >> 16))
            if produced > 1 { out.append(UInt8(truncatingIfNeeded: group >> 8)) }
            if produced > 2 { out.append(UInt8(truncatingIfNeeded: group)) }
            // Canonical form only: the bits below the last byte must be zero.
            let unusedBits = UInt32(24 - 8 * produced)
            guard group & ((1 << unusedBits) - 1) == 0 else { return nil }
            index = end
        }
        return out
    }
}
