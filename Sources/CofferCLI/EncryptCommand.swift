import ArgumentParser
import CofferCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// `coffer encrypt`: a Coffer stream (docs/FORMAT.md) to recipients and/or a passphrase.
struct EncryptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encrypt",
        abstract: "Encrypt a file or standard input.",
        discussion: """
            Encrypts to every recipient given (-r, -R) and/or to a passphrase (-p). Anyone holding \
            one matching identity or the passphrase can decrypt. Output goes to standard output \
            unless -o is given; -o writes atomically and never replaces an existing file without \
            --force. Binary output is refused on a terminal; use --armor for text.
            """)

    @Option(name: [.customShort("r"), .customLong("recipient")], help: "A recipient (coffer-x25519-…, coffer-xwing-…, coffer-rsa-…). Repeatable.")
    var recipients: [String] = []

    @Option(name: [.customShort("R"), .customLong("recipients-file")], help: "A file of recipients, one per line, or PEM public keys. Repeatable.")
    var recipientFiles: [String] = []

    @Flag(name: [.customShort("p"), .customLong("passphrase")], help: "Encrypt to a passphrase (asked on the terminal, or from COFFER_PASSPHRASE).")
    var usePassphrase = false

    @Option(name: .customLong("passphrase-file"), help: "Encrypt to the passphrase on the first line of this file.")
    var passphraseFile: String?

    @Option(name: .customLong("work-factor"), help: "scrypt cost as log2(N) for the passphrase (15–22; default 17).")
    var workFactor: UInt8 = 17

    @Option(name: [.customShort("o"), .customLong("output")], help: "Write to this file instead of standard output.")
    var output: String?

    @Flag(name: [.customShort("a"), .customLong("armor")], help: "Write the text (PEM-style) form.")
    var armor = false

    @Flag(name: .customLong("force"), help: "Overwrite an existing output file; write binary output to a terminal.")
    var force = false

    @Flag(name: [.customShort("q"), .customLong("quiet")], help: "No progress bar.")
    var quiet = false

    @Argument(help: "The file to encrypt (default: standard input).")
    var input: String?

    /// What was asked, as a plain value (shared with ``FastCommandLine``).
    var options: EncryptOptions {
        EncryptOptions(
            recipients: recipients, recipientFiles: recipientFiles, usePassphrase: usePassphrase, passphraseFile: passphraseFile,
            workFactor: workFactor, output: output, armor: armor, force: force, quiet: quiet, input: input)
    }

    func run() throws {
        TemporaryFiles.shared.installSignalHandlers()
        try runReportingErrors(options.run)
    }
}

/// The options of `coffer encrypt`, and the command itself.
struct EncryptOptions: Equatable {
    var recipients: [String] = []
    var recipientFiles: [String] = []
    var usePassphrase = false
    var passphraseFile: String?
    var workFactor: UInt8 = 17
    var output: String?
    var armor = false
    var force = false
    var quiet = false
    var input: String?

    func run() throws {
        guard (15...22).contains(workFactor) else {
            throw CLIError("--work-factor must be 15–22", status: ExitStatus.usage)
        }
        var all = try KeyFiles.recipients(arguments: recipients)
        for file in recipientFiles { all += try KeyFiles.recipients(file: file) }
        if usePassphrase || passphraseFile != nil {
            // The format allows a passphrase only alone (a reader pays one scrypt per passphrase
            // stanza); say so before asking for it.
            guard all.isEmpty else {
                throw CLIError("a passphrase cannot be combined with recipients (-r/-R); encrypt to one or the other", status: ExitStatus.usage)
            }
            let passphrase = try PassphraseInput.forEncryption(file: passphraseFile)
            all.append(try PassphraseRecipient(passphrase: passphrase, parameters: .scrypt(logN: workFactor, r: 8, p: 1)))
        }
        guard !all.isEmpty else {
            throw CLIError("no recipients: give -r, -R or -p", status: ExitStatus.usage)
        }

        let source = try InputSource.open(input)
        defer { source.close() }
        let sink = try OutputTarget.open(output, force: force, mode: 0o666, applyUmask: true)
        if sink.isTerminal && !armor && !force {
            throw CLIError("refusing to write binary ciphertext to a terminal; use --armor, -o FILE or --force", status: ExitStatus.refused)
        }
        do {
            try StreamPipeline.encrypt(from: source, to: sink, recipients: all, armor: armor, quiet: quiet)
            try sink.commit()
        } catch {
            sink.abandon()
            throw error
        }
    }
}
