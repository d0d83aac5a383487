// `coffer-server`: Coffer's key-management service over HTTPS (also started as `coffer server`).
//
//   coffer-server [--config FILE] [--data-dir DIR] [--host H] [--port P] [--tls-cert PEM --tls-key PEM] [--insecure-http]
//
// On its embedded default it needs nothing else: the data directory gets a root key file, an
// SQLite store, a self-signed certificate and an audit log on first start, and an admin API key
// is printed once. Every setting can also come from COFFER_* environment variables or a JSON
// file; docs/CONFIGURATION.md lists them and docs/SERVER.md has the rest.
import ArgumentParser
import CofferServer
import Configuration
import Foundation
import Logging

@main
struct CofferServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coffer-server", abstract: "Coffer's key-management service, and its store's admin commands.",
        subcommands: [Serve.self, StoreAdmin.Backup.self, StoreAdmin.Restore.self, StoreAdmin.RotateRootKey.self, StoreAdmin.UpgradeStore.self, StoreAdmin.AdminKey.self, StoreAdmin.SealSecret.self],
        defaultSubcommand: Serve.self)
}

/// Where the configuration and the store are: shared by the server and the admin commands.
/// Flags given here override the environment and the file.
struct StoreOptions: ParsableArguments {
    @Option(help: "JSON configuration file (docs/CONFIGURATION.md). Environment variables COFFER_* and flags override it.")
    var config: String?

    @Option(help: "Data directory: root key, SQLite store, audit log, self-signed certificate (setting dataDir; default coffer-data).")
    var dataDir: String?

    @Option(help: "Root key file (setting root.keyFile; default DATA_DIR/root.key, created on first start). Nodes sharing a store share it.")
    var rootKeyFile: String?

    @Option(help: "Keep keys in PostgreSQL, shared by several nodes: [user@]host:port/database (password from COFFER_POSTGRES_PASSWORD).")
    var postgres: String?

    var flagSettings: [String: String] {
        get throws {
            var settings: [String: String] = [:]
            if let dataDir { settings["dataDir"] = dataDir }
            if let rootKeyFile { settings["root.kind"] = "keyFile"; settings["root.keyFile"] = rootKeyFile }
            if let postgres { settings.merge(try ServerConfiguration.postgresFlag(postgres)) { $1 } }
            return settings
        }
    }

    func load(extra: [String: String] = [:]) async throws -> ServerConfiguration {
        let flags = try flagSettings.merging(extra) { $1 }
        for name in ConfigurationSources.unknownEnvironmentVariables() {
            FileHandle.standardError.write(Data("warning: \(name) is not a Coffer setting (docs/CONFIGURATION.md); ignored\n".utf8))
        }
        do {
            return try await ServerConfiguration.load(flags: flags, file: config)
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the service over HTTPS (the default).")

    @OptionGroup var store: StoreOptions

    @Option(help: "Address to listen on (setting listen.host; default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on, 0 for any free one (setting listen.port; default 8443).")
    var port: Int?

    @Option(help: "PEM certificate chain (setting tls.cert; default: a self-signed certificate in the data directory).")
    var tlsCert: String?

    @Option(help: "PEM private key for --tls-cert (setting tls.key).")
    var tlsKey: String?

    @Flag(help: "Serve plain HTTP (setting http.insecure). Only behind a TLS-terminating proxy on the same host; logged loudly.")
    var insecureHTTP = false

    func run() async throws {
        var extra: [String: String] = [:]
        if let host { extra["listen.host"] = host }
        if let port { extra["listen.port"] = String(port) }
        if let tlsCert { extra["tls.cert"] = tlsCert }
        if let tlsKey { extra["tls.key"] = tlsKey }
        if insecureHTTP { extra["http.insecure"] = "true" }
        let configuration = try await store.load(extra: extra)
        try await ServerRunner(configuration: configuration).run()
    }
}
