import Foundation
import Logging
import NIOSSL
import ServiceLifecycle
import SwiftASN1
import X509

/// The certificate authorities a client certificate must chain to (`tls.clientCaFile`), re-read
/// when the file changes.
///
/// BoringSSL's own chain check reads its trust roots once, when the TLS context is built, so a
/// CA replaced on disk (a compromised intermediate withdrawn, a new CA added) would need a
/// restart. Instead the handshake's verification callback asks this object, which checks the
/// chain the client sent with swift-certificates' RFC 5280 verifier (signatures, validity
/// periods, basic constraints, name chaining) against the CAs loaded now. The file is polled
/// like the server's own certificate (``CertificateReloader``): a file that no longer loads is
/// logged and the previous CAs kept. Either way BoringSSL still checks the client's
/// CertificateVerify signature, which proves it holds the certificate's key.
public final class ClientCertificateAuthority: Service, Sendable {
    public let path: String
    private let files: WatchedFiles<[Certificate]>
    private let interval: Duration
    private let logger: Logger

    public init(path: String, interval: Duration = .seconds(10), logger: Logger = Logger(label: "coffer.tls")) throws {
        self.path = path
        self.interval = interval
        self.logger = logger
        files = try WatchedFiles(path) { try Self.load(path) }
    }

    static func load(_ path: String) throws -> [Certificate] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ConfigurationError("cannot read \(path)") }
        let roots = try PEMDocument.parseMultiple(pemString: text)
            .filter { $0.discriminator == "CERTIFICATE" }
            .map { try Certificate(pemDocument: $0) }
        guard !roots.isEmpty else { throw ConfigurationError("\(path) holds no certificate") }
        return roots
    }

    /// Loads the file again if it changed; returns whether new CAs are now used.
    @discardableResult
    public func reloadIfChanged() -> Bool {
        switch files.reloadIfChanged() {
        case .unchanged:
            return false
        case .reloaded(let roots):
            logger.notice("reloaded the client CA file", metadata: ["path": "\(path)", "certificates": "\(roots.count)"])
            return true
        case .failed(let error):
            logger.warning("the client CA file changed but does not load; still using the previous CAs", metadata: ["path": "\(path)", "error": "\(error)"])
            return false
        }
    }

    public func run() async throws {
        while !Task.isCancelledOrShuttingDown {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            reloadIfChanged()
        }
    }

    /// Whether `chain` (leaf first, as the client sent it) leads to one of the CAs loaded now and
    /// is valid at `now`.
    public func verify(_ chain: [NIOSSLCertificate], now: Date = Date()) async -> Bool {
        guard !chain.isEmpty, let certificates = try? chain.map({ try Certificate(derEncoded: try $0.toDERBytes()) }) else { return false }
        var verifier = Verifier(rootCertificates: CertificateStore(files.current)) { RFC5280Policy(validationTime: now) }
        switch await verifier.validate(leaf: certificates[0], intermediates: CertificateStore(certificates.dropFirst())) {
        case .validCertificate: return true
        case .couldNotValidate: return false
        }
    }
}
