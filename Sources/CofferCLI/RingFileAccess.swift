import ArgumentParser
import CofferCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// How `coffer ring` unlocks a key ring file: `--passphrase-file`, `COFFER_RING_PASSPHRASE` or the
/// terminal; or `--wrapping-key-file`. Never a passphrase or key on the command line, where
/// other users could read it in the process list.
struct RingUnlockOptions: ParsableArguments {
    static let environmentVariable = "COFFER_RING_PASSPHRASE"

    @Option(name: .customLong("passphrase-file"), help: "The ring file's passphrase, on the first line of this file (else COFFER_RING_PASSPHRASE, else the terminal).")
    var passphraseFile: String?

    @Option(name: .customLong("wrapping-key-file"), help: "Protect the ring file with this wrapping key (from coffer wrapping-key generate) instead of a passphrase.")
    var wrappingKeyFile: String?

    @Option(name: .customLong("expect-ring"), help: "Refuse the file unless it holds the ring with this name (guards against swapped files).")
    var expectedRing: String?

    /// What protects a ring file, once loaded.
    enum Protection {
        case passphrase(Passphrase)
        case wrappingKey(KeyEncryptionKey)
    }

    func protection(creating: Bool) throws -> Protection {
        if let wrappingKeyFile {
            guard passphraseFile == nil else {
                throw CLIError("give either --passphrase-file or --wrapping-key-file, not both", status: ExitStatus.usage)
            }
            return .wrappingKey(try WrappingKeyInput.read(file: wrappingKeyFile))
        }
        if let passphraseFile { return .passphrase(try PassphraseInput.read(file: passphraseFile)) }
        if let passphrase = try PassphraseInput.environment(Self.environmentVariable) { return .passphrase(passphrase) }
        if creating {
            if let passphrase = try PassphraseInput.prompt("Enter a passphrase for the key ring (leave empty to generate one): ", confirm: true) {
                return .passphrase(passphrase)
            }
            let (passphrase, text) = Passphrase.generateReadable()
            Terminal.writeStderr("coffer: the key ring's generated passphrase: \(text)\n")
            return .passphrase(passphrase)
        }
        guard let passphrase = try PassphraseInput.prompt("Enter the key ring's passphrase: ", confirm: false) else {
            throw CLIError("no passphrase entered", status: ExitStatus.invalidInput)
        }
        return .passphrase(passphrase)
    }
}

/// Reading, locking and atomically rewriting key ring files.
enum RingFileAccess {
    /// Ring files larger than this are refused (about 350 000 versions).
    static let maximumFileSize = 16 << 20

    /// A ring file read into memory and decrypted.
    struct Loaded {
        let path: String
        let bytes: [UInt8]
        let ring: KeyRing
        let protection: RingUnlockOptions.Protection
    }

    /// Reads and decrypts `path` without locking (readers need no lock: writers replace the file
    /// by `rename`, so a reader sees the old file or the new one, never a mixture).
    static func load(_ path: String, unlock: RingUnlockOptions) throws -> Loaded {
        let input = try InputSource.open(path)
        defer { input.close() }
        return try decrypt(try input.readAll(limit: maximumFileSize), path: path, unlock: unlock)
    }

    /// Runs a read–modify–write of `path` under an exclusive lock, then writes the result
    /// atomically (temporary file with mode 0600 in the same directory, fsync, rename, fsync of
    /// the directory). Two concurrent rotations therefore cannot both create "version N+1" with
    /// different keys and lose one, which would strand whatever was sealed under it.
    ///
    /// The file keeps its protection (and its scrypt cost) unless `reseal` gives a new one.
    static func update<Result>(
        _ path: String, unlock: RingUnlockOptions, reseal: (RingUnlockOptions.Protection, PasswordKDFParameters?)? = nil,
        _ change: (inout KeyRing) throws -> Result
    ) throws -> Result {
        let fd = try lockCurrentFile(path)
        defer { Glibc.close(fd) }  // closing releases the lock
        let loaded = try decrypt(
            try InputSource(fd: fd, name: path, size: nil).readAll(limit: maximumFileSize), path: path, unlock: unlock)
        var ring = loaded.ring
        let result = try change(&ring)
        let (protection, parameters) = reseal ?? (loaded.protection, KeyRingFile.recordedPassphraseParameters(loaded.bytes))
        try write(ring, to: path, protection: protection, passphraseParameters: parameters, force: true)
        return result
    }

    /// Seals `ring` and writes it to `path` atomically with mode 0600. Without `force` an
    /// existing file is never replaced.
    static func write(
        _ ring: KeyRing, to path: String, protection: RingUnlockOptions.Protection,
        passphraseParameters: PasswordKDFParameters?, force: Bool
    ) throws {
        let recipient: any Recipient
        switch protection {
        case .passphrase(let passphrase):
            // A cost recorded by another writer that is below today's minimum is raised to the default.
            let usable = passphraseParameters.flatMap { (try? $0.validateForNewData()) != nil ? $0 : nil }
            recipient = try PassphraseRecipient(passphrase: passphrase, parameters: usable ?? .defaultScrypt)
        case .wrappingKey(let key):
            recipient = key
        }
        try OutputTarget.writeFile(path, try KeyRingFile.seal(ring, to: [recipient]), force: force, mode: 0o600)
    }

    private static func decrypt(_ bytes: [UInt8], path: String, unlock: RingUnlockOptions) throws -> Loaded {
        let name: KeyIdentifier
        do { name = try KeyRingFile.name(of: bytes) } catch {
            throw CLIError("\(path) is not a Coffer key ring file (create one with coffer ring create)", status: ExitStatus.invalidInput)
        }
        if let expected = unlock.expectedRing, expected != name.rawValue {
            throw CLIError("\(path) holds key ring \(name), not \(expected)", status: ExitStatus.invalidInput)
        }
        let protection = try unlock.protection(creating: false)
        let unlocker: any Identity
        switch protection {
        case .passphrase(let passphrase): unlocker = PassphraseIdentity(passphrase: passphrase)
        case .wrappingKey(let key): unlocker = key
        }
        do {
            let ring = try KeyRingFile.open(bytes, with: [unlocker], expectedName: name)
            return Loaded(path: path, bytes: bytes, ring: ring, protection: protection)
        } catch let error as CofferCryptoError where error.code == .authenticationFailed {
            throw CLIError(
                "cannot open key ring \(path): wrong passphrase or wrapping key, or the file is corrupted or was tampered with",
                status: ExitStatus.decryptionFailed)
        }
    }

    /// Opens `path` and takes an exclusive `flock`. Writers replace the file by rename, so the
    /// lock may have been taken on a file that is no longer at `path`; then try again.
    private static func lockCurrentFile(_ path: String) throws -> Int32 {
        while true {
            let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw CLIError.io("open", path, errno: errno) }
            var locked = flock(fd, LOCK_EX)
            while locked != 0 && errno == EINTR { locked = flock(fd, LOCK_EX) }
            guard locked == 0 else {
                let code = errno
                Glibc.close(fd)
                throw CLIError.io("lock", path, errno: code)
            }
            var held = stat(), current = stat()
            if fstat(fd, &held) == 0, stat(path, &current) == 0, held.st_dev == current.st_dev, held.st_ino == current.st_ino {
                return fd
            }
            Glibc.close(fd)
        }
    }
}
