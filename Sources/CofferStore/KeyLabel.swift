/// A classification tag on a key (`confidential`, `team:payments`, `pci`), for policies to match.
///
/// 1–64 bytes of `a–z 0–9 . _ : -`, starting with a letter or digit: lower case only, so
/// `Confidential` and `confidential` can never be two labels a policy author confuses.
public struct KeyLabel: Hashable, Sendable, Comparable, CustomStringConvertible {
    public static let maximumLength = 64
    /// At most this many labels per key.
    public static let maximumCount = 32

    public let rawValue: String

    public init(_ rawValue: String) throws {
        let bytes = Array(rawValue.utf8)
        guard let first = bytes.first, bytes.count <= Self.maximumLength, Self.isLowerAlphanumeric(first),
            bytes.allSatisfy({ Self.isLowerAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "-") })
        else {
            throw KeyStoreError(.invalidArgument, detail: "a label is 1–\(Self.maximumLength) characters of a–z 0–9 . _ : - starting with a letter or digit")
        }
        self.rawValue = rawValue
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    public var description: String { rawValue }
    public static func < (lhs: KeyLabel, rhs: KeyLabel) -> Bool { lhs.rawValue < rhs.rawValue }
}
