import ArgumentParser
import CofferCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// Helpers shared by the `coffer ring` subcommands: input lines, contexts, and error wording.
extension RingCommand {
    static let algorithms: [String: AEADAlgorithm] = [
        "aes-256-gcm": .aes256GCM, "chacha20-poly1305": .chacha20Poly1305, "aes-256-gcm-siv": .aes256GCMSIV,
    ]

    /// `KEY=VALUE` pairs into a context; a repeated key is a usage error, not a silent overwrite.
    static func parseContext(_ pairs: [String]) throws -> EncryptionContext {
        var entries: [String: String] = [:]
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw CLIError("--context takes KEY=VALUE with a non-empty KEY", status: ExitStatus.usage)
            }
            let key = String(pair[..<equals])
            guard entries[key] == nil else { throw CLIError("--context key \(key) given twice", status: ExitStatus.usage) }
            entries[key] = String(pair[pair.index(after: equals)...])
        }
        let context = EncryptionContext(entries)
        do { _ = try context.canonicalEncoding() } catch {
            throw CLIError("--context: keys must be 1–1024 bytes, values at most 65535, at most 256 pairs", status: ExitStatus.usage)
        }
        return context
    }

    static func readStdin() throws -> [UInt8] {
        let input = try InputSource.open(nil)
        return try input.readAll(limit: maximumInputSize)
    }

    /// Lines ended by LF; a last line without LF counts, an empty input has no lines.
    static func lines(_ input: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines = input.split(separator: 0x0A, omittingEmptySubsequences: false)
        if input.isEmpty || input.last == 0x0A { lines.removeLast() }
        return lines
    }

    /// Envelope text never contains CR or LF, so a CRLF line end is tolerated on envelope input.
    static func trimmingCR(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        line.last == 0x0D ? line.dropLast() : line
    }

    static func trimmingLineEnd(_ text: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        text.last == 0x0A ? trimmingCR(text.dropLast()) : text
    }

    /// Runs one line's work, naming the line in a failure.
    static func perLine<T>(_ index: Int, of count: Int, _ body: () throws -> T) throws -> T {
        do { return try body() } catch {
            let failure = ringError(error)
            throw count > 1 || index > 0 ? CLIError("line \(index + 1): \(failure.message)", status: failure.status) : failure
        }
    }

    static func writeStdout(_ bytes: [UInt8]) throws {
        let out = try OutputTarget.open(nil, force: true, mode: 0, applyUmask: false)
        try out.write(bytes)
    }

    /// The ring commands' wording for core errors; everything else as every command reports it.
    static func ringError(_ error: any Error) -> CLIError {
        guard let error = error as? CofferCryptoError else { return CLIError.from(error) }
        switch error.code {
        case .keyVersionUnavailable:
            return CLIError(
                "decryption refused: the envelope's key \(error.detail ?? "version is disabled or destroyed") in this ring",
                status: ExitStatus.decryptionFailed)
        case .keyStateChangeRefused, .invalidKeyRing, .invalidKeyVersion:
            return CLIError(error.detail.map { "\(error.code): \($0)" } ?? error.description, status: ExitStatus.invalidInput)
        default:
            return CLIError.from(error)
        }
    }
}

/// `runReportingErrors` with the ring commands' wording.
func runRing(_ body: () throws -> Void) throws {
    try runReportingErrors {
        do { try body() } catch let error as CofferCryptoError { throw RingCommand.ringError(error) }
    }
}
