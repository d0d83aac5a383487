/// Errors of the operations layer that are not the store's (``KeyStoreError`` passes through).
public struct OperationError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let description: String
        /// A ciphertext did not open: wrong context, tampered, truncated, or naming a key or
        /// version that does not exist. One code for all of them.
        public static let decryptionFailed = Code(description: "decryption_failed")
        /// The key's type cannot do this operation (HMAC with an AES key, …).
        public static let wrongKeyType = Code(description: "wrong_key_type")
        /// A request field is out of range.
        public static let invalidRequest = Code(description: "invalid_request")
        /// A plaintext or batch is larger than allowed.
        public static let payloadTooLarge = Code(description: "payload_too_large")
    }

    public let code: Code
    public let detail: String?

    public init(_ code: Code, detail: String? = nil) {
        self.code = code
        self.detail = detail
    }

    public var description: String { detail.map { "\(code): \($0)" } ?? code.description }
    public static func == (lhs: OperationError, rhs: OperationError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
