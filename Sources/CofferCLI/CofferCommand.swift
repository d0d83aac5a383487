import ArgumentParser
import Glibc

/// `coffer`: encrypt files and streams with keys you control.
struct CofferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coffer",
        abstract: "Encrypt files and streams with keys you control.",
        discussion: ExitStatus.helpText,
        version: "0.1.0",
        subcommands: [EncryptCommand.self, DecryptCommand.self, KeygenCommand.self, WrappingKeyCommand.self, RingCommand.self, TokenCommand.self, FernetCommand.self, AuditCommand.self, ServerCommand.self])
}

/// The entry point: plain `encrypt`/`decrypt` command lines skip swift-argument-parser's
/// reflection (``FastCommandLine``); everything else, including every error, goes through it.
@main
enum CofferMain {
    static func main() {
        guard let invocation = FastCommandLine.parse(Array(CommandLine.arguments.dropFirst())) else {
            CofferCommand.main()
            return
        }
        TemporaryFiles.shared.installSignalHandlers()
        do {
            switch invocation {
            case .encrypt(let options): try runReportingErrors(options.run)
            case .decrypt(let options): try runReportingErrors(options.run)
            }
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch {
            // runReportingErrors turns every failure into an ExitCode.
            exit(ExitStatus.ioFailure)
        }
        exit(ExitStatus.success)
    }
}
