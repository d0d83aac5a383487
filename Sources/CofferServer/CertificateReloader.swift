import Foundation
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import X509

/// The server's certificate chain and key, re-read when their files change.
///
/// Every TLS handshake asks ``contextCallback`` for the pair (NIOSSL's per-handshake
/// certificate callback), so a renewed certificate serves new connections as soon as it is
/// loaded while established connections keep the one they negotiated — nothing is dropped. The
/// files are checked every `interval` (modification time, size and inode, so an atomic rename
/// counts); a pair that does not load, or whose key does not match the certificate — a renewal
/// caught half-written — is logged and the previous pair kept.
public final class CertificateReloader: Service, Sendable {
    public struct Pair: Sendable {
        public let chain: [NIOSSLCertificate]
        public let key: NIOSSLPrivateKey
        /// Seconds since 1970 when the leaf expires.
        public let notAfter: Int64
    }

    public let certificatePath: String
    public let privateKeyPath: String
    private let files: WatchedFiles<Pair>
    private let interval: Duration
    private let logger: Logger

    public init(certificatePath: String, privateKeyPath: String, interval: Duration = .seconds(10), logger: Logger = Logger(label: "coffer.tls")) throws {
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
        self.interval = interval
        self.logger = logger
        files = try WatchedFiles(certificatePath, privateKeyPath) { try Self.load(certificatePath, privateKeyPath) }
    }

    public var current: Pair { files.current }

    /// Days until the leaf certificate expires (negative once it has).
    public var daysToExpiry: Double {
        (Double(current.notAfter) - Date().timeIntervalSince1970) / 86_400
    }

    /// NIOSSL's per-handshake callback: the current pair, for this connection only.
    public var contextCallback: NIOSSLContextCallback {
        { [files] _, promise in
            let pair = files.current
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = pair.chain.map { .certificate($0) }
            override.privateKey = .privateKey(pair.key)
            promise.succeed(override)
        }
    }

    /// Loads the files again if they changed; returns whether a new pair is now served.
    @discardableResult
    public func reloadIfChanged() -> Bool {
        switch files.reloadIfChanged() {
        case .unchanged:
            return false
        case .reloaded:
            logger.notice("reloaded the TLS certificate", metadata: ["path": "\(certificatePath)", "days_to_expiry": "\(Int(daysToExpiry))"])
            return true
        case .failed(let error):
            // Keep serving the old pair; try again at the next pass (the files may still be
            // being written).
            logger.warning("the TLS certificate files changed but do not load; still serving the previous certificate", metadata: ["path": "\(certificatePath)", "error": "\(error)"])
            return false
        }
    }

    /// Logs a warning when the certificate expires within 30 days.
    public func warnIfExpiringSoon() {
        let days = daysToExpiry
        if days < 30 {
            logger.warning("the TLS certificate expires soon", metadata: ["days": "\(Int(days))", "path": "\(certificatePath)"])
        }
    }

    public func run() async throws {
        var sinceWarning = Duration.zero
        warnIfExpiringSoon()
        while !Task.isCancelledOrShuttingDown {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            if reloadIfChanged() { warnIfExpiringSoon() }
            sinceWarning += interval
            if sinceWarning >= .seconds(86_400) {
                sinceWarning = .zero
                warnIfExpiringSoon()
            }
        }
    }

    static func load(_ certificatePath: String, _ privateKeyPath: String) throws -> Pair {
        let chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        let key = try NIOSSLPrivateKey(file: privateKeyPath, format: .pem)
        guard let leaf = chain.first else { throw ConfigurationError("\(certificatePath) holds no certificate") }
        // A certificate and key that do not belong together would fail every handshake: refuse
        // the pair instead of serving it.
        // (swift-certificates reads the key for the comparison; a key type it does not know is
        // left to the handshake to reject.)
        if let keyPEM = try? String(contentsOfFile: privateKeyPath, encoding: .utf8), let privateKey = try? Certificate.PrivateKey(pemEncoded: keyPEM),
            privateKey.publicKey != (try Certificate(derEncoded: try leaf.toDERBytes())).publicKey
        {
            throw ConfigurationError("the private key in \(privateKeyPath) does not match the certificate in \(certificatePath)")
        }
        return Pair(chain: chain, key: key, notAfter: Int64(leaf.notValidAfter))
    }
}
