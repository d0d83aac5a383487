import CofferServer
import Foundation
import Hummingbird
import HummingbirdCore
import ServiceLifecycle
import HummingbirdHTTP2
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL

/// Starts the service a ``ServerConfiguration`` describes and runs it until SIGTERM/SIGINT.
struct ServerRunner {
    let configuration: CofferServer.ServerConfiguration

    func run() async throws {
        var logger = Logger(label: "coffer.server")
        logger.logLevel = configuration.logLevel
        let bootstrap = try await ServerBootstrap.prepare(configuration, logger: logger)
        if let adminKey = bootstrap.newAdminKey {
            // The one time this secret is shown: on stdout, not in the log.
            print("Admin API key (shown once, store it now): \(adminKey)")
        }
        let insecure = configuration.insecureHTTP
        let certificates = insecure ? nil : try CertificateReloader(
            certificatePath: bootstrap.certificatePath, privateKeyPath: bootstrap.privateKeyPath,
            interval: .seconds(configuration.tls.reloadIntervalSeconds), logger: logger)
        let metrics = ServerMetrics(store: bootstrap.store, certificates: certificates)
        let router = CofferServerApplication.buildRouter(store: bootstrap.store, audit: bootstrap.audit, metrics: metrics)
        let applicationConfiguration = ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: "coffer")
        var services: [any Service] = [RotationScheduler(store: bootstrap.store, interval: .seconds(configuration.rotationCheckIntervalSeconds), logger: logger)]
        if let certificates { services.append(certificates) }
        // Only when client certificates are asked for over TLS: otherwise nothing would consult it.
        let clientAuthority = certificates == nil || configuration.tls.clientAuthentication == .none ? nil : try configuration.tls.clientCAPath.map { path in
            try ClientCertificateAuthority(path: path, interval: .seconds(configuration.tls.reloadIntervalSeconds), logger: logger)
        }
        if let clientAuthority { services.append(clientAuthority) }

        // Printed once the socket is bound (so "Listening on" means it), with the real port:
        // `--port 0` picks a free one.
        let scheme = insecure ? "http" : "https", host = configuration.host, certificate = bootstrap.certificatePath
        let announce: @Sendable (any Channel) async -> Void = { channel in
            print("Listening on \(scheme)://\(host):\(channel.localAddress?.port ?? 0) (TLS certificate: \(certificate))")
            fflush(nil)
        }
        let server: HTTPServerBuilder
        if let certificates {
            let tls = try TLSSettings.server(certificates: certificates, clientAuthentication: configuration.tls.clientAuthentication)
            let verify = TLSSettings.verificationCallback(clientAuthentication: configuration.tls.clientAuthentication, authority: clientAuthority)
            if configuration.http2 {
                // ALPN: h2 to clients that offer it, HTTP/1.1 to the rest.
                server = try .http2Upgrade(tlsChannelConfiguration: HummingbirdHTTP2.TLSChannelConfiguration(tlsConfiguration: tls, customVerificationCallback: verify))
            } else {
                server = try .tls(.http1(), configuration: HummingbirdTLS.TLSChannelConfiguration(tlsConfiguration: tls, customVerificationCallback: verify))
            }
        } else {
            logger.critical("serving PLAIN HTTP: API keys and plaintexts cross the network unencrypted (http.insecure)")
            server = .http1()
        }
        let application = Application(
            router: router, server: server, configuration: applicationConfiguration, services: services, onServerRunning: announce, logger: logger)
        // Handlers run on the event loops that read their requests (see EventLoopTaskExecutor).
        try await withTaskExecutorPreference(EventLoopTaskExecutor()) {
            try await application.runService()
        }
        bootstrap.audit.flush()
        try await bootstrap.store.close()
    }
}
