import CofferTestSupport
import Foundation

extension LiveServer {
    /// `coffer server arguments…`: through the CLI, which execs `coffer-server` beside it.
    static func start(_ arguments: [String], environment: [String: String] = [:]) throws -> LiveServer {
        try start(executable: CofferProcess.executable, ["server"] + arguments, environment: environment)
    }
}

/// curl as the client, as operators use it.
@discardableResult
func curl(_ arguments: [String], body: String? = nil) throws -> (status: Int32, out: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    process.arguments = ["-sS", "--max-time", "10"] + arguments + (body.map { ["-H", "Content-Type: application/json", "--data", $0] } ?? [])
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

func jsonObject(_ text: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
}
