/// A writer of compact JSON for the hot paths — audit lines and the responses of the crypto
/// routes — where Foundation's `JSONEncoder` (generic `Codable` machinery, a value tree, then a
/// writer) cost more than the cryptography it reported on (profiled under wrk: docs/PERFORMANCE.md).
///
/// The output is byte-for-byte what `JSONEncoder` with `.sortedKeys` and
/// `.withoutEscapingSlashes` writes for the same object, when the caller writes keys in sorted
/// order and leaves out nil members (the tests compare both on random values). Strings are
/// escaped as JSONEncoder does: `"` and `\` backslashed, the usual short escapes for control
/// characters and `\u00XX` for the rest of them, everything else (UTF-8 included) as is.
public struct JSONOutput {
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    public init(reservingCapacity capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// `"name":` — the value follows with one of the value methods.
    public mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func string(_ value: String) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            // Nearly every string (base64, names, ids) has nothing to escape: one word-wise
            // check, then one copy.
            guard JSONEscaping.needsEscaping(UnsafeRawBufferPointer(utf8)) else {
                bytes.append(contentsOf: utf8)
                return
            }
            var start = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                appendEscaped(byte)
                start = index + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    public mutating func integer(_ value: some BinaryInteger) {
        separate()
        bytes.append(contentsOf: String(value).utf8)
        needsComma = true
    }

    public mutating func boolean(_ value: Bool) {
        separate()
        bytes.append(contentsOf: value ? Array("true".utf8) : Array("false".utf8))
        needsComma = true
    }

    public mutating func null() {
        separate()
        bytes.append(contentsOf: Array("null".utf8))
        needsComma = true
    }

    /// Member helpers: `key` then the value.
    public mutating func member(_ name: StaticString, _ value: String) { key(name); string(value) }
    public mutating func member(_ name: StaticString, _ value: some BinaryInteger) { key(name); integer(value) }
    public mutating func member(_ name: StaticString, _ value: Bool) { key(name); boolean(value) }
    /// Leaves the member out when `value` is nil, as synthesized `Codable` does.
    public mutating func member(_ name: StaticString, ifPresent value: String?) { if let value { member(name, value) } }
    public mutating func member<I: BinaryInteger>(_ name: StaticString, ifPresent value: I?) { if let value { member(name, value) } }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private static let hexDigits: StaticString = "0123456789abcdef"

    private mutating func appendEscaped(_ byte: UInt8) {
        bytes.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        default:
            bytes.append(contentsOf: Array("u00".utf8))
            Self.hexDigits.withUTF8Buffer { digits in
                bytes.append(digits[Int(byte >> 4)])
                bytes.append(digits[Int(byte & 0x0F)])
            }
        }
    }
}
