import CofferServer
import CofferStore
import Configuration
import Foundation
import Testing

@Suite("Server configuration")
struct ConfigurationTests {
    func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func read(flags: [String: String] = [:], environment: [String: String] = [:], file: String? = nil) async throws -> ServerConfiguration {
        try await ServerConfiguration.load(flags: flags, environment: environment, file: file)
    }

    @Test func flagsOverrideTheEnvironmentWhichOverridesTheFile() async throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/coffer.json"
        try Data(#"{"dataDir":"/from/file","listen":{"host":"0.0.0.0","port":9000},"tls":{"clientAuth":"optional","reloadIntervalSeconds":30},"log":{"level":"debug"}}"#.utf8)
            .write(to: URL(fileURLWithPath: file))
        let fileOnly = try await read(file: file)
        #expect(fileOnly.dataDirectory == "/from/file" && fileOnly.host == "0.0.0.0" && fileOnly.port == 9000)
        #expect(fileOnly.tls.clientAuthentication == .optional && fileOnly.tls.reloadIntervalSeconds == 30 && fileOnly.logLevel == .debug)
        // COFFER_ + the dotted name in upper snake case; camelCase splits at the capital.
        let environment = ["COFFER_LISTEN_PORT": "9100", "COFFER_TLS_CLIENT_AUTH": "required", "COFFER_DATA_DIR": "/from/env"]
        let withEnvironment = try await read(environment: environment, file: file)
        #expect(withEnvironment.port == 9100 && withEnvironment.tls.clientAuthentication == .required && withEnvironment.dataDirectory == "/from/env")
        #expect(withEnvironment.host == "0.0.0.0")
        let withFlags = try await read(flags: ["listen.port": "9200", "dataDir": "/from/flags"], environment: environment, file: file)
        #expect(withFlags.port == 9200 && withFlags.dataDirectory == "/from/flags" && withFlags.tls.clientAuthentication == .required)
        // Unprefixed variables are not Coffer's.
        #expect(try await read(environment: ["LISTEN_PORT": "1"]).port == 8443)
    }

    @Test func defaultsAreTheEmbeddedServer() async throws {
        let configuration = try await read()
        #expect(configuration.dataDirectory == "coffer-data" && configuration.host == "127.0.0.1" && configuration.port == 8443)
        #expect(!configuration.insecureHTTP && configuration.http2 && configuration.tls.clientAuthentication == .none)
        guard case .keyFile(nil) = configuration.root, case .sqlite = configuration.store, case .file(nil, _) = configuration.audit else {
            Issue.record("defaults: key file root, SQLite, file audit")
            return
        }
    }

    @Test func readsEachRootKeyAndTheStore() async throws {
        let passphrase = try await read(environment: ["COFFER_ROOT_KIND": "passphrase", "COFFER_ROOT_PASSPHRASE_FILE": "/run/secrets/p"])
        guard case .passphrase(let file) = passphrase.root else { Issue.record("passphrase root"); return }
        #expect(file == "/run/secrets/p")
        let hsm = try await read(environment: [
            "COFFER_ROOT_KIND": "pkcs11", "COFFER_ROOT_PKCS11_MODULE": "/usr/lib/softhsm/libsofthsm2.so", "COFFER_ROOT_PKCS11_TOKEN": "t",
            "COFFER_ROOT_PKCS11_PIN": "pin-secret-0042",
        ])
        guard case .pkcs11(let module, let token, let label, let pin) = hsm.root else { Issue.record("pkcs11 root"); return }
        #expect(module.hasSuffix("libsofthsm2.so") && token == "t" && label == "coffer-root" && pin.value == "pin-secret-0042")
        // Secrets never print with the configuration (a log line, an error, a test failure).
        for printed in ["\(hsm)", String(reflecting: hsm), "\(hsm.root)"] { #expect(!printed.contains("pin-secret-0042")) }
        let postgres = try await read(flags: try ServerConfiguration.postgresFlag("app@db.internal:6432/keys"), environment: ["COFFER_POSTGRES_PASSWORD": "pw-secret-0042", "COFFER_POSTGRES_TLS": "require"])
        guard case .postgres(let settings) = postgres.store else { Issue.record("postgres store"); return }
        #expect(settings.host == "db.internal" && settings.port == 6432 && settings.database == "keys" && settings.user == "app")
        #expect(settings.password?.value == "pw-secret-0042" && settings.tls == "require")
        for printed in ["\(postgres)", String(reflecting: postgres), "\(settings)"] { #expect(!printed.contains("pw-secret-0042")) }
        let pinned = try await read(environment: ["COFFER_STORE_ID": "00112233445566778899aabbccddeeff"])
        #expect(pinned.expectedStoreID?.hex == "00112233445566778899aabbccddeeff")
        #expect(try await read().expectedStoreID == nil)
    }

    @Test func badSettingsNameTheSettingAndNeverItsValue() async throws {
        let cases: [([String: String], String)] = [
            (["COFFER_TLS_CLIENT_AUTH": "sometimes"], "tls.clientAuth"),
            (["COFFER_LISTEN_PORT": "70000"], "listen.port"),
            (["COFFER_ROOT_KIND": "usb-stick"], "root.kind"),
            (["COFFER_ROOT_KIND": "pkcs11", "COFFER_ROOT_PKCS11_MODULE": "/m.so", "COFFER_ROOT_PKCS11_TOKEN": "t"], "root.pkcs11.pin"),
            (["COFFER_STORE_BACKEND": "postgres"], "postgres.host"),
            (["COFFER_TLS_CERT": "/c.pem"], "tls.key"),
            (["COFFER_HTTP_INSECURE": "true", "COFFER_TLS_CLIENT_AUTH": "optional"], "http.insecure"),
            (["COFFER_AUDIT_SINK": "syslog"], "audit.sink"),
            (["COFFER_LOG_LEVEL": "loud"], "log.level"),
            (["COFFER_STORE_ID": "not-a-store"], "store.id"),
            (["COFFER_STORE_BACKEND": "postgres", "COFFER_POSTGRES_HOST": "h", "COFFER_POSTGRES_DATABASE": "d", "COFFER_POSTGRES_TLS": "maybe", "COFFER_POSTGRES_PASSWORD": "pw-secret-0042"], "postgres.tls"),
        ]
        for (environment, setting) in cases {
            let error = try await #require(throws: ConfigurationError.self, "\(environment)") { try await read(environment: environment) }
            #expect(error.description.contains(setting), "\(error)")
            #expect(!error.description.contains("pw-secret-0042") && !error.description.contains("sometimes") && !error.description.contains("70000") || setting == "listen.port")
        }
    }

    @Test func aMalformedValueStopsInsteadOfFallingBackToTheDefault() async throws {
        for (environment, setting) in [
            (["COFFER_CACHE_TTL_SECONDS": "5s"], "cache.ttlSeconds"), (["COFFER_HTTP_HTTP2": "nope"], "http.http2"),
            (["COFFER_LISTEN_PORT": "84four3"], "listen.port"),
        ] {
            let error = try await #require(throws: ConfigurationError.self) { try await read(environment: environment) }
            #expect(error.description.contains(setting), "\(error)")
        }
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data(#"{"http":{"http2":"false"}}"#.utf8).write(to: URL(fileURLWithPath: directory + "/c.json"))
        await #expect(throws: ConfigurationError.self) { try await read(file: directory + "/c.json") }
    }

    @Test func everySettingHasTheEnvironmentNameTheProviderReads() async throws {
        #expect(ConfigurationSources.environmentName("tls.clientAuth") == "COFFER_TLS_CLIENT_AUTH")
        #expect(ConfigurationSources.environmentName("root.pkcs11.keyLabel") == "COFFER_ROOT_PKCS11_KEY_LABEL")
        // The provider resolves each computed name to its setting (a string setting read back).
        let viaEnvironment = try await read(environment: [ConfigurationSources.environmentName("audit.file"): "/x/audit.log", ConfigurationSources.environmentName("dataDir"): "/x"])
        #expect(viaEnvironment.dataDirectory == "/x")
        guard case .file(let path, _) = viaEnvironment.audit else { Issue.record("file audit"); return }
        #expect(path == "/x/audit.log")
        let unknown = ConfigurationSources.unknownEnvironmentVariables([
            "COFFER_TLS_CLIENTAUTH": "required", "COFFER_TLS_CLIENT_AUTH": "required", "COFFER_PASSPHRASE": "x", "COFFER_TEST_LOG_DIR": "/t", "HOME": "/root",
        ])
        #expect(unknown == ["COFFER_TLS_CLIENTAUTH"])
    }

    @Test func aFileWithAnUnknownSettingIsRefused() async throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/coffer.json"
        // A misspelt client-auth setting must not silently leave mutual TLS off.
        try Data(#"{"tls":{"clientAuthentication":"required"},"listen":{"port":9000}}"#.utf8).write(to: URL(fileURLWithPath: file))
        let error = try await #require(throws: ConfigurationError.self) { try await read(file: file) }
        #expect(error.description.contains("tls.clientAuthentication"))
        try Data("not json".utf8).write(to: URL(fileURLWithPath: file))
        await #expect(throws: ConfigurationError.self) { try await read(file: file) }
        await #expect(throws: ConfigurationError.self) { try await read(file: directory + "/missing.json") }
    }

    @Test func aCertificatesDirectoryInEitherLayout() async throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        await #expect(throws: ConfigurationError.self) { try await read(environment: ["COFFER_TLS_DIRECTORY": directory]) }
        for name in ["public.crt", "private.key"] { FileManager.default.createFile(atPath: directory + "/" + name, contents: Data()) }
        let minio = try await read(environment: ["COFFER_TLS_DIRECTORY": directory])
        #expect(minio.tls.certificatePath == directory + "/public.crt" && minio.tls.privateKeyPath == directory + "/private.key" && minio.tls.clientCAPath == nil)
        for name in ["cert.pem", "key.pem", "client-ca.pem"] { FileManager.default.createFile(atPath: directory + "/" + name, contents: Data()) }
        let coffer = try await read(environment: ["COFFER_TLS_DIRECTORY": directory])
        #expect(coffer.tls.certificatePath == directory + "/cert.pem" && coffer.tls.clientCAPath == directory + "/client-ca.pem")
        // Explicit files win over the directory, wherever they come from.
        let explicit = try await read(environment: ["COFFER_TLS_DIRECTORY": directory, "COFFER_TLS_CERT": "/c", "COFFER_TLS_KEY": "/k"])
        #expect(explicit.tls.certificatePath == "/c" && explicit.tls.clientCAPath == nil)
        
    }

    @Test func sealedSecretsOpenOnlyWithTheirRootKeyAndForTheirSetting() throws {
        let rootKey = try SoftwareRootKey(bytes: (0..<32).map { _ in UInt8.random(in: 0...255) }, kind: "key-file")
        let other = try SoftwareRootKey(bytes: (0..<32).map { _ in UInt8.random(in: 0...255) }, kind: "key-file")
        let sealed = try ConfigurationSecret.seal("db-password-7781", setting: "postgres.password", under: rootKey)
        #expect(sealed.hasPrefix("coffer-sealed:") && !sealed.contains("db-password-7781"))
        #expect(try ConfigurationSecret.open(sealed, setting: "postgres.password", with: rootKey) == "db-password-7781")
        #expect(throws: KeyStoreError.self) { try ConfigurationSecret.open(sealed, setting: "root.pkcs11.pin", with: rootKey) }
        #expect(throws: KeyStoreError.self) { try ConfigurationSecret.open(sealed, setting: "postgres.password", with: other) }
        var damaged = Array(sealed)
        damaged[damaged.count - 3] = damaged[damaged.count - 3] == "A" ? "B" : "A"
        let error = try #require(throws: KeyStoreError.self) { try ConfigurationSecret.open(String(damaged), setting: "postgres.password", with: rootKey) }
        #expect(!"\(error)".contains("db-password"))
    }

    @Test func aSealedDatabasePasswordNeedsARootKeyBeforeTheUnseal() async throws {
        var configuration = ServerConfiguration()
        configuration.root = .passphrase(passphraseFile: nil)
        configuration.store = .postgres(.init(host: "127.0.0.1", port: 1, database: "d", user: "u", password: SecretValue("coffer-sealed:AAAA"), tls: "disable"))
        #expect(configuration.hasSealedSecrets)
        let error = try await #require(throws: ConfigurationError.self) {
            try await ServerBootstrap.openBackend(configuration, rootKey: nil, logger: .init(label: "test"))
        }
        #expect(error.description.contains("postgres.password"))
    }
}
