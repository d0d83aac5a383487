import ArgumentParser
import CofferServer
import CofferStore
import Foundation
import Logging

/// `coffer-server backup | restore | rotate-root-key`: the store's maintenance, run with the
/// server stopped (rotate-root-key) or at any time (backup).
enum StoreAdmin {
    static var logger: Logger {
        var logger = Logger(label: "coffer.store")
        logger.logLevel = .warning
        return logger
    }

    /// The store, opened with its root key for a command that needs it unsealed (a passphrase
    /// store is unsealed through `root.passphraseFile`).
    static func openUnsealed(_ options: StoreOptions, upgradeRows: Bool = false) async throws -> KeyStore {
        let keyStore = try await ServerBootstrap.openStore(try await options.load(), create: false, upgradeRows: upgradeRows, logger: logger)
        guard !keyStore.isSealed else {
            try await keyStore.close()
            throw ValidationError("a passphrase store needs its passphrase: set root.passphraseFile (COFFER_ROOT_PASSPHRASE_FILE)")
        }
        return keyStore
    }

    /// Every item of a paged listing: `page(last)` lists those after `last`, a full page at most.
    static func everyPage<T>(_ page: (T?) async throws -> [T]) async throws -> [T] {
        var all: [T] = []
        while true {
            let next = try await page(all.last)
            all += next
            if next.count < KeyStore.maximumPageSize { return all }
        }
    }

    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "backup", abstract: "Write a backup of the whole store (key material stays sealed under the root key).")

        @OptionGroup var store: StoreOptions
        @Option(name: [.customShort("o"), .customLong("output")], help: "The backup file to create (mode 0600).")
        var output: String

        func run() async throws {
            let keyStore = try await ServerBootstrap.openStore(try await store.load(), create: false, logger: logger)
            let bytes = try await keyStore.backup()
            try await keyStore.close()
            // Exclusive create, then rename into place: a crash leaves no half-written backup
            // under the name asked for.
            let temporary = output + ".partial-\(getpid())"
            guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes), attributes: [.posixPermissions: 0o600]) else {
                throw ValidationError("cannot write \(temporary)")
            }
            guard rename(temporary, output) == 0 else { throw ValidationError("cannot rename to \(output)") }
            print("backup written: \(output) (\(bytes.count) bytes; useless without the root key)")
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "restore", abstract: "Restore a backup into an empty store; then start the server with the backup's root key.")

        @OptionGroup var store: StoreOptions
        @Argument(help: "The backup file.")
        var backup: String

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: backup) else { throw ValidationError("cannot read \(backup)") }
            let configuration = try await store.load()
            // The root key only to open a sealed database password: restore writes sealed rows as
            // they are and must not create a root key file of its own.
            let rootKey = configuration.hasSealedSecrets ? try ServerBootstrap.openRootKey(configuration, create: false, logger: logger) : nil
            let backend = try await ServerBootstrap.openBackend(configuration, rootKey: rootKey, logger: logger)
            try await KeyStore.restoreBackup(Array(data), into: backend, expectedStoreID: configuration.expectedStoreID)
            try await backend.close()
            let target = ServerBootstrap.storeDescription(configuration)
            print("restored into \(target); open it with the root key the backup was sealed under")
        }
    }

    struct RotateRootKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-root-key",
            abstract: "Re-seal every key version under a new root key file (created if missing). Resumable: run it again after an interruption.",
            discussion: "Stop the server (every node) first. Afterwards start it with --root-key-file NEW; the old key no longer opens the store.")

        @OptionGroup var store: StoreOptions
        @Option(help: "The new root key file (created with mode 0600 if it does not exist).")
        var newRootKeyFile: String

        func run() async throws {
            let keyStore = try await ServerBootstrap.openStore(try await store.load(), create: false, logger: logger)
            let newKey = try RootKeyFile.loadOrCreate(at: newRootKeyFile).key
            let interactive = isatty(2) == 1
            try await keyStore.rotateRootKey(to: newKey) { done, total in
                // Progress on the terminal; one line at the end otherwise.
                if interactive {
                    let percent = total == 0 ? 100 : done * 100 / total
                    FileHandle.standardError.write(Data("\rre-sealing key versions: \(done)/\(total) (\(percent)%)".utf8))
                    if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
                }
            }
            let total = try await keyStore.countVersions()
            try await keyStore.close()
            print("re-sealed \(total) key versions under \(newRootKeyFile); start the server with --root-key-file \(newRootKeyFile)")
        }
    }

    struct UpgradeStore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "upgrade-store",
            abstract: "Authenticate every row of a store written before rows were tagged (once, with every node stopped).",
            discussion: """
                Tags every row under a new row key sealed under the root key, in one transaction, then lists the \
                identities and policies it trusted. It trusts the rows present now: run it right after upgrading \
                Coffer. If a store that served with tags asks for store_upgrade_required, its store row was replaced \
                by a copy from before its upgrade: restore from a backup instead of running this.
                """)

        @OptionGroup var store: StoreOptions

        func run() async throws {
            let keyStore = try await openUnsealed(store, upgradeRows: true)
            // What the upgrade trusted, for the operator to read: an identity or policy here that
            // nobody made was added behind Coffer's back before the upgrade.
            let identities = try await everyPage { try await keyStore.listIdentities(after: $0?.id, limit: KeyStore.maximumPageSize) }
            let policies = try await everyPage { try await keyStore.listPolicies(after: $0?.name, limit: KeyStore.maximumPageSize) }
            let total = try await keyStore.countVersions()
            try await keyStore.close()
            print("every row of the store is authenticated (\(total) key versions); start the server as before")
            print("check that you know every identity and policy the upgrade trusted:")
            for identity in identities { print("  identity \(identity.id) (policy \(identity.policy))") }
            for policy in policies { print("  policy \(policy.name)") }
            if let storeID = keyStore.storeID {
                // Pinned, the store refuses any store row from before this upgrade that someone
                // might put back (from an old backup) to have rows of theirs trusted by another.
                print("now pin the store: set store.id (COFFER_STORE_ID) to \(storeID.hex)")
            }
        }
    }

    struct AdminKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "admin-key",
            abstract: "Make a new API key under the admin policy (recreated if missing) and print it once: the way back in after a lost admin key.",
            discussion: "Needs the root key (the store is opened with it); with a passphrase root key, give root.passphraseFile.")

        @OptionGroup var store: StoreOptions

        func run() async throws {
            let keyStore = try await openUnsealed(store)
            let text = try await AdminBootstrap.makeAdminKey(keyStore)
            try await keyStore.close()
            print("Admin API key (shown once): \(text)")
        }
    }

    struct SealSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "seal-secret",
            abstract: "Seal a configuration secret (read from standard input) under the root key, for the configuration file or environment.",
            discussion: "Prints coffer-sealed:…, which opens only with this root key and only for the named setting. Needs a key-file or HSM root key.")

        @OptionGroup var store: StoreOptions
        @Option(help: "The setting the secret is for (postgres.password).")
        var setting: String

        func run() async throws {
            guard ServerConfiguration.sealableSettings.contains(setting) else {
                throw ValidationError("only \(ServerConfiguration.sealableSettings.sorted().joined(separator: ", ")) can be given sealed")
            }
            let configuration = try await store.load()
            guard let rootKey = try ServerBootstrap.openRootKey(configuration, create: false, logger: logger) else {
                throw ValidationError("a passphrase root key exists only after the unseal; seal secrets with a key-file or HSM root key")
            }
            var line = readLine(strippingNewline: true) ?? ""
            defer { line = "" }
            guard !line.isEmpty else { throw ValidationError("give the secret on standard input") }
            print(try ConfigurationSecret.seal(line, setting: setting, under: rootKey))
        }
    }
}
