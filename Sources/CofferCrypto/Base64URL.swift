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
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var iterator = bytes.makeIterator()
        while let a = iterator.next() {
            let b = iterator.next(), c = b == nil ? nil : iterator.next()
            let group = UInt32(a) << 16 | UInt32(b ?? 0) << 8 | UInt32(c ?? 0)
            out.append(alphabet[Int(group >> 18 & 63)])
            out.append(alphabet[Int(group >> 12 & 63)])
            if b != nil { out.append(alphabet[Int(group >> 6 & 63)]) }
            if c != nil { out.append(alphabet[Int(group & 63)]) }
        }
        return String(decoding: out, as: UTF8.self)
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
