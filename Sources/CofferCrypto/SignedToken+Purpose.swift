/// What a signed token is for — `session`, `password-reset`, `email-verify:v2` — bound into its
/// MAC (never written into the token), so a token minted for one purpose cannot be replayed as
/// another even though the same key ring signs both.
///
/// 1–64 bytes of `A–Z a–z 0–9 . _ - : /`: readable in code review, unambiguous in the
/// length-prefixed MAC input, and never confusable through Unicode normalisation.
public struct TokenPurpose: Hashable, Sendable, CustomStringConvertible {
    public static let maximumLength = 64
    public let rawValue: String

    /// - Throws: ``CofferCryptoError/Code/invalidParameter`` for an empty, long or
    ///   out-of-alphabet purpose.
    public init(_ rawValue: String) throws {
        let utf8 = Array(rawValue.utf8)
        guard !utf8.isEmpty, utf8.count <= TokenPurpose.maximumLength, utf8.allSatisfy(TokenPurpose.isAllowed) else {
            throw CofferCryptoError(.invalidParameter, detail: "token purpose: 1-64 characters of A-Z a-z 0-9 . _ - : /")
        }
        self.rawValue = rawValue
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "/"):
            true
        default: false
        }
    }

    public var description: String { rawValue }
}
