import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import PostgresNIO

/// A throwaway PostgreSQL cluster for the test process: `initdb` in a temporary directory,
/// listening on 127.0.0.1 at a free port, stopped when the process exits. Each test gets its own
/// database. PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres`
/// user that Debian's package creates.
///
/// With `COFFER_TEST_POSTGRES_PORT` set (scripts/test.sh starts one cluster for the whole run),
/// that server is used instead.
final class PostgresTestCluster: Sendable {
    static let shared = PostgresTestCluster()

    let port: Int
    let failure: String?

    private init() {
        if let text = ProcessInfo.processInfo.environment["COFFER_TEST_POSTGRES_PORT"], let port = Int(text) {
            self.port = port
            self.failure = nil
            return
        }
        var port = 0
        var failure: String?
        do { port = try Self.start() } catch { failure = "\(error)" }
        self.port = port
        self.failure = failure
    }

    func configuration(database: String) -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(host: "127.0.0.1", port: port, username: "coffer", password: nil, database: database, tls: .disable)
        configuration.options.maximumConnections = 8
        return configuration
    }

    /// A new empty database.
    func createDatabase() async throws -> String {
        if let failure { throw ClusterError(description: "PostgreSQL test cluster did not start: \(failure)") }
        let name = "coffer_test_\(UInt64.random(in: 0...UInt64.max))"
        let client = PostgresClient(configuration: configuration(database: "postgres"))
        let running = Task { await client.run() }
        defer { running.cancel() }
        try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        return name
    }

    struct ClusterError: Error, CustomStringConvertible { let description: String }

    nonisolated(unsafe) static var dataDirectory = ""
    nonisolated(unsafe) static var binDirectory = ""

    private static func start() throws -> Int {
        guard let bin = ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"]
            .first(where: { FileManager.default.fileExists(atPath: $0 + "/initdb") })
        else { throw ClusterError(description: "initdb not found (install postgresql-15)") }
        let directory = "/tmp/coffer-pg-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let asRoot = getuid() == 0
        if asRoot { try run("/bin/chown", ["postgres:postgres", directory]) }
        let port = Int.random(in: 20000...40000)
        try runAsPostgres(asRoot, bin + "/initdb", ["-D", directory + "/data", "-U", "coffer", "--auth=trust", "-E", "UTF8", "--no-sync"])
        try runAsPostgres(asRoot, bin + "/pg_ctl", [
            "-D", directory + "/data", "-l", directory + "/log", "-w", "-o",
            "-c listen_addresses=127.0.0.1 -p \(port) -k \(directory) -c max_connections=200 -c fsync=on", "start",
        ])
        dataDirectory = directory
        binDirectory = bin
        atexit {
            let args = ["-D", PostgresTestCluster.dataDirectory + "/data", "-m", "immediate", "stop"]
            try? PostgresTestCluster.runAsPostgres(getuid() == 0, PostgresTestCluster.binDirectory + "/pg_ctl", args)
            try? FileManager.default.removeItem(atPath: PostgresTestCluster.dataDirectory)
        }
        return port
    }

    static func runAsPostgres(_ asRoot: Bool, _ tool: String, _ arguments: [String]) throws {
        if asRoot { try run("/usr/sbin/runuser", ["-u", "postgres", "--", tool] + arguments) } else { try run(tool, arguments) }
    }

    /// posix_spawn and waitpid rather than Foundation's `Process`, whose exit monitoring did not
    /// reap `runuser` when called from inside this lazily initialised static.
    static func run(_ tool: String, _ arguments: [String]) throws {
        let log = "/tmp/coffer-pg-tool-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log"
        defer { unlink(log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([tool] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, tool, &actions, nil, argv, environ) == 0 else { throw ClusterError(description: "cannot start \(tool)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else {
            let message = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw ClusterError(description: "\(tool) failed: \(message)")
        }
    }
}
