import ArgumentParser
import CofferCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// `coffer ring`: local key rings (a named set of key versions, one primary) stored encrypted in
/// a file, and envelope encryption with them for scripts and migrations.
struct RingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ring",
        abstract: "Create, rotate and use local key rings.",
        discussion: """
            A key ring file holds every version of one named key, encrypted under a passphrase \
            (--passphrase-file, COFFER_RING_PASSPHRASE or the terminal) or a wrapping key \
            (--wrapping-key-file). The primary version encrypts; any active or decrypt-only \
            version decrypts what it encrypted. Rotation adds a version and makes it primary in \
            one step, so nothing ever becomes undecryptable. Files are written atomically with \
            mode 0600, and concurrent changes to one ring file are serialised with a lock.

            encrypt, decrypt and rewrap read standard input one line per item and write one line \
            per item; nothing is written unless every line succeeds. Envelopes use the text form \
            coffer:v1:… (docs/FORMAT.md).
            """,
        subcommands: [
            Create.self, Show.self, Rotate.self, SetPrimary.self, SetState.self, Encrypt.self, Decrypt.self, Rewrap.self,
            Reseal.self, Configure.self,
        ])

    /// Standard input for the line-oriented subcommands is read whole, up to this size.
    static let maximumInputSize = 256 << 20

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a key ring file with version 1 as primary.")

        @Argument(help: "The ring's name: 1–128 of A–Z a–z 0–9 . _ - (first a letter or digit). Envelopes carry it in clear.")
        var name: String

        @Option(name: [.customShort("o"), .customLong("output")], help: "The ring file to create (mode 0600).")
        var output: String

        @Option(name: .customLong("algorithm"), help: "aes-256-gcm (default), chacha20-poly1305 or aes-256-gcm-siv.")
        var algorithm: String = "aes-256-gcm"

        @Option(name: .customLong("compression-threshold"), help: ArgumentHelp("Compress plaintexts of at least this many bytes (default: never; see docs on CRIME/BREACH).", valueName: "bytes"))
        var compressionThreshold: Int?

        @Option(name: .customLong("rotation-period"), help: ArgumentHelp("Rotation is due this many days after the primary was created (shown by show).", valueName: "days"))
        var rotationPeriod: Int?

        @Option(name: .customLong("work-factor"), help: "scrypt cost as log2(N) for a passphrase-protected file (15–22; default 17).")
        var workFactor: UInt8 = 17

        @OptionGroup var unlock: RingUnlockOptions

        @Flag(name: .customLong("force"), help: "Replace an existing file.")
        var force = false

        func run() throws {
            TemporaryFiles.shared.installSignalHandlers()
            try runRing {
                guard (15...22).contains(workFactor) else { throw CLIError("--work-factor must be 15–22", status: ExitStatus.usage) }
                let settings = try RingCommand.settings(
                    algorithm: algorithm, compressionThreshold: compressionThreshold, rotationPeriodDays: rotationPeriod)
                let ringName: KeyIdentifier
                do { ringName = try KeyIdentifier(name) } catch {
                    throw CLIError("invalid ring name: use 1–128 of A–Z a–z 0–9 . _ -, starting with a letter or digit", status: ExitStatus.usage)
                }
                if let expected = unlock.expectedRing, expected != name {
                    throw CLIError("--expect-ring \(expected) contradicts the name \(name)", status: ExitStatus.usage)
                }
                if !force && FileManager.default.fileExists(atPath: output) {
                    throw CLIError("\(output) already exists; use --force to overwrite it", status: ExitStatus.refused)
                }
                let ring = try KeyRing.generate(name: ringName, settings: settings)
                try RingFileAccess.write(
                    ring, to: output, protection: try unlock.protection(creating: true),
                    passphraseParameters: .scrypt(logN: workFactor, r: 8, p: 1), force: force)
                Terminal.printNote("created key ring \(ringName) (primary \(ring.primaryVersion)) in \(output)")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Print a ring's settings and versions (never key bytes).")

        @Argument(help: "The ring file.") var file: String
        @OptionGroup var unlock: RingUnlockOptions

        func run() throws {
            try runRing {
                let ring = try RingFileAccess.load(file, unlock: unlock).ring
                let settings = ring.settings
                var text = "ring: \(ring.name)\n"
                text += "algorithm: \(settings.algorithm)\n"
                text += "compression: \(settings.compressionThreshold.map { "from \($0) bytes" } ?? "off")\n"
                if let seconds = settings.rotationPeriod?.components.seconds {
                    text += "rotation period: \(seconds / 86_400 > 0 && seconds % 86_400 == 0 ? "\(seconds / 86_400) days" : "\(seconds) seconds")\n"
                    text += "rotation due: \(ring.isRotationDue() ? "yes" : "no")\n"
                } else {
                    text += "rotation period: none\n"
                }
                text += "primary: \(ring.primaryVersion)\n"
                text += "versions:\n"
                for entry in ring.versions {
                    let marker = entry.version == ring.primaryVersion ? "  (primary)" : ""
                    let state = entry.state.description + String(repeating: " ", count: max(0, 12 - entry.state.description.count))
                    text += "  \(entry.version)  \(state)  created \(entry.createdAt.formatted(.iso8601))\(marker)\n"
                }
                try RingCommand.writeStdout(Array(text.utf8))
            }
        }
    }

    /// Validated settings from command-line values (rotation period in days).
    static func settings(algorithm name: String, compressionThreshold: Int?, rotationPeriodDays: Int?) throws -> KeyRingSettings {
        guard let algorithm = algorithms[name] else {
            throw CLIError("--algorithm must be one of \(algorithms.keys.sorted().joined(separator: ", "))", status: ExitStatus.usage)
        }
        if let compressionThreshold, !(0...KeyRingSettings.maximumCompressionThreshold).contains(compressionThreshold) {
            throw CLIError("--compression-threshold must be 0–\(KeyRingSettings.maximumCompressionThreshold) bytes", status: ExitStatus.usage)
        }
        if let rotationPeriodDays, !(1...36_500).contains(rotationPeriodDays) {
            throw CLIError("--rotation-period must be 1–36500 days", status: ExitStatus.usage)
        }
        return try KeyRingSettings(
            algorithm: algorithm, compressionThreshold: compressionThreshold,
            rotationPeriod: rotationPeriodDays.map { .seconds(Int64($0) * 86_400) })
    }

    struct Configure: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "configure",
            abstract: "Change a ring's settings; they apply to what is sealed from now on.",
            discussion: """
                Only the options given change. Existing envelopes keep opening whatever they were \
                sealed with: each records its own algorithm and whether it was compressed.
                """)

        @Argument(help: "The ring file.") var file: String

        @Option(name: .customLong("algorithm"), help: "aes-256-gcm, chacha20-poly1305 or aes-256-gcm-siv.")
        var algorithm: String?

        @Option(name: .customLong("compression-threshold"), help: ArgumentHelp("Compress plaintexts of at least this many bytes, or 'off'.", valueName: "bytes|off"))
        var compressionThreshold: String?

        @Option(name: .customLong("rotation-period"), help: ArgumentHelp("Rotation is due this many days after the primary was created, or 'off'.", valueName: "days|off"))
        var rotationPeriod: String?

        @OptionGroup var unlock: RingUnlockOptions

        /// A count, `nil` for `off` or when the option is absent.
        private static func number(_ text: String?, _ option: String) throws -> Int? {
            guard let text, text != "off" else { return nil }
            guard let value = Int(text) else { throw CLIError("\(option) must be a number or 'off'", status: ExitStatus.usage) }
            return value
        }

        func run() throws {
            TemporaryFiles.shared.installSignalHandlers()
            try runRing {
                guard algorithm != nil || compressionThreshold != nil || rotationPeriod != nil else {
                    throw CLIError("nothing to change: give --algorithm, --compression-threshold or --rotation-period", status: ExitStatus.usage)
                }
                // Validate the values given, with the same rules and messages as create.
                let given = try RingCommand.settings(
                    algorithm: algorithm ?? "aes-256-gcm",
                    compressionThreshold: try Self.number(compressionThreshold, "--compression-threshold"),
                    rotationPeriodDays: try Self.number(rotationPeriod, "--rotation-period"))
                let description = try RingFileAccess.update(file, unlock: unlock) { ring -> String in
                    let current = ring.settings
                    ring.settings = try KeyRingSettings(
                        algorithm: algorithm == nil ? current.algorithm : given.algorithm,
                        compressionThreshold: compressionThreshold == nil ? current.compressionThreshold : given.compressionThreshold,
                        rotationPeriod: rotationPeriod == nil ? current.rotationPeriod : given.rotationPeriod)
                    return ring.settings.description
                }
                Terminal.printNote("\(file): \(description)")
            }
        }
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rotate",
            abstract: "Add a new version and make it primary in one step; prints NAME/vN.",
            discussion: """
                Earlier versions keep their states, so everything encrypted before still decrypts. \
                When several processes share copies of the ring file, use --stage: it adds the \
                version without making it primary; once every copy has it, `set-primary` makes it \
                the one that encrypts, and no reader ever meets a version it has not loaded.
                """)

        @Argument(help: "The ring file.") var file: String
        @OptionGroup var unlock: RingUnlockOptions
        @Flag(name: .customLong("stage"), help: "Add the version as active but not primary (first step of a staged rotation).")
        var stage = false

        func run() throws {
            TemporaryFiles.shared.installSignalHandlers()
            try runRing {
                let (name, added) = try RingFileAccess.update(file, unlock: unlock) { ring in
                    (ring.name, stage ? try ring.addVersion() : try ring.rotate())
                }
                try RingCommand.writeStdout(Array("\(name)/\(added.version)\n".utf8))
            }
        }
    }

    struct SetPrimary: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-primary",
            abstract: "Make an active version the primary (second step of a staged rotation, or a roll-back).")

        @Argument(help: "The ring file.") var file: String
        @Argument(help: "The version, e.g. 2 or v2.") var version: String
        @OptionGroup var unlock: RingUnlockOptions

        func run() throws {
            TemporaryFiles.shared.installSignalHandlers()
            try runRing {
                let keyVersion = try RingCommand.parseVersion(version)
                let name = try RingFileAccess.update(file, unlock: unlock) { ring in
                    try ring.setPrimary(keyVersion)
                    return ring.name
                }
                Terminal.printNote("\(name)/\(keyVersion) is now the primary")
            }
        }
    }

    /// A version argument: `2` or `v2`.
    static func parseVersion(_ text: String) throws -> KeyVersion {
        let digits = text.hasPrefix("v") ? String(text.dropFirst()) : text
        guard let number = UInt32(digits), let version = try? KeyVersion(number) else {
            throw CLIError("invalid version \(text): give a number such as 2 or v2", status: ExitStatus.usage)
        }
        return version
    }

    struct SetState: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-state",
            abstract: "Set a version's state: active, decrypt-only, disabled or destroyed.",
            discussion: """
                The primary must stay active (rotate first). disabled refuses all use but can be \
                undone; disable a version and watch for failures before destroying it. destroyed \
                deletes the key bytes for good and needs --force.
                """)

        @Argument(help: "The ring file.") var file: String
        @Argument(help: "The version, e.g. 2 or v2.") var version: String
        @Argument(help: "active, decrypt-only, disabled or destroyed.") var state: String
        @OptionGroup var unlock: RingUnlockOptions
        @Flag(name: .customLong("force"), help: "Required to destroy a version.") var force = false

        func run() throws {
            TemporaryFiles.shared.installSignalHandlers()
            try runRing {
                let keyVersion = try RingCommand.parseVersion(version)
                guard let newState = KeyVersionState(name: state) else {
                    throw CLIError("invalid state \(state): use active, decrypt-only, disabled or destroyed", status: ExitStatus.usage)
                }
                if newState == .destroyed && !force {
                    throw CLIError("destroying a version deletes its key for good; add --force to do it", status: ExitStatus.refused)
                }
                let name = try RingFileAccess.update(file, unlock: unlock) { ring in
                    try ring.setState(newState, for: keyVersion)
                    return ring.name
                }
                Terminal.printNote("\(name)/\(keyVersion) is now \(newState)")
            }
        }
    }

    struct Encrypt: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "encrypt",
            abstract: "Encrypt each line of standard input under the primary; one coffer:v1: envelope per line.",
            discussion: "Lines end at LF (the LF is not encrypted). With --whole, all of standard input is one plaintext.")

        @Argument(help: "The ring file.") var file: String
        @Option(name: .customLong("context"), help: "Encryption context pair KEY=VALUE, needed again to decrypt. Repeatable.")
        var context: [String] = []
        @Flag(name: .customLong("whole"), help: "Encrypt all of standard input as one envelope.") var whole = false
        @OptionGroup var unlock: RingUnlockOptions

        func run() throws {
            try runRing {
                let encryptionContext = try RingCommand.parseContext(context)
                let ring = try RingFileAccess.load(file, unlock: unlock).ring
                if ring.isRotationDue() { Terminal.printNote("note: key ring \(ring.name) is due for rotation (coffer ring rotate)") }
                let input = try RingCommand.readStdin()
                var out: [UInt8] = []
                for plaintext in whole ? [input[...]] : RingCommand.lines(input) {
                    out += Array(try ring.seal(plaintext, context: encryptionContext).text.utf8) + [0x0A]
                }
                try RingCommand.writeStdout(out)
            }
        }
    }

    struct Decrypt: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "decrypt",
            abstract: "Decrypt one coffer:v1: envelope per line of standard input; one plaintext per line.",
            discussion: "With --whole, standard input is one envelope and its plaintext is written as is (no LF added).")

        @Argument(help: "The ring file.") var file: String
        @Option(name: .customLong("context"), help: "The encryption context pair KEY=VALUE given at encryption. Repeatable.")
        var context: [String] = []
        @Flag(name: .customLong("whole"), help: "Standard input is one envelope; write its plaintext unchanged.") var whole = false
        @OptionGroup var unlock: RingUnlockOptions

        func run() throws {
            try runRing {
                let encryptionContext = try RingCommand.parseContext(context)
                let ring = try RingFileAccess.load(file, unlock: unlock).ring
                let input = try RingCommand.readStdin()
                let items = whole ? [RingCommand.trimmingLineEnd(input[...])] : RingCommand.lines(input)
                var out: [UInt8] = []
                for (index, line) in items.enumerated() {
                    let plaintext = try RingCommand.perLine(index, of: items.count) {
                        try ring.open(try Envelope(text: String(decoding: RingCommand.trimmingCR(line), as: UTF8.self)), context: encryptionContext)
                    }
                    if whole {
                        out += plaintext
                    } else {
                        guard !plaintext.contains(0x0A) else {
                            throw CLIError("line \(index + 1): the plaintext contains a line break; decrypt it with --whole", status: ExitStatus.invalidInput)
                        }
                        out += plaintext + [0x0A]
                    }
                }
                try RingCommand.writeStdout(out)
            }
        }
    }

    struct Rewrap: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rewrap",
            abstract: "Move each envelope on standard input (one per line) to the primary version.",
            discussion: """
                Only the wrapped data key changes; the payload is untouched and no context is \
                needed. Envelopes already under the primary are written unchanged. Rewrap before \
                making an old version decrypt-only, disabled or destroyed.
                """)

        @Argument(help: "The ring file.") var file: String
        @OptionGroup var unlock: RingUnlockOptions

        func run() throws {
            try runRing {
                let ring = try RingFileAccess.load(file, unlock: unlock).ring
                let items = RingCommand.lines(try RingCommand.readStdin())
                var out: [UInt8] = []
                for (index, line) in items.enumerated() {
                    let envelope = try RingCommand.perLine(index, of: items.count) {
                        try ring.rewrap(try Envelope(text: String(decoding: RingCommand.trimmingCR(line), as: UTF8.self)))
                    }
                    out += Array(envelope.text.utf8) + [0x0A]
                }
                try RingCommand.writeStdout(out)
            }
        }
    }

    struct Reseal: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reseal",
            abstract: "Re-encrypt a ring file under a new passphrase or wrapping key (the keys inside are unchanged).")

        @Argument(help: "The ring file.") var file: String
        @OptionGroup var unlock: RingUnlockOptions

        @Option(name: .customLong("new-passphrase-file"), help: "The new passphrase, on the first line of this file (else asked on the terminal).")
        var newPassphraseFile: String?

        @Option(name: .customLong("new-wrapping-key-file"), help: "Protect the file with this wrapping key instead.")
        var newWrappingKeyFile: String?

        @Option(name: .customLong("work-factor"), help: "scrypt cost as log2(N) for a new passphrase (15–22; default 17).")
        var workFactor: UInt8 = 17

        func run() throws {
            TemporaryFiles.shared.installSignalHandlers()
            try runRing {
                guard (15...22).contains(workFactor) else { throw CLIError("--work-factor must be 15–22", status: ExitStatus.usage) }
                guard newPassphraseFile == nil || newWrappingKeyFile == nil else {
                    throw CLIError("give either --new-passphrase-file or --new-wrapping-key-file, not both", status: ExitStatus.usage)
                }
                let protection: RingUnlockOptions.Protection
                if let newWrappingKeyFile {
                    protection = .wrappingKey(try WrappingKeyInput.read(file: newWrappingKeyFile))
                } else if let newPassphraseFile {
                    protection = .passphrase(try PassphraseInput.read(file: newPassphraseFile))
                } else if let passphrase = try PassphraseInput.prompt("Enter the new passphrase for the key ring: ", confirm: true) {
                    protection = .passphrase(passphrase)
                } else {
                    throw CLIError("no new passphrase entered", status: ExitStatus.invalidInput)
                }
                let name = try RingFileAccess.update(file, unlock: unlock, reseal: (protection, .scrypt(logN: workFactor, r: 8, p: 1))) { $0.name }
                Terminal.printNote("re-encrypted key ring \(name) in \(file)")
            }
        }
    }
}
