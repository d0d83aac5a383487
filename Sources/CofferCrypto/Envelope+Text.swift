extension Envelope {
    /// Prefix of the text form.
    public static let textPrefix = "coffer:v1:"

    /// Text form for JSON APIs and config files: `coffer:v1:` + unpadded base64url of ``bytes``.
    public var text: String { Base64URL.encode(bytes, prefix: "coffer:v1:") }

    /// Parses the text form. Non-canonical base64 (padding, whitespace, standard alphabet,
    /// non-zero trailing bits) is rejected, so each envelope has exactly one text form.
    public init(text: String) throws {
        guard text.hasPrefix(Envelope.textPrefix),
            let bytes = Base64URL.decode(text.dropFirst(Envelope.textPrefix.count))
        else { throw CofferCryptoError.authenticationFailed }
        try self.init(bytes: bytes)
    }
}
