import ArgumentParser
import CofferCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// `coffer decrypt`: opens a Coffer stream (binary or armored) with identities or a passphrase.
struct DecryptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decrypt",
        abstract: "Decrypt a file or standard input.",
        discussion: """
            No plaintext byte is written before the chunk holding it has authenticated. With -o the \
            output file appears only when the whole input has decrypted and authenticated, with \
            permissions 0600 unless --mode says otherwise. On standard output, a failure part-way \
            leaves the output incomplete, and the error says so. A passphrase is asked for only \
            when the file was encrypted to one.
            """)

    @Option(name: [.customShort("i"), .customLong("identity")], help: "An encrypted identity file (from coffer keygen). Repeatable.")
    var identityFiles: [String] = []

    @Option(name: .customLong("identity-passphrase-file"), help: "The passphrase of the identity files, on the first line of this file.")
    var identityPassphraseFile: String?

    @Option(name: .customLong("identity-wrapping-key-file"), help: "The wrapping key of identity files made with keygen --wrapping-key-file.")
    var identityWrappingKeyFile: String?

    @Flag(name: [.customShort("p"), .customLong("passphrase")], help: "Decrypt with a passphrase (asked on the terminal, or from COFFER_PASSPHRASE).")
    var usePassphrase = false

    @Option(name: .customLong("passphrase-file"), help: "Decrypt with the passphrase on the first line of this file.")
    var passphraseFile: String?

    @Option(name: .customLong("range"), help: "Decrypt only plaintext bytes START-END (inclusive) or START- ; reads only the chunks needed from a file.")
    var range: String?

    @Option(name: [.customShort("o"), .customLong("output")], help: "Write to this file instead of standard output.")
    var output: String?

    @Option(name: .customLong("mode"), help: "Permissions of the output file, in octal (default 600).")
    var mode: String = "600"

    @Flag(name: .customLong("force"), help: "Overwrite an existing output file; write binary plaintext to a terminal.")
    var force = false

    @Flag(name: [.customShort("q"), .customLong("quiet")], help: "No progress bar.")
    var quiet = false

    @Argument(help: "The file to decrypt (default: standard input).")
    var input: String?

    /// What was asked, as a plain value (shared with ``FastCommandLine``).
    var options: DecryptOptions {
        DecryptOptions(
            identityFiles: identityFiles, identityPassphraseFile: identityPassphraseFile, identityWrappingKeyFile: identityWrappingKeyFile,
            usePassphrase: usePassphrase, passphraseFile: passphraseFile, range: range, output: output, mode: mode, force: force,
            quiet: quiet, input: input)
    }

    func run() throws {
        TemporaryFiles.shared.installSignalHandlers()
        try runReportingErrors(options.run)
    }
}

/// The options of `coffer decrypt`, and the command itself.
struct DecryptOptions: Equatable {
    var identityFiles: [String] = []
    var identityPassphraseFile: String?
    var identityWrappingKeyFile: String?
    var usePassphrase = false
    var passphraseFile: String?
    var range: String?
    var output: String?
    var mode: String = "600"
    var force = false
    var quiet = false
    var input: String?

    func run() throws {
        guard let permissions = mode_t(mode, radix: 8), permissions <= 0o777 else {
            throw CLIError("--mode must be octal permissions such as 600", status: ExitStatus.usage)
        }
        let plaintextRange = try range.map(StreamPipeline.PlaintextRange.init(parsing:))
        let source = try InputSource.open(input)
        defer { source.close() }
        let sink = try OutputTarget.open(output, force: force, mode: permissions, applyUmask: false)
        do {
            try StreamPipeline.decrypt(from: source, to: sink, range: plaintextRange, force: force, quiet: quiet) { header in
                try identities(for: header)
            }
            try sink.commit()
        } catch {
            sink.abandon()
            if output == nil && sink.bytesWritten > 0 {
                let failure = CLIError.from(error)
                throw CLIError(failure.message + "; the output written so far is incomplete", status: failure.status)
            }
            throw error
        }
    }

    private func identities(for header: StreamHeader) throws -> [any Identity] {
        var identities: [any Identity] = []
        for file in identityFiles {
            identities += try KeyFiles.identities(file: file, passphraseFile: identityPassphraseFile, wrappingKeyFile: identityWrappingKeyFile) as [any Identity]
        }
        let hasPassphraseStanza = header.stanzas.contains { $0.kind == .passphrase }
        if usePassphrase || passphraseFile != nil || (identityFiles.isEmpty && hasPassphraseStanza) {
            let passphrase = try PassphraseInput.forDecryption(
                file: passphraseFile, environment: PassphraseInput.environmentVariable, prompt: "Enter passphrase: ")
            identities.append(PassphraseIdentity(passphrase: passphrase))
        }
        guard !identities.isEmpty else {
            throw CLIError("the file is encrypted to public keys: give the identity file with -i", status: ExitStatus.usage)
        }
        return identities
    }
}
