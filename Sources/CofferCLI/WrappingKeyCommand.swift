import ArgumentParser
import CofferCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// `coffer wrapping-key`: full-entropy keys that protect identity files and key ring files in
/// place of a passphrase — for services and scripts, which should not pay scrypt's cost (or hold
/// a human passphrase) on every run.
struct WrappingKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wrapping-key",
        abstract: "Create wrapping keys, which protect identity and key ring files instead of a passphrase.",
        discussion: """
            A wrapping key file is the key itself (one line, COFFER-WRAPPING-KEY-…, with a checksum): \
            keep it where the deployment keeps its root secrets (a secrets manager, systemd \
            credentials, a file only the service can read), apart from the files it protects. Use it \
            with `coffer keygen --wrapping-key-file`, `coffer decrypt --identity-wrapping-key-file` \
            and `coffer ring … --wrapping-key-file`.
            """,
        subcommands: [Generate.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "generate", abstract: "Write a new random wrapping key to a file with mode 0600.")

        @Option(name: [.customShort("o"), .customLong("output")], help: "The key file to create (mode 0600).")
        var output: String

        @Flag(name: .customLong("force"), help: "Replace an existing file.")
        var force = false

        func run() throws {
            TemporaryFiles.shared.installSignalHandlers()
            try runReportingErrors {
                var text = Array((WrappingKey.text(of: WrappingKey.generate()) + "\n").utf8)
                defer { _ = text.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
                try OutputTarget.writeFile(output, text, force: force, mode: 0o600)
            }
        }
    }
}

/// Reading wrapping key files.
enum WrappingKeyInput {
    /// Environment variable naming the wrapping key file for identity files.
    static let identityEnvironmentVariable = "COFFER_IDENTITY_WRAPPING_KEY_FILE"

    static func read(file path: String) throws -> KeyEncryptionKey {
        let input = try InputSource.open(path)
        defer { input.close() }
        var bytes = try input.readAll(limit: 4096)
        defer { _ = bytes.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        do {
            return try WrappingKey.parse(String(decoding: bytes, as: UTF8.self))
        } catch {
            throw CLIError("wrapping key file \(path) does not hold a valid wrapping key", status: ExitStatus.invalidInput)
        }
    }
}
