import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import CofferTestSupport

/// Two `coffer-server` processes sharing one PostgreSQL database, as a cluster runs: keys
/// rotated on one serve on the other, continuous traffic through both while keys rotate every
/// second sees no failure, and a node killed with SIGKILL loses no acknowledged rotation.
@Suite("Server nodes on PostgreSQL", .serialized)
struct ServerNodesTests {
    func startNode(_ directory: TemporaryDirectory, _ name: String, database: String, rootKey: String) throws -> LiveServer {
        try LiveServer.start(executable: LiveServer.serverExecutable, [
            "--data-dir", directory.path(name), "--root-key-file", rootKey, "--insecure-http",
            "--postgres", "127.0.0.1:\(PostgresTestCluster.shared.port)/\(database)",
        ])
    }

    /// One JSON request; `nil` on any transport error.
    func call(_ url: String, key: String, json: String? = nil) async -> (status: Int, body: [String: Any])? {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = json == nil ? "GET" : "POST"
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = json.map { Data($0.utf8) }
        request.timeoutInterval = 10
        guard let (data, response) = try? await URLSession.shared.data(for: request), let http = response as? HTTPURLResponse else { return nil }
        return (http.statusCode, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
    }

    func waitUntilUp(_ node: LiveServer) async {
        for _ in 0..<100 {
            if await call(node.base + "/v1/health/ready", key: "")?.status == 200 { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    @Test func twoNodesServeOneStoreThroughRotationAndAKill() async throws {
        let directory = try TemporaryDirectory()
        let database = try await PostgresTestCluster.shared.createDatabase()
        let rootKey = directory.path("root.key")
        let a = try startNode(directory, "a", database: database, rootKey: rootKey)
        defer { if a.process.isRunning { a.process.terminate() } }
        await waitUntilUp(a)
        let admin = try #require(a.adminKey)
        TestSecrets.record(admin)
        let b = try startNode(directory, "b", database: database, rootKey: rootKey)
        defer { if b.process.isRunning { b.process.terminate() } }
        await waitUntilUp(b)
        #expect(b.adminKey == nil, "the second node finds the admin identity already there")

        #expect(await call(a.base + "/v1/keys", key: admin, json: #"{"name":"shared","type":"aes256-gcm"}"#)?.status == 201)
        let plaintext = Data("across nodes 7702".utf8).base64EncodedString()
        TestSecrets.record("across nodes 7702", plaintext)
        let sealed = try #require(await call(a.base + "/v1/keys/shared/encrypt", key: admin, json: #"{"plaintext":"\#(plaintext)"}"#)?.body["ciphertext"] as? String)
        #expect(await call(b.base + "/v1/keys/shared/rotate", key: admin, json: "{}")?.status == 200)
        #expect(await call(a.base + "/v1/keys/shared/decrypt", key: admin, json: #"{"ciphertext":"\#(sealed)"}"#)?.body["plaintext"] as? String == plaintext)
        let fresh = await call(a.base + "/v1/keys/shared/encrypt", key: admin, json: #"{"plaintext":"\#(plaintext)"}"#)
        #expect(fresh?.body["version"] as? Int == 2, "node A encrypts under the version node B made")

        // 8 clients through both nodes for a few seconds while the key rotates every second.
        let nodes = [a.base, b.base]
        // Five seconds, and at least 15 rounds per client however loaded the machine is (up to a
        // minute), so the load is never vacuous.
        let deadline = Date().addingTimeInterval(5), hardDeadline = Date().addingTimeInterval(60)
        let failures = try await withThrowingTaskGroup(of: [String].self) { group in
            for client in 0..<8 {
                group.addTask {
                    var failures: [String] = []
                    var round = 0
                    while Date() < deadline || (round < 15 && Date() < hardDeadline) {
                        let encryptOn = nodes[(client + round) % 2], decryptOn = nodes[(client + round + 1) % 2]
                        round += 1
                        let message = Data("client \(client) round \(round)".utf8).base64EncodedString()
                        guard let sealed = await call(encryptOn + "/v1/keys/shared/encrypt", key: admin, json: #"{"plaintext":"\#(message)"}"#),
                            sealed.status == 200, let text = sealed.body["ciphertext"] as? String
                        else { failures.append("encrypt on \(encryptOn)"); continue }
                        let opened = await call(decryptOn + "/v1/keys/shared/decrypt", key: admin, json: #"{"ciphertext":"\#(text)"}"#)
                        if opened?.status != 200 || opened?.body["plaintext"] as? String != message {
                            failures.append("decrypt on \(decryptOn): \(opened?.status ?? 0)")
                        } else {
                            failures.append("ok")
                        }
                    }
                    return failures
                }
            }
            group.addTask {
                var failures: [String] = []
                var turn = 0
                while Date() < deadline {
                    if await call(nodes[turn % 2] + "/v1/keys/shared/rotate", key: admin, json: "{}")?.status != 200 { failures.append("rotate") }
                    turn += 1
                    try await Task.sleep(for: .seconds(1))
                }
                return failures
            }
            return try await group.reduce(into: [String]()) { $0 += $1 }
        }
        let roundTrips = failures.filter { $0 == "ok" }.count
        let realFailures = failures.filter { $0 != "ok" }
        #expect(realFailures.isEmpty, "\(realFailures.prefix(5))")
        #expect(roundTrips >= 120, "only \(roundTrips) encrypt/decrypt round trips ran")

        // Load on B — rotations, key creations and encryptions as fast as it answers — then
        // SIGKILL it, and check on A that everything B acknowledged is there: every rotation
        // (versions 1…latest, no gap), every created key, every ciphertext decrypting.
        let acknowledged = Lockbox()
        let created = Collected<String>(), sealedOnB = Collected<(String, String)>()
        let load = [
            Task {
                while true {
                    guard let response = await call(b.base + "/v1/keys/shared/rotate", key: admin, json: "{}"), response.status == 200,
                        let version = response.body["latestVersion"] as? Int
                    else { return }
                    acknowledged.set(version)
                }
            },
            Task {
                var index = 0
                while true {
                    index += 1
                    guard await call(b.base + "/v1/keys", key: admin, json: #"{"name":"made-\#(index)","type":"chacha20-poly1305"}"#)?.status == 201 else { return }
                    created.append("made-\(index)")
                }
            },
            Task {
                var index = 0
                while true {
                    index += 1
                    let message = Data("under load \(index)".utf8).base64EncodedString()
                    guard let response = await call(b.base + "/v1/keys/shared/encrypt", key: admin, json: #"{"plaintext":"\#(message)"}"#),
                        response.status == 200, let ciphertext = response.body["ciphertext"] as? String
                    else { return }
                    sealedOnB.append((message, ciphertext))
                }
            },
        ]
        try await Task.sleep(for: .milliseconds(1500))
        kill(b.process.processIdentifier, SIGKILL)
        // Each loop ends at its first failed call to the killed node. (Not cancelled:
        // cancelling a task inside FoundationNetworking's async `data(for:)` on Linux can
        // deadlock the runtime's task-status lock against the completion; a run hung here.)
        for task in load { _ = await task.value }
        let latest = await call(a.base + "/v1/keys/shared", key: admin)?.body["latestVersion"] as? Int
        #expect(acknowledged.value > 0 && (latest ?? 0) >= acknowledged.value, "acknowledged v\(acknowledged.value), stored v\(latest ?? 0)")
        let versions = await call(a.base + "/v1/keys/shared", key: admin)?.body["versions"] as? [[String: Any]]
        #expect(versions?.compactMap { $0["version"] as? Int } == Array(1...(latest ?? 1)))
        #expect(!created.all.isEmpty && !sealedOnB.all.isEmpty, "the load ran: \(created.all.count) keys, \(sealedOnB.all.count) ciphertexts")
        for name in created.all {
            #expect(await call(a.base + "/v1/keys/\(name)", key: admin)?.status == 200, "acknowledged key \(name) lost")
        }
        for (message, ciphertext) in sealedOnB.all {
            let opened = await call(a.base + "/v1/keys/shared/decrypt", key: admin, json: #"{"ciphertext":"\#(ciphertext)"}"#)
            #expect(opened?.body["plaintext"] as? String == message)
        }
    }
}

final class Collected<Element: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Element] = []
    func append(_ item: Element) { lock.lock(); items.append(item); lock.unlock() }
    var all: [Element] { lock.lock(); defer { lock.unlock() }; return items }
}

final class Lockbox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = 0
    func set(_ value: Int) { lock.lock(); stored = max(stored, value); lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return stored }
}
