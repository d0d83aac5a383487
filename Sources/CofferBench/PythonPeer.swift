import Foundation

/// Runs one of the repository's `bench/*.py` peers with `python3` and decodes the JSON it prints
/// as `T`; `nil` when Python or its `cryptography` package is missing or the script fails (the
/// benchmark then prints Coffer's figures alone).
func runPythonPeer<T: Decodable>(_ scriptName: String, _ arguments: [String], as type: T.Type) -> T? {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("bench").appendingPathComponent(scriptName).path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", script] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    guard (try? process.run()) != nil else { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    return try? JSONDecoder().decode(type, from: data)
}
