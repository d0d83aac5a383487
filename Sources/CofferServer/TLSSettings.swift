import NIOCore
import NIOSSL

/// TLS for the API: TLS 1.2 and 1.3 only, and on TLS 1.2 only ECDHE key exchange with AEAD
/// suites (forward secrecy, no CBC, no RSA key transport). TLS 1.3's suites are all AEAD.
public enum TLSSettings {
    static let tls12CipherSuites: [NIOTLSCipher] = [
        .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]

    /// The server's TLS configuration. With `certificates`, every handshake takes the chain and
    /// key current at that moment (``CertificateReloader``), so replaced files take effect for
    /// new connections while open ones carry on.
    ///
    /// Client certificates (`clientAuthentication` optional or required) are checked by
    /// ``verificationCallback(clientAuthentication:authority:)``: with a client CA file a presented
    /// chain must lead to one of its certificates; without one, any certificate is accepted at the
    /// TLS layer and means nothing until its public key is registered as an identity — the model
    /// KES uses. Either way the TLS handshake proves the client holds the private key (its
    /// CertificateVerify signature is checked by BoringSSL whatever the chain check decides).
    public static func server(
        certificates: CertificateReloader, clientAuthentication: ServerConfiguration.ClientAuthentication = .none
    ) throws -> TLSConfiguration {
        let current = certificates.current
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: current.chain.map { .certificate($0) }, privateKey: .privateKey(current.key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.cipherSuiteValues = tls12CipherSuites
        configuration.sslContextCallback = certificates.contextCallback
        switch clientAuthentication {
        case .none:
            configuration.certificateVerification = .none
        case .optional:
            configuration.certificateVerification = .optionalVerification
        case .required:
            configuration.certificateVerification = .noHostnameVerification
        }
        // A client CA file is not given to BoringSSL (it would read it once): the verification
        // callback checks chains against it as it is now (``ClientCertificateAuthority``).
        return configuration
    }

    public static func server(certificatePath: String, privateKeyPath: String) throws -> TLSConfiguration {
        try server(certificates: try CertificateReloader(certificatePath: certificatePath, privateKeyPath: privateKeyPath))
    }

    /// The chain check for client certificates: with `authority` (`tls.clientCaFile`), the chain
    /// must lead to one of its CAs (checked against the file as it is now, see
    /// ``ClientCertificateAuthority``); without one, any chain is accepted (see
    /// ``server(certificates:clientAuthentication:)``). No chain at all passes only when the
    /// certificate is optional.
    public static func verificationCallback(
        clientAuthentication: ServerConfiguration.ClientAuthentication, authority: ClientCertificateAuthority?
    ) -> (@Sendable ([NIOSSLCertificate], EventLoopPromise<NIOSSLVerificationResult>) -> Void)? {
        guard clientAuthentication != .none else { return nil }
        return { chain, promise in
            guard !chain.isEmpty else { return promise.succeed(clientAuthentication == .required ? .failed : .certificateVerified) }
            guard let authority else { return promise.succeed(.certificateVerified) }
            promise.completeWithTask { await authority.verify(chain) ? .certificateVerified : .failed }
        }
    }
}
