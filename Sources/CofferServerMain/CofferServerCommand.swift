// `coffer-server`: Coffer's key-management service over HTTPS (also started as `coffer server`).
//
//   coffer-server [--data-dir DIR] [--host H] [--port P] [--tls-cert PEM --tls-key PEM] [--insecure-http]
//
// On its embedded default it needs nothing else: the data directory gets a root key file, an
// SQLite store, a self-signed certificate and an audit log on first start, and an admin API key
// is printed once. docs/SERVER.md has the rest.
import ArgumentParser
import CofferServer
import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore

@main
struct CofferServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coffer-server", abstract: "Coffer's key-management service, and its store's admin commands.",
        subcommands: [Serve.self, StoreAdmin.Backup.self, StoreAdmin.Restore.self, StoreAdmin.RotateRootKey.self],
        defaultSubcommand: Serve.self)
}

/// Where the store is: shared by the server and the admin commands.
struct StoreOptions: ParsableArguments {
    @Option(help: "Data directory: root key, SQLite store, audit log, self-signed certificate.")
    var dataDir = "coffer-data"

    @Option(help: "Root key file (default: DATA_DIR/root.key, created on first start). Nodes sharing a store share it.")
    var rootKeyFile: String?

    @Option(help: "Keep keys in PostgreSQL, shared by several nodes: [user@]host:port/database (password from COFFER_POSTGRES_PASSWORD).")
    var postgres: String?

    var location: ServerBootstrap.StoreLocation { postgres.map { .postgres($0) } ?? .sqlite }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the service over HTTPS (the default).")

    @OptionGroup var store: StoreOptions

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port = 8443

    @Option(help: "PEM certificate chain (default: a self-signed certificate in the data directory).")
    var tlsCert: String?

    @Option(help: "PEM private key for --tls-cert.")
    var tlsKey: String?

    @Flag(help: "Serve plain HTTP. Only behind a TLS-terminating proxy on the same host; logged loudly.")
    var insecureHTTP = false

    func run() async throws {
        var logger = Logger(label: "coffer.server")
        logger.logLevel = .info
        let bootstrap = try await ServerBootstrap.prepare(
            dataDirectory: store.dataDir, rootKeyFile: store.rootKeyFile, storeLocation: store.location,
            certificatePath: tlsCert, privateKeyPath: tlsKey, logger: logger)
        if let adminKey = bootstrap.newAdminKey {
            // The one time this secret is shown: on stdout, not in the log.
            print("Admin API key (shown once, store it now): \(adminKey)")
        }
        let metrics = ServerMetrics(store: bootstrap.store, certificatePath: insecureHTTP ? nil : bootstrap.certificatePath)
        if let days = metrics.certificateDaysToExpiry(), days < 30 {
            logger.warning("the TLS certificate expires soon", metadata: ["days": "\(Int(days))", "path": "\(bootstrap.certificatePath)"])
        }
        let router = CofferServerApplication.buildRouter(store: bootstrap.store, audit: bootstrap.audit, metrics: metrics)
        let configuration = ApplicationConfiguration(address: .hostname(host, port: port), serverName: "coffer")
        let scheduler = RotationScheduler(store: bootstrap.store, logger: logger)
        // Printed once the socket is bound (so "Listening on" means it), with the real port:
        // `--port 0` picks a free one.
        let scheme = insecureHTTP ? "http" : "https", host = self.host, certificate = bootstrap.certificatePath
        let announce: @Sendable (any Channel) async -> Void = { channel in
            print("Listening on \(scheme)://\(host):\(channel.localAddress?.port ?? 0) (TLS certificate: \(certificate))")
            fflush(nil)
        }
        let application: any ApplicationProtocol
        if insecureHTTP {
            logger.critical("serving PLAIN HTTP: API keys and plaintexts cross the network unencrypted (--insecure-http)")
            application = Application(router: router, configuration: configuration, services: [scheduler], onServerRunning: announce, logger: logger)
        } else {
            let tls = try TLSSettings.server(certificatePath: bootstrap.certificatePath, privateKeyPath: bootstrap.privateKeyPath)
            application = Application(
                router: router, server: try .tls(.http1(), tlsConfiguration: tls), configuration: configuration, services: [scheduler],
                onServerRunning: announce, logger: logger)
        }
        try await application.runService()
        bootstrap.audit.flush()
        try await bootstrap.store.close()
    }
}
