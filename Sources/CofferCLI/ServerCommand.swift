import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// `coffer server …`: runs `coffer-server`, installed beside `coffer`. The service is its own
/// executable so that `coffer encrypt` and friends do not load the server's networking stack.
struct ServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run the key-management service over HTTPS (coffer-server; see docs/SERVER.md).",
        discussion: "Every argument is passed to coffer-server: coffer server --help lists them.")

    @Argument(parsing: .allUnrecognized, help: "Arguments for coffer-server.")
    var arguments: [String] = []

    func run() throws {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        let candidates = [directory + "/coffer-server"] + (ProcessInfo.processInfo.environment["PATH"] ?? "")
            .split(separator: ":").map { "\($0)/coffer-server" }
        guard let path = candidates.first(where: { access($0, X_OK) == 0 }) else {
            throw CLIError("coffer-server is not installed beside coffer or on PATH (scripts/install.sh installs both)", status: ExitStatus.ioFailure)
        }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        execv(path, argv)
        throw CLIError.io("run", path, errno: errno)
    }
}
