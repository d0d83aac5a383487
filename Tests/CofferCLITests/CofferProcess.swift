import Foundation
import Testing

/// Runs the built `coffer` executable as a subprocess, as users and scripts do.
enum CofferProcess {
    /// `$COFFER_BIN`, else the `coffer` built beside this test bundle.
    static let executable: URL = {
        if let path = ProcessInfo.processInfo.environment["COFFER_BIN"] { return URL(fileURLWithPath: path) }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("coffer")
    }()

    struct Result {
        let status: Int32
        let stdout: [UInt8]
        let stderr: String
    }

    /// Runs `coffer arguments…` in `directory` with `stdin` as standard input. Output goes
    /// through files, not pipes, so large outputs cannot deadlock.
    @discardableResult
    static func run(
        _ arguments: [String], stdin: [UInt8] = [], environment: [String: String] = [:], in directory: URL
    ) throws -> Result {
        let scratch = directory.appendingPathComponent(".run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let inURL = scratch.appendingPathComponent("in"), outURL = scratch.appendingPathComponent("out")
        let errURL = scratch.appendingPathComponent("err")
        try Data(stdin).write(to: inURL)
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        // No secret from the developer's own environment (COFFER_PASSPHRASE, COFFER_RING_PASSPHRASE,
        // COFFER_FERNET_KEYS, …) may leak into a test: each test passes exactly what it means.
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("COFFER_") || $0.key == "COFFER_BIN" }
        env.merge(environment) { $1 }
        process.environment = env
        let input = try FileHandle(forReadingFrom: inURL), output = try FileHandle(forWritingTo: outURL)
        let errors = try FileHandle(forWritingTo: errURL)
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        try input.close(); try output.close(); try errors.close()
        return Result(
            status: process.terminationStatus, stdout: [UInt8](try Data(contentsOf: outURL)),
            stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}

/// A scratch directory per test, removed afterwards.
final class Workspace {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func write(_ name: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: url.appendingPathComponent(name)) }
    func write(_ name: String, _ text: String) throws { try write(name, Array(text.utf8)) }
    func read(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: url.appendingPathComponent(name))) }
    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: path(name)) }

    /// Every entry, including hidden temporary files, to prove nothing partial was left behind.
    func entries() throws -> Set<String> { Set(try FileManager.default.contentsOfDirectory(atPath: url.path)) }

    @discardableResult
    func coffer(_ arguments: String..., stdin: [UInt8] = [], environment: [String: String] = [:]) throws -> CofferProcess.Result {
        try CofferProcess.run(arguments, stdin: stdin, environment: environment, in: url)
    }
}

/// Deterministic test content.
func patternBytes(_ count: Int) -> [UInt8] {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return UInt8(truncatingIfNeeded: state >> 56)
    }
}
