import ArgumentParser
import CofferCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// `coffer fernet`: Fernet tokens byte-compatible with Python `cryptography`, for services
/// migrating from (or still talking to) a Fernet-based design.
struct FernetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fernet",
        abstract: "Fernet tokens, compatible with Python cryptography's Fernet and MultiFernet.",
        discussion: """
            Keys come from --key-file (one key per line, '#' comments allowed) or the environment \
            variable \(FernetKeyOptions.environmentVariable) (keys separated by commas), never from \
            the command line. With several keys the first encrypts and every one decrypts, as \
            MultiFernet. Tokens are read and written one per line; a failing line stops the run \
            with its line number, after the output of every line before it.
            """,
        subcommands: [GenerateKey.self, Encrypt.self, Decrypt.self, Rotate.self])

    struct GenerateKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate-key", abstract: "Print a new random Fernet key (as Fernet.generate_key()).")

        @Option(name: [.customShort("o"), .customLong("output")], help: "Write the key to this file (mode 0600) instead of standard output.")
        var output: String?

        @Flag(name: .customLong("force"), help: "Overwrite an existing output file.")
        var force = false

        func run() throws {
            TemporaryFiles.shared.installSignalHandlers()
            try runReportingErrors {
                try OutputTarget.writeFile(output, Array((FernetKey.generate().unsafeSecretText + "\n").utf8), force: force, mode: 0o600)
            }
        }
    }

    struct Encrypt: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "encrypt",
            abstract: "Encrypt each input line (or the whole input with --whole) into one token per line.")

        @OptionGroup var keys: FernetKeyOptions
        @OptionGroup var messages: MessageOptions

        @Argument(help: "Input file (default: standard input).")
        var input: String?

        func run() throws {
            try runReportingErrors {
                let fernet = try keys.multiFernet()
                try messages.tokens(from: input) { try fernet.encrypt($0) }
            }
        }
    }

    struct Decrypt: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "decrypt",
            abstract: "Decrypt one token per line (or a single token with --whole) into its message.")

        @OptionGroup var keys: FernetKeyOptions
        @OptionGroup var messages: MessageOptions

        @Option(name: .customLong("ttl"), help: "Refuse tokens older than this many seconds (a token exactly this old is valid). Default: no age limit, as Python.")
        var ttl: Int64?

        @Option(name: .customLong("max-clock-skew"), help: "With --ttl: seconds a token may be dated in the future (default 60).")
        var maximumClockSkew: Int64 = Fernet.defaultMaximumClockSkew

        @Argument(help: "Input file (default: standard input).")
        var input: String?

        func validate() throws {
            if let ttl, ttl < 0 { throw ValidationError("--ttl must not be negative") }
            if maximumClockSkew < 0 { throw ValidationError("--max-clock-skew must not be negative") }
        }

        func run() throws {
            try runReportingErrors {
                let fernet = try keys.multiFernet()
                try messages.messages(from: input) { token in
                    do {
                        return try fernet.decrypt(String(decoding: token, as: UTF8.self), ttl: ttl, maximumClockSkew: maximumClockSkew)
                    } catch {
                        throw FernetKeyOptions.invalidToken
                    }
                }
            }
        }
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rotate",
            abstract: "Re-encrypt each token under the first key, keeping its original timestamp (MultiFernet.rotate).")

        @OptionGroup var keys: FernetKeyOptions

        @Argument(help: "Input file (default: standard input).")
        var input: String?

        func run() throws {
            try runReportingErrors {
                let fernet = try keys.multiFernet()
                let source = try InputSource.open(input)
                defer { source.close() }
                try LineFilter.run(source) { line in
                    do {
                        return Array(try fernet.rotate(String(decoding: line, as: UTF8.self)).utf8)
                    } catch {
                        throw FernetKeyOptions.invalidToken
                    }
                }
            }
        }
    }
}

/// `--key-file` / `COFFER_FERNET_KEYS`: the Fernet keys, first one encrypting.
struct FernetKeyOptions: ParsableArguments {
    static let environmentVariable = "COFFER_FERNET_KEYS"

    /// Fernet cannot tell a wrong key from a tampered or expired token (Python raises the same
    /// InvalidToken); neither does this message.
    static let invalidToken = CLIError(
        "invalid token: wrong key, tampered, malformed, or outside --ttl", status: ExitStatus.decryptionFailed)

    @Option(name: .customLong("key-file"), help: "File with one Fernet key per line; the first encrypts.")
    var keyFile: String?

    func multiFernet() throws -> MultiFernet {
        let lines = try KeyListInput.lines(file: keyFile, environment: Self.environmentVariable, what: "Fernet keys")
        let keys = try lines.enumerated().map { index, text in
            do {
                return try FernetKey(base64: text)
            } catch {
                throw CLIError(
                    "key \(index + 1) is not a Fernet key (44 characters of url-safe base64, as Fernet.generate_key())",
                    status: ExitStatus.invalidInput)
            }
        }
        return try MultiFernet(keys: keys)
    }
}

/// How messages are read and written around tokens.
struct MessageOptions: ParsableArguments {
    /// Message in, token out (encrypt, sign): each line, or the whole input as one message.
    func tokens(from input: String?, _ make: ([UInt8]) throws -> String) throws {
        let source = try InputSource.open(input)
        defer { source.close() }
        if whole {
            let token = try make(try LineFilter.readWhole(source))
            try OutputTarget.open(nil, force: true, mode: 0, applyUmask: false).write(Array((token + "\n").utf8))
        } else {
            try LineFilter.run(source) { line in Array(try make(try encoding.decode(line)).utf8) }
        }
    }

    /// Token in, message out (decrypt, verify): each line, or the whole input as one token
    /// (its line ending removed) whose message is written as it is.
    func messages(from input: String?, _ open: ([UInt8]) throws -> [UInt8]) throws {
        let source = try InputSource.open(input)
        defer { source.close() }
        if whole {
            var token = try LineFilter.readWhole(source)
            while token.last == 0x0A || token.last == 0x0D { token.removeLast() }
            try OutputTarget.open(nil, force: true, mode: 0, applyUmask: false).write(try open(token))
        } else {
            try LineFilter.run(source) { line in try encoding.encode(try open(line)) }
        }
    }

    @Flag(name: .customLong("whole"), help: "Treat the whole input as one message (encrypt) or one token (decrypt); the message is written as it is, without a line break.")
    var whole = false

    @Option(name: .customLong("encoding"), help: "Messages on lines as 'raw' text (default) or 'base64' (for binary messages or ones with line breaks).")
    var encoding: LineEncoding = .raw
}
