import ArgumentParser
import CofferCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// A failure the user sees: one line on stderr and an exit status. Messages never contain key
/// material, passphrases or plaintext.
struct CLIError: Error {
    let message: String
    let status: Int32

    init(_ message: String, status: Int32) {
        self.message = message
        self.status = status
    }

    static func io(_ action: String, _ path: String, errno code: Int32) -> CLIError {
        CLIError("cannot \(action) \(path): \(String(cString: strerror(code)))", status: ExitStatus.ioFailure)
    }

    static let decryptionFailed = CLIError(
        "decryption failed: wrong key or passphrase, no matching identity, or the input is corrupted, truncated or tampered with",
        status: ExitStatus.decryptionFailed)

    /// Translates any error into what the user sees.
    static func from(_ error: any Error) -> CLIError {
        switch error {
        case let error as CLIError:
            return error
        case let error as CofferCryptoError:
            switch error.code {
            case .authenticationFailed:
                return decryptionFailed
            case .workFactorTooHigh:
                return CLIError(
                    "the input asks for a scrypt work factor above this reader's limit (a hostile or corrupted file)",
                    status: ExitStatus.invalidInput)
            default:
                return CLIError(error.detail.map { "\(error.code): \($0)" } ?? error.description, status: ExitStatus.invalidInput)
            }
        default:
            return CLIError("unexpected failure: \(type(of: error))", status: ExitStatus.ioFailure)
        }
    }
}

/// Runs a command body, reporting any failure as one line on stderr and the matching status.
func runReportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch {
        let failure = CLIError.from(error)
        Terminal.printError(failure.message)
        throw ExitCode(failure.status)
    }
}
