import Foundation
#if canImport(Glibc)
import Glibc
#endif
import CofferCrypto
import CofferStore
import Testing

/// kill -9 at random moments: a child process (`coffer-store-torture`) writes as fast as it can
/// and prints `ACK` after each write returns; after each kill the store reopens, and every
/// acknowledged write must be there and every row must be whole.
@Suite("Crash consistency", .serialized)
struct CrashConsistencyTests {
    static let torture = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("coffer-store-torture")

    @Test(arguments: [StoreBackendKind.sqlite, .postgres])
    func everyAcknowledgedWriteSurvivesKillNine(_ kind: StoreBackendKind) async throws {
        let directory = try TemporaryDirectory()
        let rootKeyPath = directory.path("root.key")
        let database = try await kind.makeDatabase()
        let arguments = kind == .sqlite
            ? ["sqlite", database.location, rootKeyPath]
            : ["postgres", String(PostgresTestCluster.shared.port), database.location, rootKeyPath]
        var acknowledged: [String] = []
        for round in 0..<4 {
            let lines = try runAndKill(arguments, after: .milliseconds(Int.random(in: 400...1200) + round * 100))
            #expect(lines.first?.hasPrefix("READY") == true, "the child did not start: \(lines.prefix(3))")
            acknowledged += lines.filter { $0.hasPrefix("ACK ") }.map { String($0.dropFirst(4)) }
        }
        #expect(acknowledged.count > 20, "the child should have written something between kills")

        let store = try await KeyStore.open(backend: try await database.open(), root: .key(try RootKeyFile.load(at: rootKeyPath).key))
        for line in acknowledged {
            let parts = line.split(separator: " ").map(String.init)
            let record = try await store.describeKey(try KeyIdentifier(parts[1]))
            switch parts[0] {
            case "create": break
            case "rotate": #expect(record.latestVersion.rawValue >= UInt32(parts[2])!, "lost: \(line)")
            case "disable":
                let state = try await store.versions(of: record.name).first { $0.version.rawValue == UInt32(parts[2])! }?.state
                #expect(state == .disabled, "lost: \(line)")
            default: Issue.record("unexpected line \(line)")
            }
        }
        // No half-applied write: each key's versions are exactly 1…latest, the primary is the
        // latest and active, and every version unseals.
        var after: KeyIdentifier?
        repeat {
            let page = try await store.listKeys(after: after, limit: 100)
            for record in page.keys {
                let versions = try await store.versions(of: record.name)
                #expect(versions.map(\.version.rawValue) == Array(1...record.latestVersion.rawValue))
                #expect(record.primaryVersion == record.latestVersion)
                _ = try await store.primaryVersion(of: record.name)
                for version in versions where version.state == .active {
                    _ = try await store.decryptionVersion(of: record.name, version.version)
                }
            }
            after = page.next
        } while after != nil
        try await store.close()
    }

    /// Starts the child, lets it run for `delay` after it is ready, kills it with SIGKILL and
    /// returns the lines it printed.
    func runAndKill(_ arguments: [String], after delay: Duration) throws -> [String] {
        let process = Process()
        process.executableURL = Self.torture
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let reader = output.fileHandleForReading
        var collected: [UInt8] = []
        // Wait for READY (schema migrations, opening), then let it write for `delay`.
        let started = ContinuousClock.now
        while !String(decoding: collected, as: UTF8.self).contains("READY"), ContinuousClock.now - started < .seconds(60) {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            collected += chunk
        }
        usleep(UInt32(delay.components.seconds * 1_000_000 + delay.components.attoseconds / 1_000_000_000_000))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        collected += reader.readDataToEndOfFile()
        // A line cut by the kill has no newline and is not an acknowledgement.
        var text = String(decoding: collected, as: UTF8.self)
        if !text.hasSuffix("\n"), let cut = text.lastIndex(of: "\n") { text = String(text[...cut]) }
        return text.split(separator: "\n").map(String.init)
    }
}
