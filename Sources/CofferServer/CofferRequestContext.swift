import CofferStore
import Crypto
import Hummingbird
import NIOCore
import NIOSSL

/// Per-request state: the authenticated identity (set by ``AuthenticationMiddleware``) and the
/// client's address (for rate limiting and the audit line).
public struct CofferRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: CofferStore.Identity?
    public let clientAddress: String
    /// The connection (HTTP/1.1) or stream (HTTP/2) the request came on, for the client certificate.
    let channel: any Channel
    /// Filled in by the route for the audit line.
    let audit = AuditNote()

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
        channel = source.channel
    }

    /// SHA-256 of the client certificate's SubjectPublicKeyInfo (DER) — the name of a
    /// certificate identity, as KES names them — or nil without a client certificate. The TLS
    /// handler sits on the connection: the channel itself for HTTP/1.1, its parent for an
    /// HTTP/2 stream.
    func clientPublicKeySHA256() async -> [UInt8]? {
        for candidate in [channel, channel.parent].compactMap({ $0 }) {
            if let certificate = try? await candidate.nioSSL_peerCertificate().get(),
                let spki = try? certificate.extractPublicKey().toSPKIBytes()
            {
                return Array(SHA256.hash(data: spki))
            }
        }
        return nil
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
