import Foundation
import Testing

/// Behaviour that depends on a terminal: refusing binary output to it and drawing the progress
/// bar. The terminal is a real pseudo-terminal from `script(1)` (util-linux, in Debian's
/// essential `bsdutils`), which records everything written to it.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "script(1) from util-linux is not installed"))
struct TerminalTests {
    static let keys = KeyFixtures.shared

    /// Runs `coffer arguments…` with stdout and stderr on a pseudo-terminal; returns the exit
    /// status and what the terminal showed.
    private func onTerminal(_ work: Workspace, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, screen: String) {
        let command = ([CofferProcess.executable.path] + arguments).map { "'\($0)'" }.joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        // -q: no banners; -e: return the command's status; -c: the command; log to a file.
        process.arguments = ["-q", "-e", "-c", command + " < /dev/null", work.path("typescript")]
        process.currentDirectoryURL = work.url
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: try work.read("typescript"), as: UTF8.self))
    }

    @Test func binaryIsRefusedOnATerminalButArmorAndTextAreNot() throws {
        let work = try Workspace()
        try work.write("plain.txt", "hello, terminal\n")
        let refused = try onTerminal(work, ["encrypt", "-r", Self.keys.recipients["x25519"]!, "plain.txt"])
        #expect(refused.status == 4 && refused.screen.contains("refusing to write binary ciphertext to a terminal"))
        let armored = try onTerminal(work, ["encrypt", "-r", Self.keys.recipients["x25519"]!, "--armor", "plain.txt"])
        #expect(armored.status == 0 && armored.screen.contains("-----BEGIN COFFER ENCRYPTED FILE-----"))

        // Decrypting: text plaintext is shown; binary plaintext (NUL bytes) is refused, unforced.
        #expect(try work.coffer("encrypt", "-r", Self.keys.recipients["x25519"]!, "-o", "text.coffer", "plain.txt").status == 0)
        let shown = try onTerminal(work, ["decrypt", "-i", Self.keys.identityPath("x25519"), "text.coffer"], environment: Self.keys.environment)
        #expect(shown.status == 0 && shown.screen.contains("hello, terminal"))
        try work.write("binary", [0x7F, 0x45, 0x4C, 0x46, 0, 0, 0, 1, 2, 3])
        #expect(try work.coffer("encrypt", "-r", Self.keys.recipients["x25519"]!, "-o", "binary.coffer", "binary").status == 0)
        let binary = try onTerminal(work, ["decrypt", "-i", Self.keys.identityPath("x25519"), "binary.coffer"], environment: Self.keys.environment)
        #expect(binary.status == 4 && binary.screen.contains("refusing to write binary plaintext to a terminal"))
        let forced = try onTerminal(work, ["decrypt", "--force", "-i", Self.keys.identityPath("x25519"), "binary.coffer"], environment: Self.keys.environment)
        #expect(forced.status == 0)
    }

    @Test func progressBarOnATerminalOnlyAndNotWhenQuiet() throws {
        let work = try Workspace()
        // The first frame is drawn at the first progress, so any input over one read shows the bar.
        try work.write("big", patternBytes(48 << 20))
        let shown = try onTerminal(work, ["encrypt", "-r", Self.keys.recipients["x25519"]!, "-o", "big.coffer", "big"])
        #expect(shown.status == 0)
        #expect(shown.screen.contains("ETA") && shown.screen.contains(" / 48.0 MiB  "), "\(shown.screen.suffix(300))")
        let quiet = try onTerminal(work, ["encrypt", "-q", "-r", Self.keys.recipients["x25519"]!, "-o", "quiet.coffer", "big"])
        #expect(quiet.status == 0 && !quiet.screen.contains("ETA"))
        // Not a terminal: no progress output at all.
        let piped = try work.coffer("encrypt", "-r", Self.keys.recipients["x25519"]!, "-o", "piped.coffer", "big")
        #expect(piped.status == 0 && piped.stderr.isEmpty)
    }
}
