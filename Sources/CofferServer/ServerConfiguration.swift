import CofferStore
import Configuration
import Foundation
import Logging

/// Everything `coffer server` is told, read once at start through swift-configuration from, in
/// order of precedence: command-line flags, `COFFER_*` environment variables, a JSON file
/// (`--config`), then the defaults below. docs/CONFIGURATION.md lists every setting.
///
/// Secrets (`postgres.password`, `root.pkcs11.pin`) are read with `isSecret`, so
/// swift-configuration's access reporting redacts them, and they never reach a log or an error
/// message here. `postgres.password` may also be given sealed under the root key
/// (``ConfigurationSecret``).
public struct ServerConfiguration: Sendable {
    public var dataDirectory = "coffer-data"
    public var host = "127.0.0.1"
    public var port = 8443
    public var insecureHTTP = false
    public var http2 = true

    public var tls = TLS()
    public var root = Root.keyFile(path: nil)
    public var store = Store.sqlite
    /// The store the database must hold (`store.id`), or nil to take whatever it holds.
    public var expectedStoreID: StoreID?
    public var audit = Audit.file(path: nil, rotateAtBytes: 64 << 20)
    public var logLevel = Logger.Level.info
    public var cacheCapacity = 10_000
    public var cacheTTLSeconds = 60
    public var rotationCheckIntervalSeconds = 60

    public struct TLS: Sendable {
        /// PEM chain and key; both or neither (then a self-signed pair in the data directory).
        public var certificatePath: String?
        public var privateKeyPath: String?
        public var clientAuthentication = ClientAuthentication.none
        /// PEM bundle that client certificates must chain to; without it any client
        /// certificate is accepted and only its public key — registered as an identity —
        /// grants anything (as with KES).
        public var clientCAPath: String?
        /// How often the certificate and key files are checked for changes.
        public var reloadIntervalSeconds = 10
    }

    public enum ClientAuthentication: String, Sendable, CaseIterable {
        /// No client certificate is asked for; API keys only.
        case none
        /// A client certificate is asked for and, when given, is an identity; API keys still work.
        case optional
        /// Every connection must present a client certificate.
        case required
    }

    public enum Root: Sendable {
        /// A 32-byte key file (default DATA_DIR/root.key, created on first start).
        case keyFile(path: String?)
        /// The store starts sealed until `/v1/sys/unseal`, unless a passphrase file is given.
        case passphrase(passphraseFile: String?)
        case pkcs11(module: String, token: String, keyLabel: String, pin: SecretValue)
    }

    public enum Store: Sendable {
        case sqlite
        case postgres(PostgresSettings)
    }

    public struct PostgresSettings: Sendable {
        public var host: String
        public var port: Int
        public var database: String
        public var user: String
        /// Clear, or `coffer-sealed:…` (opened with the root key at start).
        public var password: SecretValue?
        public var tls: String

        public init(host: String, port: Int, database: String, user: String, password: SecretValue?, tls: String) {
            self.host = host
            self.port = port
            self.database = database
            self.user = user
            self.password = password
            self.tls = tls
        }
    }

    public enum Audit: Sendable {
        case stdout
        case file(path: String?, rotateAtBytes: Int)
    }

    public init() {}
}

/// A secret setting's value (the HSM PIN, the database password). It prints, dumps and mirrors
/// as `<redacted>`: a configuration that reaches a log line, an error or a test failure message
/// must not carry it along.
public struct SecretValue: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let value: String
    public init(_ value: String) { self.value = value }
    public var description: String { "<redacted>" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// A setting that is missing, malformed or contradicts another. Names the setting, never its
/// value (it may be a secret).
public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension ServerConfiguration {
    /// Every setting this version knows, for refusing unknown ones in a configuration file (a
    /// misspelt `tls.clientAuth` must not silently leave mutual TLS off).
    public static let knownKeys: Set<String> = [
        "dataDir", "listen.host", "listen.port", "http.insecure", "http.http2",
        "tls.cert", "tls.key", "tls.directory", "tls.clientAuth", "tls.clientCaFile", "tls.reloadIntervalSeconds",
        "root.kind", "root.keyFile", "root.passphraseFile", "root.pkcs11.module", "root.pkcs11.token",
        "root.pkcs11.keyLabel", "root.pkcs11.pin", "root.pkcs11.pinFile",
        "store.backend", "store.id", "postgres.host", "postgres.port", "postgres.database", "postgres.user",
        "postgres.password", "postgres.tls",
        "audit.sink", "audit.file", "audit.rotateBytes", "log.level",
        "cache.capacity", "cache.ttlSeconds", "rotation.checkIntervalSeconds",
    ]

    static let integerKeys: Set<String> = [
        "listen.port", "tls.reloadIntervalSeconds", "postgres.port", "audit.rotateBytes", "cache.capacity", "cache.ttlSeconds",
        "rotation.checkIntervalSeconds",
    ]
    static let booleanKeys: Set<String> = ["http.insecure", "http.http2"]

    /// The secrets that may be given sealed under the root key (``ConfigurationSecret``). The
    /// passphrase and the HSM PIN unlock the root key itself, so they cannot be.
    public static let sealableSettings: Set<String> = ["postgres.password"]

    /// Whether a setting holds a value sealed under the root key.
    public var hasSealedSecrets: Bool {
        if case .postgres(let settings) = store, let password = settings.password { return ConfigurationSecret.isSealed(password.value) }
        return false
    }

    /// Reads and checks every setting from `flags` (highest precedence), the environment and
    /// `file`. A value that is set but malformed stops here, naming the setting.
    public static func load(
        flags: [String: String], environment: [String: String] = ProcessInfo.processInfo.environment, file: String?
    ) async throws -> ServerConfiguration {
        let malformed = MalformedValues()
        let reader = try await ConfigurationSources.reader(flags: flags, environment: environment, file: file, reporter: malformed)
        let configuration = try read(reader)
        guard malformed.settings.isEmpty else {
            throw ConfigurationError("malformed value for \(malformed.settings.joined(separator: ", ")) (docs/CONFIGURATION.md gives each setting's type)")
        }
        return configuration
    }

    /// Reads and checks every setting.
    public static func read(_ config: ConfigReader) throws -> ServerConfiguration {
        var result = ServerConfiguration()
        result.dataDirectory = config.string(forKey: "dataDir", default: result.dataDirectory)
        result.host = config.string(forKey: "listen.host", default: result.host)
        result.port = try ranged(config, "listen.port", default: result.port, 0...65535)
        result.insecureHTTP = config.bool(forKey: "http.insecure", default: false)
        result.http2 = config.bool(forKey: "http.http2", default: true)

        result.tls.certificatePath = config.string(forKey: "tls.cert")
        result.tls.privateKeyPath = config.string(forKey: "tls.key")
        guard (result.tls.certificatePath == nil) == (result.tls.privateKeyPath == nil) else {
            throw ConfigurationError("tls.cert and tls.key go together: give both or neither")
        }
        // tls.cert and tls.key, wherever they come from, win over a directory.
        if let directory = config.string(forKey: "tls.directory"), result.tls.certificatePath == nil {
            (result.tls.certificatePath, result.tls.privateKeyPath, result.tls.clientCAPath) = try CertificatesDirectory.paths(in: directory)
        }
        let clientAuth = config.string(forKey: "tls.clientAuth", default: "none")
        guard let authentication = ClientAuthentication(rawValue: clientAuth) else {
            throw ConfigurationError("tls.clientAuth is none, optional or required")
        }
        result.tls.clientAuthentication = authentication
        result.tls.clientCAPath = config.string(forKey: "tls.clientCaFile") ?? result.tls.clientCAPath
        result.tls.reloadIntervalSeconds = try ranged(config, "tls.reloadIntervalSeconds", default: 10, 1...86_400)
        if result.insecureHTTP, authentication != .none {
            throw ConfigurationError("tls.clientAuth needs TLS; it cannot be combined with http.insecure")
        }

        result.root = try readRoot(config)
        result.store = try readStore(config)
        if let pinned = config.string(forKey: "store.id") {
            guard let storeID = StoreID(hex: pinned) else {
                throw ConfigurationError("store.id is the store's 32 hex digits (the server logs it at start)")
            }
            result.expectedStoreID = storeID
        }

        switch config.string(forKey: "audit.sink", default: "file") {
        case "file":
            result.audit = .file(path: config.string(forKey: "audit.file"), rotateAtBytes: try ranged(config, "audit.rotateBytes", default: 64 << 20, 4096...(1 << 40)))
        case "stdout": result.audit = .stdout
        default: throw ConfigurationError("audit.sink is file or stdout")
        }
        guard let level = Logger.Level(rawValue: config.string(forKey: "log.level", default: "info")) else {
            throw ConfigurationError("log.level is trace, debug, info, notice, warning, error or critical")
        }
        result.logLevel = level
        result.cacheCapacity = try ranged(config, "cache.capacity", default: 10_000, 1...10_000_000)
        result.cacheTTLSeconds = try ranged(config, "cache.ttlSeconds", default: 60, 1...86_400)
        result.rotationCheckIntervalSeconds = try ranged(config, "rotation.checkIntervalSeconds", default: 60, 1...86_400)
        return result
    }

    static func readRoot(_ config: ConfigReader) throws -> Root {
        switch config.string(forKey: "root.kind", default: "keyFile") {
        case "keyFile":
            return .keyFile(path: config.string(forKey: "root.keyFile"))
        case "passphrase":
            return .passphrase(passphraseFile: config.string(forKey: "root.passphraseFile"))
        case "pkcs11":
            guard let module = config.string(forKey: "root.pkcs11.module"), let token = config.string(forKey: "root.pkcs11.token") else {
                throw ConfigurationError("root.kind pkcs11 needs root.pkcs11.module and root.pkcs11.token")
            }
            // The PIN unlocks the root key itself, so it cannot be sealed under it: it comes
            // from the environment (COFFER_ROOT_PKCS11_PIN) or a file readable by the server only.
            let pin: String
            if let inline = config.string(forKey: "root.pkcs11.pin", isSecret: true) {
                pin = inline
            } else if let file = config.string(forKey: "root.pkcs11.pinFile") {
                pin = try SecretFile.read(file, setting: "root.pkcs11.pinFile")
            } else {
                throw ConfigurationError("root.kind pkcs11 needs root.pkcs11.pin (COFFER_ROOT_PKCS11_PIN) or root.pkcs11.pinFile")
            }
            return .pkcs11(module: module, token: token, keyLabel: config.string(forKey: "root.pkcs11.keyLabel", default: "coffer-root"), pin: SecretValue(pin))
        default:
            throw ConfigurationError("root.kind is keyFile, passphrase or pkcs11")
        }
    }

    static func readStore(_ config: ConfigReader) throws -> Store {
        switch config.string(forKey: "store.backend", default: "sqlite") {
        case "sqlite": return .sqlite
        case "postgres":
            guard let host = config.string(forKey: "postgres.host"), let database = config.string(forKey: "postgres.database") else {
                throw ConfigurationError("store.backend postgres needs postgres.host and postgres.database")
            }
            let tls = config.string(forKey: "postgres.tls", default: "prefer")
            guard ["disable", "prefer", "require"].contains(tls) else { throw ConfigurationError("postgres.tls is disable, prefer or require") }
            return .postgres(PostgresSettings(
                host: host, port: try ranged(config, "postgres.port", default: 5432, 1...65535), database: database,
                user: config.string(forKey: "postgres.user", default: "coffer"),
                password: config.string(forKey: "postgres.password", isSecret: true).map(SecretValue.init), tls: tls))
        default:
            throw ConfigurationError("store.backend is sqlite or postgres")
        }
    }

    static func ranged(_ config: ConfigReader, _ key: String, default value: Int, _ range: ClosedRange<Int>) throws -> Int {
        let number = config.int(forKey: ConfigKey(key), default: value)
        guard range.contains(number) else { throw ConfigurationError("\(key) must be in \(range.lowerBound)…\(range.upperBound)") }
        return number
    }
}

/// A certificates directory, as MinIO and KES deployments lay them out: the certificate chain
/// and key as `cert.pem` + `key.pem` (or MinIO's `public.crt` + `private.key`), and optionally
/// `client-ca.pem` (or `CAs/ca.pem`) for client certificates. The certificate and key are
/// reloaded like the two files; the client CA is read at start.
enum CertificatesDirectory {
    static func paths(in directory: String) throws -> (certificate: String, key: String, clientCA: String?) {
        let fileManager = FileManager.default
        for (certificate, key) in [("cert.pem", "key.pem"), ("public.crt", "private.key")] {
            let certificatePath = directory + "/" + certificate, keyPath = directory + "/" + key
            if fileManager.fileExists(atPath: certificatePath), fileManager.fileExists(atPath: keyPath) {
                let clientCA = ["client-ca.pem", "CAs/ca.pem"].map { directory + "/" + $0 }.first { fileManager.fileExists(atPath: $0) }
                return (certificatePath, keyPath, clientCA)
            }
        }
        throw ConfigurationError("tls.directory \(directory) holds neither cert.pem and key.pem nor public.crt and private.key")
    }
}

/// A secret kept in its own file (a passphrase, a PIN): read whole, one trailing newline dropped.
/// The server warns when others can read it.
enum SecretFile {
    static func read(_ path: String, setting: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path), var text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError("\(setting): cannot read \(path)")
        }
        if text.hasSuffix("\n") { text.removeLast() }
        if text.hasSuffix("\r") { text.removeLast() }
        guard !text.isEmpty else { throw ConfigurationError("\(setting): \(path) is empty") }
        return text
    }

    /// Whether group or others may read the file at `path`.
    static func isReadableByOthers(_ path: String) -> Bool {
        guard let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int else { return false }
        return mode & 0o077 != 0
    }
}
