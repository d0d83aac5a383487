import ArgumentParser

/// `coffer`: encrypt files and streams with keys you control.
@main
struct CofferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coffer",
        abstract: "Encrypt files and streams with keys you control.",
        discussion: ExitStatus.helpText,
        version: "0.1.0",
        subcommands: [EncryptCommand.self, DecryptCommand.self, KeygenCommand.self, WrappingKeyCommand.self, RingCommand.self, TokenCommand.self, FernetCommand.self, AuditCommand.self, ServerCommand.self])
}
