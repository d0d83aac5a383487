/// Big-endian integer and length-prefixed field encoding shared by every Coffer format.
extension Array where Element == UInt8 {
    @inlinable
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        var big = value.bigEndian
        Swift.withUnsafeBytes(of: &big) { self.append(contentsOf: $0) }
    }
}

/// A cursor over untrusted bytes. Every read is bounds-checked and reports failure as `nil`, so
/// that parsers turn any malformed input into their own single error without ever trapping.
struct ByteReader {
    private let bytes: [UInt8]
    private(set) var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }
    var isAtEnd: Bool { offset == bytes.count }

    mutating func readBytes(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, count <= remaining else { return nil }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    mutating func readByte() -> UInt8? {
        readBytes(1)?.first
    }

    mutating func readBigEndian<T: FixedWidthInteger & UnsignedInteger>(_: T.Type) -> T? {
        guard let slice = readBytes(MemoryLayout<T>.size) else { return nil }
        return slice.reduce(T(0)) { ($0 << 8) | T($1) }
    }

    mutating func readRest() -> ArraySlice<UInt8> {
        defer { offset = bytes.count }
        return bytes[offset...]
    }
}
