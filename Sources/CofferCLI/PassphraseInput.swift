import CofferCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// Where passphrases come from: a file, an environment variable, or the terminal — never argv,
/// where other users could read them in the process list.
enum PassphraseInput {
    static let environmentVariable = "COFFER_PASSPHRASE"
    static let identityEnvironmentVariable = "COFFER_IDENTITY_PASSPHRASE"

    /// The first line of `path` (a trailing LF or CRLF is removed, as editors add one).
    static func read(file path: String) throws -> Passphrase {
        let input = try InputSource.open(path)
        defer { input.close() }
        var bytes = try input.readAll(limit: Passphrase.maximumByteCount + 2)
        defer { _ = bytes.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        if let newline = bytes.firstIndex(of: 0x0A) { bytes.removeSubrange(newline...) }
        if bytes.last == 0x0D { bytes.removeLast() }
        guard !bytes.isEmpty else { throw CLIError("passphrase file \(path) is empty", status: ExitStatus.invalidInput) }
        return try Passphrase(bytes)
    }

    static func environment(_ name: String) throws -> Passphrase? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return try Passphrase(value)
    }

    /// Reads a passphrase from the controlling terminal with echo off. Returns `nil` when the
    /// user entered nothing.
    static func prompt(_ message: String, confirm: Bool) throws -> Passphrase? {
        let tty = Glibc.open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard tty >= 0 else {
            throw CLIError(
                "no terminal to ask for a passphrase; use --passphrase-file or \(environmentVariable)",
                status: ExitStatus.invalidInput)
        }
        defer { Glibc.close(tty) }
        func ask(_ text: String) -> [UInt8] {
            var original = termios()
            tcgetattr(tty, &original)
            var silent = original
            silent.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(tty, TCSAFLUSH, &silent)
            defer {
                tcsetattr(tty, TCSAFLUSH, &original)
                _ = Glibc.write(tty, "\n", 1)
            }
            _ = text.withCString { Glibc.write(tty, $0, strlen($0)) }
            var line: [UInt8] = []
            var byte: UInt8 = 0
            while Glibc.read(tty, &byte, 1) == 1, byte != 0x0A, line.count <= Passphrase.maximumByteCount {
                line.append(byte)
            }
            return line
        }
        var first = ask(message)
        defer { _ = first.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        if first.isEmpty { return nil }
        if confirm {
            var second = ask("Confirm passphrase: ")
            defer { _ = second.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
            guard first == second else { throw CLIError("passphrases do not match", status: ExitStatus.invalidInput) }
        }
        return try Passphrase(first)
    }

    /// A passphrase for new encryption: file, then environment, then the terminal with
    /// confirmation. An empty answer at the prompt generates a strong passphrase and shows it once.
    static func forEncryption(file: String?) throws -> Passphrase {
        if let file { return try read(file: file) }
        if let passphrase = try environment(environmentVariable) { return passphrase }
        if let passphrase = try prompt("Enter passphrase (leave empty to generate a secure one): ", confirm: true) {
            return passphrase
        }
        let (passphrase, text) = Passphrase.generateReadable()
        Terminal.writeStderr("coffer: using the generated passphrase: \(text)\n")
        return passphrase
    }

    /// A passphrase for decryption: file, then environment, then the terminal.
    static func forDecryption(file: String?, environment name: String, prompt message: String) throws -> Passphrase {
        if let file { return try read(file: file) }
        if let passphrase = try environment(name) { return passphrase }
        guard let passphrase = try prompt(message, confirm: false) else {
            throw CLIError("no passphrase entered", status: ExitStatus.invalidInput)
        }
        return passphrase
    }
}
