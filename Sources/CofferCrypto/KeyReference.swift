/// The name of a key: 1–128 bytes of `A–Z a–z 0–9 . _ -`, starting with a letter or digit.
///
/// The set is small on purpose: names appear in URLs, file names, log lines and ciphertext
/// headers, and a narrow alphabet keeps every one of those encodings trivial and unambiguous.
public struct KeyIdentifier: Hashable, Sendable, Comparable, CustomStringConvertible {
    public static let maximumLength = 128
    /// The validated name; ASCII only.
    public let rawValue: String

    public init(_ rawValue: String) throws {
        let utf8 = Array(rawValue.utf8)
        guard KeyIdentifier.isValid(utf8) else { throw CofferCryptoError(.invalidKeyIdentifier) }
        self.rawValue = rawValue
    }

    init?(validating bytes: some Collection<UInt8>) {
        let array = Array(bytes)
        guard KeyIdentifier.isValid(array) else { return nil }
        self.rawValue = String(decoding: array, as: UTF8.self)
    }

    static func isValid(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.first, bytes.count <= maximumLength, isAlphanumeric(first) else {
            return false
        }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    var utf8Bytes: [UInt8] { Array(rawValue.utf8) }
    public var description: String { rawValue }
    public static func < (lhs: KeyIdentifier, rhs: KeyIdentifier) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A key version number. Versions start at 1; 0 is never valid, so an all-zero field is an error.
public struct KeyVersion: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: UInt32

    public init(_ rawValue: UInt32) throws {
        guard rawValue >= 1 else { throw CofferCryptoError(.invalidKeyVersion) }
        self.rawValue = rawValue
    }

    public static let first = try! KeyVersion(1)

    /// The next version, or an error at the top of the range.
    public func next() throws -> KeyVersion {
        guard rawValue < UInt32.max else { throw CofferCryptoError(.invalidKeyVersion) }
        return try KeyVersion(rawValue + 1)
    }

    public var description: String { "v\(rawValue)" }
    public static func < (lhs: KeyVersion, rhs: KeyVersion) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A key name plus version: exactly which key-encryption key protects a ciphertext.
public struct KeyReference: Hashable, Sendable, CustomStringConvertible {
    public let identifier: KeyIdentifier
    public let version: KeyVersion

    public init(identifier: KeyIdentifier, version: KeyVersion) {
        self.identifier = identifier
        self.version = version
    }

    /// Convenience for call sites with literal values; validates both parts.
    public init(_ identifier: String, version: UInt32) throws {
        self.init(identifier: try KeyIdentifier(identifier), version: try KeyVersion(version))
    }

    /// Wire form: `u8 length || identifier || u32 version` (big-endian).
    func encode(into out: inout [UInt8]) {
        let name = identifier.utf8Bytes
        out.append(UInt8(name.count))
        out.append(contentsOf: name)
        out.appendBigEndian(version.rawValue)
    }

    static func decode(from reader: inout ByteReader) -> KeyReference? {
        guard let length = reader.readByte(), let nameBytes = reader.readBytes(Int(length)),
            let identifier = KeyIdentifier(validating: nameBytes),
            let raw = reader.readBigEndian(UInt32.self), let version = try? KeyVersion(raw)
        else { return nil }
        return KeyReference(identifier: identifier, version: version)
    }

    public var description: String { "\(identifier)/\(version)" }
}
