#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One audit line: who did what to which key, and how it ended — never plaintext, key
/// material, encryption-context values or secrets (docs/FORMAT.md, "Audit log").
public struct AuditRecord: Codable, Sendable, Hashable {
    /// RFC 3339 UTC with milliseconds.
    public var time: String
    public var requestID: String
    /// `apikey:…`, `cert:…`, or `-` before authentication.
    public var identity: String
    public var client: String
    /// The policy operation name (`encrypt`, `key.rotate`, …) or the route for unauthenticated calls.
    public var operation: String
    public var key: String?
    public var version: UInt32?
    /// The HTTP status.
    public var status: Int
    /// The stable error code when the request failed.
    public var error: String?
    /// Hex SHA-256 of the previous line's bytes (without its newline); 64 zeros for the first
    /// line ever written.
    public var prev: String

    public init(time: String, requestID: String, identity: String, client: String, operation: String, key: String?, version: UInt32?, status: Int, error: String?, prev: String = "") {
        self.time = time
        self.requestID = requestID
        self.identity = identity
        self.client = client
        self.operation = operation
        self.key = key
        self.version = version
        self.status = status
        self.error = error
        self.prev = prev
    }
}
