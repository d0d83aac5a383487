import CofferCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// Loading recipients (`-r`, `-R`) and identity files (`-i`).
enum KeyFiles {
    /// Up to this many bytes are read from a recipients or identity file.
    static let maximumFileSize = 1 << 20

    /// Parses `-r` arguments, naming the offending one in any error.
    static func recipients(arguments: [String]) throws -> [any Recipient] {
        try arguments.enumerated().map { index, text in
            do { return try RecipientText.parse(text) } catch let error as CofferCryptoError {
                throw CLIError(
                    "recipient \(index + 1) (\(abbreviated(text))): \(error.detail ?? error.description)",
                    status: ExitStatus.invalidInput)
            }
        }
    }

    /// Parses a recipients file: one recipient per line (`#` comments and blank lines ignored), or
    /// PEM public keys.
    static func recipients(file path: String) throws -> [any Recipient] {
        let input = try InputSource.open(path)
        defer { input.close() }
        guard let text = String(validating: try input.readAll(limit: maximumFileSize), as: UTF8.self) else {
            throw CLIError("recipients file \(path) is not text", status: ExitStatus.invalidInput)
        }
        var recipients: [any Recipient] = []
        var pem: String?
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingASCIIWhitespace()
            if pem != nil || line.hasPrefix("-----BEGIN ") {
                pem = (pem ?? "") + line + "\n"
                if line.hasPrefix("-----END ") {
                    recipients.append(try parse(pem!, where: "recipients file \(path) line \(number + 1)"))
                    pem = nil
                }
                continue
            }
            if line.isEmpty || line.hasPrefix("#") { continue }
            recipients.append(try parse(String(line), where: "recipients file \(path) line \(number + 1)"))
        }
        guard pem == nil else { throw CLIError("recipients file \(path): unterminated PEM block", status: ExitStatus.invalidInput) }
        guard !recipients.isEmpty else { throw CLIError("recipients file \(path) has no recipients", status: ExitStatus.invalidInput) }
        return recipients
    }

    private static func parse(_ text: String, where location: String) throws -> any Recipient {
        do { return try RecipientText.parse(text) } catch let error as CofferCryptoError {
            throw CLIError("\(location): \(error.detail ?? error.description)", status: ExitStatus.invalidInput)
        }
    }

    /// Reads and decrypts an identity file. Identity files are always encrypted (Coffer never
    /// writes private keys in clear), under a passphrase or a wrapping key; the header says which,
    /// so only the secret the file uses is asked for. The passphrase comes from `passphraseFile`,
    /// `COFFER_IDENTITY_PASSPHRASE` or the terminal; the wrapping key from `wrappingKeyFile` or the
    /// file named by `COFFER_IDENTITY_WRAPPING_KEY_FILE`.
    static func identities(file path: String, passphraseFile: String?, wrappingKeyFile: String? = nil) throws -> [any KeyPairIdentity] {
        try openIdentityFile(path, passphraseFile: passphraseFile, wrappingKeyFile: wrappingKeyFile).identities
    }

    /// An identity file's identities and the secret that opened it (to reseal it after a change).
    static func openIdentityFile(
        _ path: String, passphraseFile: String?, wrappingKeyFile: String?
    ) throws -> (identities: [any KeyPairIdentity], unlockedWith: any Identity) {
        let input = try InputSource.open(path)
        defer { input.close() }
        let bytes = try input.readAll(limit: maximumFileSize)
        guard IdentityFile.isEncrypted(bytes), let protection = IdentityFile.protection(of: bytes) else {
            throw CLIError(
                "identity file \(path) is not an encrypted Coffer identity file (create one with coffer keygen)",
                status: ExitStatus.invalidInput)
        }
        var unlockers: [any Identity] = []
        let wrappingKeyPath = wrappingKeyFile ?? ProcessInfo.processInfo.environment[WrappingKeyInput.identityEnvironmentVariable].flatMap { $0.isEmpty ? nil : $0 }
        if protection.contains(.keyEncryptionKey) {
            guard let wrappingKeyPath else {
                throw CLIError(
                    "identity file \(path) is protected by a wrapping key: give --identity-wrapping-key-file or set \(WrappingKeyInput.identityEnvironmentVariable)",
                    status: ExitStatus.usage)
            }
            unlockers.append(try WrappingKeyInput.read(file: wrappingKeyPath))
        }
        if protection.contains(.passphrase) && unlockers.isEmpty {
            unlockers.append(PassphraseIdentity(passphrase: try PassphraseInput.forDecryption(
                file: passphraseFile, environment: PassphraseInput.identityEnvironmentVariable,
                prompt: "Enter passphrase for identity file \(path): ")))
        }
        do {
            let identities = try IdentityFile.open(bytes, with: unlockers)
            // The file has one stanza (or one kind asked for), so the first unlocker opened it.
            return (identities, unlockers[0])
        } catch let error as CofferCryptoError where error.code == .authenticationFailed {
            throw CLIError(
                "cannot open identity file \(path): wrong passphrase or wrapping key, or not an identity file",
                status: ExitStatus.decryptionFailed)
        }
    }

    /// The start of a user-supplied string, for error messages (recipients are public).
    static func abbreviated(_ text: String) -> String {
        text.count <= 24 ? text : text.prefix(24) + "…"
    }
}
