import ArgumentParser
import CofferCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// `coffer token`: HMAC-SHA256 signed, expiring tokens (sessions, signed cookies, links) from
/// scripts, with the same key ring and format as the library.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Sign and verify expiring tokens with a rotating HMAC key ring.",
        discussion: """
            The signing keys live in a key file (--key-file) or the environment variable \
            \(SigningKeyOptions.environmentVariable), never on the command line. Each entry is \
            ID:KEY (a live key) or ID:retired; the live key with the highest id signs, every live \
            key verifies, so `rotate-key` logs nobody out. Retire a key once the longest token it \
            signed has expired.

            Payloads and tokens are read and written one per line; a failing line stops the run \
            with its line number, after the output of every line before it. Tokens are signed, not \
            encrypted: anyone holding one can read its payload.
            """,
        subcommands: [GenerateKey.self, RotateKey.self, RetireKey.self, Sign.self, Verify.self])

    struct GenerateKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate-key", abstract: "Write a new key file holding one random signing key (id 1).")

        @Option(name: [.customShort("o"), .customLong("output")], help: "Write the key file here (mode 0600) instead of standard output.")
        var output: String?

        @Flag(name: .customLong("force"), help: "Overwrite an existing output file.")
        var force = false

        func run() throws {
            TemporaryFiles.shared.installSignalHandlers()
            try runReportingErrors { try SigningKeyFile.write(.generate(), to: output, force: force) }
        }
    }

    struct RotateKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-key", abstract: "Add a new signing key to a key file, atomically; it signs from now on.")

        @Argument(help: "The key file to update.")
        var keyFile: String

        func run() throws {
            TemporaryFiles.shared.installSignalHandlers()
            try runReportingErrors {
                var ring = try SigningKeyFile.read(file: keyFile)
                let key = try ring.rotate()
                try SigningKeyFile.write(ring, to: keyFile, force: true)
                Terminal.printNote("key \(key.id.rawValue) added to \(keyFile); it signs new tokens")
            }
        }
    }

    struct RetireKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retire-key", abstract: "Retire a key in a key file: its tokens stop verifying and its bytes are erased.")

        @Argument(help: "The key file to update.")
        var keyFile: String

        @Argument(help: "The id of the key to retire (not the newest).")
        var id: UInt32

        func run() throws {
            TemporaryFiles.shared.installSignalHandlers()
            try runReportingErrors {
                var ring = try SigningKeyFile.read(file: keyFile)
                guard let version = try? KeyVersion(id), ring.key(id: version) != nil else {
                    throw CLIError("\(keyFile) has no live key \(id)", status: ExitStatus.invalidInput)
                }
                guard version != ring.primary.id else {
                    throw CLIError("key \(id) is the newest key, which signs; rotate-key first", status: ExitStatus.invalidInput)
                }
                try ring.retire(version)
                try SigningKeyFile.write(ring, to: keyFile, force: true)
            }
        }
    }

    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "sign",
            abstract: "Sign each input line (or the whole input with --whole) into one token per line.")

        @OptionGroup var keys: SigningKeyOptions
        @OptionGroup var purpose: PurposeOption
        @OptionGroup var messages: MessageOptions

        @Option(name: .customLong("lifetime"), help: "How long tokens stay valid: seconds, or a number with s, m, h or d (e.g. 30m, 12h, 7d).")
        var lifetime: TokenLifetime

        @Flag(name: .customLong("json"), help: "Payloads are JSON documents: checked, and marked as JSON in the token.")
        var json = false

        @Argument(help: "Input file (default: standard input).")
        var input: String?

        func run() throws {
            try runReportingErrors {
                let ring = try keys.ring()
                let tokenPurpose = try purpose.value()
                try messages.tokens(from: input) { payload in
                    if json {
                        do {
                            return try ring.sign(jsonText: payload, purpose: tokenPurpose, lifetime: lifetime.duration)
                        } catch let error as CofferCryptoError where error.code == .invalidParameter {
                            throw CLIError("the payload is not valid JSON", status: ExitStatus.invalidInput)
                        }
                    }
                    return try ring.sign(payload, purpose: tokenPurpose, lifetime: lifetime.duration)
                }
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "verify",
            abstract: "Verify one token per line (or a single token with --whole) and print its payload.")

        @OptionGroup var keys: SigningKeyOptions
        @OptionGroup var purpose: PurposeOption
        @OptionGroup var messages: MessageOptions

        @Option(name: .customLong("clock-skew"), help: "Seconds of clock difference tolerated at both ends of a token's validity (default 60).")
        var clockSkew: Int64 = 60

        func validate() throws {
            if clockSkew < 0 { throw ValidationError("--clock-skew must not be negative") }
        }

        @Argument(help: "Input file (default: standard input).")
        var input: String?

        func run() throws {
            try runReportingErrors {
                let ring = try keys.ring()
                let tokenPurpose = try purpose.value()
                try messages.messages(from: input) { token in
                    do {
                        return try ring.verify(String(decoding: token, as: UTF8.self), purpose: tokenPurpose, clockSkew: .seconds(clockSkew)).payload
                    } catch let error as CofferCryptoError where error.code == .tokenExpired {
                        throw CLIError("token expired", status: ExitStatus.decryptionFailed)
                    } catch let error as CofferCryptoError where error.code == .tokenNotYetValid {
                        throw CLIError("token not yet valid (issued in the future beyond --clock-skew)", status: ExitStatus.decryptionFailed)
                    } catch {
                        // Malformed, forged, wrong purpose, unknown or retired key: one message.
                        throw CLIError("invalid token", status: ExitStatus.decryptionFailed)
                    }
                }
            }
        }
    }
}

/// `--key-file` / `COFFER_TOKEN_KEYS`: the signing key ring.
struct SigningKeyOptions: ParsableArguments {
    static let environmentVariable = "COFFER_TOKEN_KEYS"

    @Option(name: .customLong("key-file"), help: "Signing key file (made by `coffer token generate-key`).")
    var keyFile: String?

    func ring() throws -> SigningKeyRing {
        if let keyFile { return try SigningKeyFile.read(file: keyFile) }
        return try SigningKeyFile.parse(
            try KeyListInput.lines(file: nil, environment: Self.environmentVariable, what: "signing keys"), source: Self.environmentVariable)
    }
}

struct PurposeOption: ParsableArguments {
    @Option(name: .customLong("purpose"), help: "What the tokens are for (e.g. session, password-reset): a token verifies only for the purpose it was signed for.")
    var purpose: String

    func value() throws -> TokenPurpose {
        do {
            return try TokenPurpose(purpose)
        } catch {
            throw CLIError("--purpose must be 1–64 characters of A-Z a-z 0-9 . _ - : /", status: ExitStatus.usage)
        }
    }
}

/// A token lifetime on the command line: `90`, `90s`, `30m`, `12h`, `7d`.
struct TokenLifetime: ExpressibleByArgument {
    let duration: Duration

    init?(argument: String) {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        var digits = Substring(argument)
        var multiplier: Int64 = 1
        if let last = digits.last, let unit = units[last] {
            multiplier = unit
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let count = Int64(digits), count > 0,
            count <= Int64.max / multiplier / 2
        else { return nil }
        duration = .seconds(count * multiplier)
    }
}
