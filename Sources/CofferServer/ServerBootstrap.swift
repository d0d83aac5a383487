import CofferAudit
import CofferCrypto
import CofferStore
import CofferStorePostgres
import CofferStoreSQLite
import PostgresNIO
import Foundation
import Logging

/// Everything `coffer-server` needs before it listens, on the embedded default: a data directory
/// (0700) holding the root key file, the SQLite store, the audit log and a self-signed TLS
/// certificate, all made on first start; and an admin API key, made and printed exactly once.
public struct ServerBootstrap {
    public let store: KeyStore
    public let audit: AuditLog
    public let certificatePath: String
    public let privateKeyPath: String
    /// The admin API key when this start created it (print it once; it is never shown again).
    public let newAdminKey: String?

    /// Where the keys live: the embedded SQLite file, or a PostgreSQL database shared by nodes.
    public enum StoreLocation: Sendable {
        case sqlite
        /// `host:port/database`; user `coffer` unless `user@` is given; password from
        /// `COFFER_POSTGRES_PASSWORD` (never from argv, where `ps` shows it).
        case postgres(String)
    }

    /// Opens (creating on first use) the data directory, the root key file and the store — what
    /// the server and its admin commands (backup, restore, root-key rotation) share.
    public static func openStore(dataDirectory: String, rootKeyFile: String?, storeLocation: StoreLocation, logger: Logger) async throws -> KeyStore {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let rootKeyPath = rootKeyFile ?? dataDirectory + "/root.key"
        let (rootKey, created, permissive) = try RootKeyFile.loadOrCreate(at: rootKeyPath)
        if created { logger.notice("created root key file", metadata: ["path": "\(rootKeyPath)"]) }
        if permissive { logger.warning("the root key file is readable by other users; chmod 600 it", metadata: ["path": "\(rootKeyPath)"]) }
        return try await KeyStore.open(backend: try await openBackend(dataDirectory: dataDirectory, storeLocation: storeLocation, logger: logger), root: .key(rootKey))
    }

    /// The backend alone (restore writes into it before any store is opened).
    public static func openBackend(dataDirectory: String, storeLocation: StoreLocation, logger: Logger) async throws -> any KeyStoreBackend {
        switch storeLocation {
        case .sqlite:
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            return try await SQLiteKeyStoreBackend.open(path: dataDirectory + "/keys.sqlite")
        case .postgres(let location):
            return PostgresKeyStoreBackend(configuration: try postgresConfiguration(location), logger: logger)
        }
    }

    public static func prepare(
        dataDirectory: String, rootKeyFile: String? = nil, storeLocation: StoreLocation = .sqlite,
        certificatePath: String?, privateKeyPath: String?, logger: Logger
    ) async throws -> ServerBootstrap {
        let fileManager = FileManager.default
        let store = try await openStore(dataDirectory: dataDirectory, rootKeyFile: rootKeyFile, storeLocation: storeLocation, logger: logger)
        logger.warning("the root key is a file (development default); use a passphrase or an HSM in production")

        let newAdminKey = store.isSealed ? nil : try await AdminBootstrap.ensureAdmin(store)

        let audit = try AuditLog(sink: .file(path: dataDirectory + "/audit.log", rotateAtBytes: 64 << 20))
        if let problem = audit.startupProblem { logger.critical("\(problem)") }

        // Both PEM files given, or neither: then the self-signed pair in the data directory.
        let useOwn = certificatePath == nil || privateKeyPath == nil
        let certificate = useOwn ? dataDirectory + "/tls/cert.pem" : certificatePath!
        let key = useOwn ? dataDirectory + "/tls/key.pem" : privateKeyPath!
        if useOwn {
            if !fileManager.fileExists(atPath: certificate) || !fileManager.fileExists(atPath: key) {
                try fileManager.createDirectory(atPath: dataDirectory + "/tls", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                let (certificatePEM, keyPEM) = try SelfSignedCertificate.make(names: [])
                guard fileManager.createFile(atPath: key, contents: Data(keyPEM.utf8), attributes: [.posixPermissions: 0o600]),
                    fileManager.createFile(atPath: certificate, contents: Data(certificatePEM.utf8), attributes: [.posixPermissions: 0o644])
                else { throw BootstrapError(description: "cannot write the self-signed certificate in \(dataDirectory)/tls") }
                logger.notice("created a self-signed TLS certificate", metadata: ["path": "\(certificate)"])
            }
        }
        return ServerBootstrap(store: store, audit: audit, certificatePath: certificate, privateKeyPath: key, newAdminKey: newAdminKey)
    }
}

extension ServerBootstrap {
    static func postgresConfiguration(_ location: String) throws -> PostgresClient.Configuration {
        var rest = Substring(location)
        var user = "coffer"
        if let at = rest.firstIndex(of: "@") {
            user = String(rest[..<at])
            rest = rest[rest.index(after: at)...]
        }
        guard let slash = rest.firstIndex(of: "/"), let colon = rest[..<slash].lastIndex(of: ":"),
            let port = Int(rest[rest.index(after: colon)..<slash]), !rest[rest.index(after: slash)...].isEmpty
        else { throw BootstrapError(description: "--postgres takes [user@]host:port/database") }
        let host = String(rest[..<colon])
        let database = String(rest[rest.index(after: slash)...])
        let password = ProcessInfo.processInfo.environment["COFFER_POSTGRES_PASSWORD"]
        // TLS to PostgreSQL when the server offers it; loopback test clusters do not.
        return PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: .prefer(.makeClientConfiguration()))
    }
}

public struct BootstrapError: Error, CustomStringConvertible {
    public let description: String
}
