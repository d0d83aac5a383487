import CofferAudit
import CofferCrypto
import CofferStore
import CofferStorePKCS11
import CofferStorePostgres
import CofferStoreSQLite
import PostgresNIO
import Foundation
import Logging

/// Everything `coffer-server` needs before it listens. On the embedded default: a data directory
/// (0700) holding the root key file, the SQLite store, the audit log and a self-signed TLS
/// certificate, all made on first start; and an admin API key, made and printed exactly once.
/// A production configuration names a passphrase or HSM root key, PostgreSQL and its own
/// certificate instead (docs/CONFIGURATION.md).
public struct ServerBootstrap {
    public let store: KeyStore
    public let audit: AuditLog
    public let certificatePath: String
    public let privateKeyPath: String
    /// The admin API key when this start created it (print it once; it is never shown again).
    /// A passphrase store that starts sealed makes it at its first unseal instead.
    public let newAdminKey: String?

    /// The root key the configuration names; `nil` for a passphrase, which arrives later.
    /// - Parameter create: make the key file or HSM key when it does not exist (the server's first
    ///   start). Admin commands pass false: a mistyped path must not seal under a new key.
    public static func openRootKey(_ configuration: ServerConfiguration, create: Bool = true, logger: Logger) throws -> (any RootKey)? {
        switch configuration.root {
        case .keyFile(let path):
            if path == nil && create { try makeDataDirectory(configuration) }
            let rootKeyPath = path ?? configuration.dataDirectory + "/root.key"
            let rootKey: SoftwareRootKey, permissive: Bool
            if create {
                let created: Bool
                (rootKey, created, permissive) = try RootKeyFile.loadOrCreate(at: rootKeyPath)
                if created { logger.notice("created root key file", metadata: ["path": "\(rootKeyPath)"]) }
            } else {
                (rootKey, permissive) = try RootKeyFile.load(at: rootKeyPath)
            }
            if permissive { logger.warning("the root key file is readable by other users; chmod 600 it", metadata: ["path": "\(rootKeyPath)"]) }
            logger.warning("the root key is a file (development default); use a passphrase or an HSM in production")
            return rootKey
        case .passphrase:
            return nil
        case .pkcs11(let module, let token, let keyLabel, let pin):
            // Created on first use inside the token, non-extractable; the PIN is never logged.
            let rootKey = try PKCS11RootKey.open(modulePath: module, tokenLabel: token, pin: Array(pin.value.utf8), keyLabel: keyLabel, createIfMissing: create)
            logger.notice("root key in the HSM", metadata: ["root": "\(rootKey.kind)"])
            return rootKey
        }
    }

    /// Opens (creating on first use) the data directory, the root key and the store — what the
    /// server and its admin commands (backup, root-key rotation) share. A passphrase store is
    /// unsealed here when `root.passphraseFile` is set, and otherwise stays sealed.
    ///
    /// - Parameter create: make what is missing (the server's first start). Admin commands pass
    ///   false: a backup or a root-key rotation pointed at a mistyped data directory must fail,
    ///   not create a root key and an empty store there and report success.
    /// - Parameter upgradeRows: authenticate the rows of a store written before rows were
    ///   tagged (`upgrade-store` only; ``KeyStoreError/Code/upgradeRequired``).
    public static func openStore(_ configuration: ServerConfiguration, create: Bool = true, upgradeRows: Bool = false, logger: Logger) async throws -> KeyStore {
        if create {
            try makeDataDirectory(configuration)
        } else if case .sqlite = configuration.store, !FileManager.default.fileExists(atPath: sqlitePath(configuration)) {
            throw ConfigurationError("no store at \(sqlitePath(configuration)) (check --data-dir)")
        }
        // A pinned store exists already, and so does its root key: a pinned server pointed at a
        // wrong database must not create a root key (file or HSM key) before it refuses.
        let rootKey = try openRootKey(configuration, create: create && configuration.expectedStoreID == nil, logger: logger)
        let backend = try await openBackend(configuration, rootKey: rootKey, logger: logger)
        if !create, !(try await KeyStore.isInitialised(backend)) {
            try await backend.close()
            throw ConfigurationError("no store in \(storeDescription(configuration)) (check --data-dir / --postgres)")
        }
        var storeConfiguration = KeyStoreConfiguration()
        storeConfiguration.cacheCapacity = configuration.cacheCapacity
        storeConfiguration.cacheTTL = .seconds(configuration.cacheTTLSeconds)
        storeConfiguration.upgradeUnauthenticatedRows = upgradeRows
        storeConfiguration.expectedStoreID = configuration.expectedStoreID
        let store = try await KeyStore.open(backend: backend, root: rootKey.map { .key($0) } ?? .passphrase, configuration: storeConfiguration)
        if case .passphrase(let file?) = configuration.root {
            if SecretFile.isReadableByOthers(file) {
                logger.warning("the passphrase file is readable by other users; chmod 600 it", metadata: ["path": "\(file)"])
            }
            try await store.unseal(passphrase: try Passphrase(try SecretFile.read(file, setting: "root.passphraseFile")))
            logger.notice("unsealed with the passphrase file", metadata: ["path": "\(file)"])
        } else if store.isSealed {
            logger.notice("the store is sealed: POST /v1/sys/unseal with the passphrase to start serving keys")
        }
        return store
    }

    /// The backend alone (restore writes into it before any store is opened). A sealed
    /// `postgres.password` is opened with `rootKey`.
    public static func openBackend(_ configuration: ServerConfiguration, rootKey: (any RootKey)?, logger: Logger) async throws -> any KeyStoreBackend {
        switch configuration.store {
        case .sqlite:
            try makeDataDirectory(configuration)
            return try await SQLiteKeyStoreBackend.open(path: sqlitePath(configuration))
        case .postgres(let settings):
            var password = settings.password?.value
            if let sealed = password, ConfigurationSecret.isSealed(sealed) {
                guard let rootKey else {
                    throw ConfigurationError("postgres.password is sealed under the root key, but a passphrase root key is not available before the unseal; give it through COFFER_POSTGRES_PASSWORD or a file instead")
                }
                password = try ConfigurationSecret.open(sealed, setting: "postgres.password", with: rootKey)
            }
            let tls: PostgresClient.Configuration.TLS = switch settings.tls {
            case "disable": .disable
            case "require": .require(.makeClientConfiguration())
            default: .prefer(.makeClientConfiguration())
            }
            return PostgresKeyStoreBackend(
                configuration: PostgresClient.Configuration(
                    host: settings.host, port: settings.port, username: settings.user, password: password, database: settings.database, tls: tls),
                logger: logger)
        }
    }

    public static func prepare(_ configuration: ServerConfiguration, logger: Logger) async throws -> ServerBootstrap {
        let fileManager = FileManager.default
        let store = try await openStore(configuration, logger: logger)
        let newAdminKey = store.isSealed ? nil : try await AdminBootstrap.ensureAdmin(store)
        if let storeID = store.storeID {
            // The id is public; pinning it (store.id) is what stops a swapped or emptied
            // database from being served as if it were this store.
            if configuration.expectedStoreID == nil {
                logger.notice("store \(storeID.hex); set store.id (COFFER_STORE_ID) to this value so that no other store, and no new one, is ever served from this database")
            } else {
                logger.info("store \(storeID.hex), as store.id requires")
            }
        }

        let audit: AuditLog
        switch configuration.audit {
        case .stdout: audit = try AuditLog(sink: .stdout)
        case .file(let path, let rotateAtBytes):
            audit = try AuditLog(sink: .file(path: path ?? configuration.dataDirectory + "/audit.log", rotateAtBytes: rotateAtBytes))
        }
        if let problem = audit.startupProblem { logger.critical("\(problem)") }

        // Both PEM files given, or neither: then the self-signed pair in the data directory.
        let dataDirectory = configuration.dataDirectory
        let certificate = configuration.tls.certificatePath ?? dataDirectory + "/tls/cert.pem"
        let key = configuration.tls.privateKeyPath ?? dataDirectory + "/tls/key.pem"
        if configuration.tls.certificatePath == nil, !fileManager.fileExists(atPath: certificate) || !fileManager.fileExists(atPath: key) {
            try fileManager.createDirectory(atPath: dataDirectory + "/tls", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let (certificatePEM, keyPEM) = try SelfSignedCertificate.make(names: [])
            guard fileManager.createFile(atPath: key, contents: Data(keyPEM.utf8), attributes: [.posixPermissions: 0o600]),
                fileManager.createFile(atPath: certificate, contents: Data(certificatePEM.utf8), attributes: [.posixPermissions: 0o644])
            else { throw ConfigurationError("cannot write the self-signed certificate in \(dataDirectory)/tls") }
            logger.notice("created a self-signed TLS certificate", metadata: ["path": "\(certificate)"])
        }
        return ServerBootstrap(store: store, audit: audit, certificatePath: certificate, privateKeyPath: key, newAdminKey: newAdminKey)
    }

    /// Where the store lives, for messages.
    public static func storeDescription(_ configuration: ServerConfiguration) -> String {
        switch configuration.store {
        case .sqlite: sqlitePath(configuration)
        case .postgres(let settings): "PostgreSQL \(settings.host):\(settings.port)/\(settings.database)"
        }
    }

    /// The embedded store's database file.
    public static func sqlitePath(_ configuration: ServerConfiguration) -> String {
        configuration.dataDirectory + "/keys.sqlite"
    }

    static func makeDataDirectory(_ configuration: ServerConfiguration) throws {
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }
}

extension ServerConfiguration {
    /// `--postgres [user@]host:port/database` as settings (the flag's short form).
    public static func postgresFlag(_ location: String) throws -> [String: String] {
        var rest = Substring(location)
        var settings = ["store.backend": "postgres"]
        if let at = rest.firstIndex(of: "@") {
            settings["postgres.user"] = String(rest[..<at])
            rest = rest[rest.index(after: at)...]
        }
        guard let slash = rest.firstIndex(of: "/"), let colon = rest[..<slash].lastIndex(of: ":"),
            Int(rest[rest.index(after: colon)..<slash]) != nil, !rest[rest.index(after: slash)...].isEmpty
        else { throw ConfigurationError("--postgres takes [user@]host:port/database") }
        settings["postgres.host"] = String(rest[..<colon])
        settings["postgres.port"] = String(rest[rest.index(after: colon)..<slash])
        settings["postgres.database"] = String(rest[rest.index(after: slash)...])
        return settings
    }
}
