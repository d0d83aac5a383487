import CofferStore
import Hummingbird
import NIOCore

/// Per-request state: the authenticated identity (set by ``AuthenticationMiddleware``) and the
/// client's address (for rate limiting and the audit line).
public struct CofferRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: CofferStore.Identity?
    public let clientAddress: String
    /// Filled in by the route for the audit line.
    let audit = AuditNote()

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// The largest body any route reads; routes set lower limits of their own (``RouteLimits``).
    public var maxUploadSize: Int { RouteLimits.largest }
}

/// Body limits per kind of route: a malformed or oversized request costs at most this much memory.
public enum RouteLimits {
    /// Key administration, identities, policies, unseal.
    public static let small = 64 * 1024
    /// Single-item cryptography: 1 MiB of plaintext, base64-encoded, plus JSON.
    public static let single = 1_500_000
    /// Batch forms.
    public static let batch = 8 * 1024 * 1024
    static let largest = batch
}
