import Foundation

/// A `coffer server` process started for real, on a free port, with its log (stderr) kept in a
/// file: in `$COFFER_TEST_LOG_DIR` when the test script sets it, so the suite's secret scan
/// (scripts/scan-test-logs.sh) reads every server log the tests produced.
public struct LiveServer: @unchecked Sendable {
    public let process: Process
    public let port: Int
    /// Standard output up to "Listening on" (the admin key line, when printed).
    public let firstLines: String
    public let logPath: String

    /// `coffer-server`, built beside the test bundle.
    public static let serverExecutable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("coffer-server")

    /// Starts `executable arguments… --port 0` (the environment's COFFER_* variables removed:
    /// each test passes exactly the settings it means) and waits for "Listening on".
    public static func start(executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws -> LiveServer {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments + ["--port", "0"]
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("COFFER_") || $0.key == "COFFER_BIN" }
        env.merge(environment) { $1 }
        process.environment = env
        let output = Pipe()
        process.standardOutput = output
        let logDirectory = ProcessInfo.processInfo.environment["COFFER_TEST_LOG_DIR"] ?? FileManager.default.temporaryDirectory.path
        let logPath = logDirectory + "/coffer-server-\(UUID().uuidString).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while !text.contains("Listening on"), Date() < deadline {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        return LiveServer(process: process, port: port(in: text), firstLines: text, logPath: logPath)
    }

    /// The port from `Listening on scheme://host:PORT (…)`; 0 when the server did not start.
    public static func port(in text: String) -> Int {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Listening on") }),
            let address = line.split(separator: " ").dropFirst(2).first, let port = address.split(separator: ":").last.flatMap({ Int($0) })
        else { return 0 }
        return port
    }

    public var adminKey: String? {
        firstLines.split(separator: "\n").first { $0.hasPrefix("Admin API key") }?.split(separator: " ").last.map(String.init)
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// SIGTERM and wait; returns the exit status.
    @discardableResult
    public func stop() -> Int32 {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// Secrets the tests hand to servers (API keys, passphrases, PINs, plaintexts), recorded so the
/// suite's logs can be scanned for them afterwards (scripts/scan-test-logs.sh). A no-op unless
/// the test script sets `$COFFER_TEST_SECRETS_FILE`.
public enum TestSecrets {
    private static let lock = NSLock()

    public static func record(_ secrets: String...) {
        guard let path = ProcessInfo.processInfo.environment["COFFER_TEST_SECRETS_FILE"] else { return }
        lock.lock()
        defer { lock.unlock() }
        guard let handle = FileHandle(forWritingAtPath: path) ?? {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            return FileHandle(forWritingAtPath: path)
        }() else { return }
        handle.seekToEndOfFile()
        for secret in secrets where secret.count >= 8 { handle.write(Data((secret + "\n").utf8)) }
        try? handle.close()
    }
}


extension LiveServer {
    /// `scheme://127.0.0.1:PORT`, from the "Listening on" line.
    public var base: String {
        let scheme = firstLines.contains("Listening on https") ? "https" : "http"
        return "\(scheme)://127.0.0.1:\(port)"
    }
}
