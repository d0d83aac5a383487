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
    /// writes private keys in clear); the passphrase comes from `passphraseFile`,
    /// `COFFER_IDENTITY_PASSPHRASE` or the terminal.
    static func identities(file path: String, passphraseFile: String?) throws -> [any KeyPairIdentity] {
        let input = try InputSource.open(path)
        defer { input.close() }
        let bytes = try input.readAll(limit: maximumFileSize)
        guard IdentityFile.isEncrypted(bytes) else {
            throw CLIError(
                "identity file \(path) is not an encrypted Coffer identity file (create one with coffer keygen)",
                status: ExitStatus.invalidInput)
        }
        let passphrase = try PassphraseInput.forDecryption(
            file: passphraseFile, environment: PassphraseInput.identityEnvironmentVariable,
            prompt: "Enter passphrase for identity file \(path): ")
        do {
            return try IdentityFile.open(bytes, with: [PassphraseIdentity(passphrase: passphrase)])
        } catch let error as CofferCryptoError where error.code == .authenticationFailed {
            throw CLIError(
                "cannot open identity file \(path): wrong passphrase, or not an identity file",
                status: ExitStatus.decryptionFailed)
        }
    }

    /// The start of a user-supplied string, for error messages (recipients are public).
    static func abbreviated(_ text: String) -> String {
        text.count <= 24 ? text : text.prefix(24) + "…"
    }
}
