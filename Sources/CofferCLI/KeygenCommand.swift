import ArgumentParser
import CofferCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// `coffer keygen`: a new key pair, its private half written only encrypted.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Generate an identity (private key) and print its recipient (public key).",
        discussion: """
            The identity file is always encrypted: with a passphrase (asked on the terminal, or from \
            --passphrase-file or COFFER_PASSPHRASE; an empty answer generates one), or with a \
            wrapping key (--wrapping-key-file, from `coffer wrapping-key generate`), which opens \
            without scrypt's cost — the choice for services and scripts. The recipient is printed \
            on standard error, or on standard output with -y.

            With -y IDENTITY_FILE, prints the recipients of an existing identity file instead. \
            With --add-to IDENTITY_FILE, adds the new identity to an existing identity file \
            (rewritten atomically under the same passphrase or wrapping key); `decrypt -i` tries \
            every identity in a file.
            """)

    enum KeyType: String, ExpressibleByArgument, CaseIterable {
        case x25519, xwing
        case rsa2048 = "rsa-2048", rsa3072 = "rsa-3072", rsa4096 = "rsa-4096"
    }

    @Option(name: [.customShort("t"), .customLong("type")], help: "Key type: x25519 (default), xwing (post-quantum hybrid), rsa-2048, rsa-3072, rsa-4096.")
    var type: KeyType = .x25519

    @Option(name: [.customShort("o"), .customLong("output")], help: "Write the encrypted identity file here (created with mode 0600) instead of standard output.")
    var output: String?

    @Option(name: .customLong("passphrase-file"), help: "Protect the identity file with the passphrase on the first line of this file.")
    var passphraseFile: String?

    @Option(name: .customLong("wrapping-key-file"), help: "Protect the identity file with this wrapping key instead of a passphrase.")
    var wrappingKeyFile: String?

    @Option(name: .customLong("work-factor"), help: "scrypt cost as log2(N) for the identity file (15–22; default 17).")
    var workFactor: UInt8 = 17

    @Option(name: .customShort("y"), help: "Print the recipients of this identity file and exit.")
    var identityFile: String?

    @Option(name: .customLong("identity-passphrase-file"), help: "With -y: the identity file's passphrase, on the first line of this file.")
    var identityPassphraseFile: String?

    @Option(name: .customLong("identity-wrapping-key-file"), help: "With -y: the identity file's wrapping key.")
    var identityWrappingKeyFile: String?

    @Option(name: .customLong("add-to"), help: "Add the new identity to this existing identity file instead of writing a new one.")
    var addTo: String?

    @Flag(name: .customLong("pem"), help: "Print recipients as PEM public keys.")
    var pem = false

    @Flag(name: .customLong("force"), help: "Overwrite an existing output file.")
    var force = false

    func run() throws {
        TemporaryFiles.shared.installSignalHandlers()
        try runReportingErrors { identityFile != nil ? try printRecipients() : try generate() }
    }

    private func printRecipients() throws {
        let identities = try KeyFiles.identities(file: identityFile!, passphraseFile: identityPassphraseFile, wrappingKeyFile: identityWrappingKeyFile)
        let out = try OutputTarget.open(nil, force: true, mode: 0, applyUmask: false)
        for identity in identities {
            let recipient = identity.publicRecipient
            try out.write(Array((pem ? recipient.pemRepresentation : recipient.text + "\n").utf8))
        }
    }

    private func generate() throws {
        guard (15...22).contains(workFactor) else {
            throw CLIError("--work-factor must be 15–22", status: ExitStatus.usage)
        }
        let identity: any KeyPairIdentity
        switch type {
        case .x25519: identity = X25519Identity.generate()
        case .xwing: identity = try XWingIdentity.generate()
        case .rsa2048: identity = try RSAIdentity.generate(bits: 2048)
        case .rsa3072: identity = try RSAIdentity.generate(bits: 3072)
        case .rsa4096: identity = try RSAIdentity.generate(bits: 4096)
        }
        if let addTo {
            guard output == nil, passphraseFile == nil, wrappingKeyFile == nil else {
                throw CLIError("--add-to keeps the file's own protection: give only --identity-passphrase-file or --identity-wrapping-key-file with it", status: ExitStatus.usage)
            }
            let (existing, unlockedWith) = try KeyFiles.openIdentityFile(
                addTo, passphraseFile: identityPassphraseFile, wrappingKeyFile: identityWrappingKeyFile)
            let protection: any Recipient
            switch unlockedWith {
            case let key as KeyEncryptionKey: protection = key
            case let passphrase as PassphraseIdentity:
                protection = try PassphraseRecipient(passphrase: passphrase.passphrase, parameters: .scrypt(logN: workFactor, r: 8, p: 1))
            default: throw CLIError("cannot reseal \(addTo)", status: ExitStatus.invalidInput)
            }
            let file = try IdentityFile.seal(existing + [identity], comments: ["updated: \(Date().formatted(.iso8601))"], to: [protection])
            try OutputTarget.writeFile(addTo, file, force: true, mode: 0o600)
            return printRecipient(identity)
        }
        let out = try OutputTarget.open(output, force: force, mode: 0o600, applyUmask: false)
        do {
            let protection: any Recipient
            if let wrappingKeyFile {
                guard passphraseFile == nil else {
                    throw CLIError("give either --passphrase-file or --wrapping-key-file, not both", status: ExitStatus.usage)
                }
                protection = try WrappingKeyInput.read(file: wrappingKeyFile)
            } else {
                let passphrase = try PassphraseInput.forEncryption(file: passphraseFile)
                protection = try PassphraseRecipient(passphrase: passphrase, parameters: .scrypt(logN: workFactor, r: 8, p: 1))
            }
            let created = Date().formatted(.iso8601)
            let file = try IdentityFile.seal([identity], comments: ["created: \(created)", "type: \(type.rawValue)"], to: [protection])
            try out.write(file)
            try out.commit()
        } catch {
            out.abandon()
            throw error
        }
        printRecipient(identity)
    }

    private func printRecipient(_ identity: any KeyPairIdentity) {
        let recipient = identity.publicRecipient
        if pem {
            Terminal.writeStderr(recipient.pemRepresentation)
        } else {
            Terminal.writeStderr("Public key: \(recipient.text)\n")
        }
    }
}
