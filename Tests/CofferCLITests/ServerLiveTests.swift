import CofferTestSupport
import Foundation
import Testing

/// `coffer server` started for real: HTTPS with the self-signed certificate it makes, curl as
/// the client, SIGTERM to stop, and a restart on the same data directory.
@Suite("coffer server, live", .serialized)
struct ServerLiveTests {
    func start(_ dataDirectory: String, _ extra: [String] = []) throws -> LiveServer {
        try LiveServer.start(["--data-dir", dataDirectory] + extra)
    }

    /// Rewrites an SQLite store without its row tags (docs/FORMAT.md, "Authenticated rows"):
    /// each body without its 33-byte framing, the store row at `"v": 1` without a row key — what
    /// a database writer can do. Given a root key file as well, it also re-seals the store's
    /// check value under the purpose an older Coffer used (AES-256-GCM-SIV from Python's
    /// `cryptography`, an independent implementation of the sealing format): the store is then
    /// what a Coffer from before row tags wrote, which only the root key's holder can make.
    static let stripRowTags = """
        import base64, json, os, sqlite3, sys
        from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV
        db = sqlite3.connect(sys.argv[1])
        for kind, id, body in db.execute("SELECT kind, id, body FROM records").fetchall():
            body = bytes(body)[33:]
            if kind == "meta" and id == "store":
                meta = json.loads(body)
                meta["v"] = 1
                del meta["rowKey"]
                if len(sys.argv) > 2:
                    text = open(sys.argv[2]).read().strip()[len("COFFER-ROOT-KEY-"):]
                    key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))[:32]
                    store_id = bytes.fromhex(meta["storeID"])
                    ad = b"coffer-store/v1/root-key-check" + b"\\x00" + store_id + b"\\x00\\x00" + b"\\x00\\x00\\x00\\x00"
                    nonce = os.urandom(12)
                    sealed = bytes([1, 1]) + bytes.fromhex(meta["rootKeyID"]) + nonce + AESGCMSIV(key).encrypt(nonce, os.urandom(32), ad)
                    meta["check"] = base64.urlsafe_b64encode(sealed).decode().rstrip("=")
                body = json.dumps(meta, sort_keys=True, separators=(",", ":")).encode()
            db.execute("UPDATE records SET body = ? WHERE kind = ? AND id = ?", (body, kind, id))
        for name, version, body in db.execute("SELECT name, version, body FROM key_versions").fetchall():
            db.execute("UPDATE key_versions SET body = ? WHERE name = ? AND version = ?", (bytes(body)[33:], name, version))
        db.commit()
        db.close()
        """

    /// Runs ``stripRowTags`` on `database` (and `rootKeyFile`, to make a genuine older store).
    func stripRowTags(_ database: String, rootKeyFile: String? = nil) throws {
        let strip = Process()
        strip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        strip.arguments = ["python3", "-c", Self.stripRowTags, database] + (rootKeyFile.map { [$0] } ?? [])
        try strip.run()
        strip.waitUntilExit()
        #expect(strip.terminationStatus == 0)
    }

    @Test func startsOnItsEmbeddedDefaultServesHTTPSAndRestarts() throws {
        let workspace = try Workspace()
        let data = workspace.path("data")
        let first = try start(data)
        defer { if first.process.isRunning { first.process.terminate() } }
        let adminKey = try #require(first.adminKey)
        TestSecrets.record(adminKey)
        let base = "https://127.0.0.1:\(first.port)"
        let tls = ["--cacert", data + "/tls/cert.pem", "-H", "Authorization: Bearer \(adminKey)"]
        #expect(try curl(tls + ["\(base)/v1/keys", "-X", "POST"], body: #"{"name":"live","type":"aes256-gcm"}"#).out.contains("\"name\":\"live\""))
        let plaintext = Data("live secret 9311".utf8).base64EncodedString()
        TestSecrets.record("live secret 9311", plaintext)
        let sealed = try curl(tls + ["\(base)/v1/keys/live/encrypt"], body: #"{"plaintext":"\#(plaintext)"}"#).out
        let ciphertext = try #require((try JSONSerialization.jsonObject(with: Data(sealed.utf8)) as? [String: Any])?["ciphertext"] as? String)
        #expect(try curl(tls + ["\(base)/v1/keys/live/decrypt"], body: #"{"ciphertext":"\#(ciphertext)"}"#).out.contains(plaintext))
        // TLS only, 1.2 or newer; plain HTTP on the TLS port fails; no key → 401.
        #expect(try curl(["--tlsv1.1", "--tls-max", "1.1", "--cacert", data + "/tls/cert.pem", "\(base)/v1/health/live"]).status != 0)
        #expect(try curl(["http://127.0.0.1:\(first.port)/v1/health/live"]).out.contains("ok") == false)
        #expect(try curl(["--cacert", data + "/tls/cert.pem", "\(base)/v1/keys"]).out.contains("unauthenticated"))

        let stopping = Date()
        first.process.terminate()  // SIGTERM: graceful shutdown
        first.process.waitUntilExit()
        #expect(first.process.terminationStatus == 0)
        #expect(Date().timeIntervalSince(stopping) < 5, "graceful shutdown must not wait on the idle rotation scheduler")

        // Restart: same store, same certificate, no second admin key.
        let second = try start(data)
        defer { if second.process.isRunning { second.process.terminate() } }
        #expect(!second.firstLines.contains("Admin API key"))
        let again = ["--cacert", data + "/tls/cert.pem", "-H", "Authorization: Bearer \(adminKey)"]
        #expect(try curl(again + ["https://127.0.0.1:\(second.port)/v1/keys/live/decrypt"], body: #"{"ciphertext":"\#(ciphertext)"}"#).out.contains(plaintext))
        second.process.terminate()
        second.process.waitUntilExit()

        // The server logs the store's id and suggests pinning it; pinned to another id, it refuses
        // to start on this database, and pinned to its own, it serves as before.
        let storeLine = try #require(second.log.split(separator: "\n").first { $0.contains("set store.id") }, "\(second.log)")
        let storeID = try #require(storeLine.split(separator: " ").first { $0.count == 33 && $0.hasSuffix(";") }).dropLast()
        let wrongPin = try LiveServer.start(["--data-dir", data], environment: ["COFFER_STORE_ID": String(repeating: "0", count: 32)])
        wrongPin.process.waitUntilExit()
        #expect(wrongPin.process.terminationStatus != 0 && wrongPin.log.contains("store.id"), "\(wrongPin.log)")
        let pinned = try LiveServer.start(["--data-dir", data], environment: ["COFFER_STORE_ID": String(storeID)])
        defer { if pinned.process.isRunning { pinned.process.terminate() } }
        #expect(try curl(["--cacert", data + "/tls/cert.pem", "-H", "Authorization: Bearer \(adminKey)", "https://127.0.0.1:\(pinned.port)/v1/keys/live/decrypt"],
                         body: #"{"ciphertext":"\#(ciphertext)"}"#).out.contains(plaintext))
        #expect(!pinned.log.contains("set store.id"))
        pinned.process.terminate()
        pinned.process.waitUntilExit()

        // The break-glass for a lost admin key: a new one, made with the root key, printed once.
        let breakGlass = try workspace.coffer("server", "admin-key", "--data-dir", data)
        let newAdmin = try #require(String(decoding: breakGlass.stdout, as: UTF8.self).split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        TestSecrets.record(newAdmin)
        #expect(breakGlass.status == 0 && newAdmin.hasPrefix("coffer-ak-"), "\(breakGlass.stderr)")
        let withNewAdmin = try start(data)
        defer { if withNewAdmin.process.isRunning { withNewAdmin.process.terminate() } }
        #expect(!withNewAdmin.firstLines.contains("Admin API key"))
        #expect(try curl(["--cacert", data + "/tls/cert.pem", "-H", "Authorization: Bearer \(newAdmin)", "https://127.0.0.1:\(withNewAdmin.port)/v1/keys/live/decrypt"],
                         body: #"{"ciphertext":"\#(ciphertext)"}"#).out.contains(plaintext))
        withNewAdmin.process.terminate()
        withNewAdmin.process.waitUntilExit()

        // The data directory is private, and the audit log verifies and holds no secret.
        let mode = try FileManager.default.attributesOfItem(atPath: data)[.posixPermissions] as? Int
        #expect(mode == 0o700)
        let audit = try String(contentsOfFile: data + "/audit.log", encoding: .utf8)
        #expect(!audit.contains(plaintext) && !audit.contains(adminKey) && !audit.contains(ciphertext))
        #expect(try workspace.coffer("audit", "verify", data + "/audit.log").status == 0)

        // Backup, restore into a new data directory, and root-key rotation, as an operator runs them.
        // Pointed at a mistyped data directory, backup and rotation fail and create nothing there.
        // So do they on a directory whose database holds no store (an empty file here; a wrong
        // PostgreSQL database is the same check): they do not initialise one under the root key.
        let typo = workspace.path("no-such-data"), empty = workspace.path("empty-data")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        try FileManager.default.copyItem(atPath: data + "/root.key", toPath: empty + "/root.key")
        _ = FileManager.default.createFile(atPath: empty + "/keys.sqlite", contents: nil)
        for directory in [typo, empty] {
            for command in [["backup", "-o", workspace.path("typo.backup")], ["rotate-root-key", "--new-root-key-file", workspace.path("typo-root.key")]] {
                let result = try CofferProcess.run(["server"] + command + ["--data-dir", directory], stdin: [], environment: [:], in: workspace.url)
                #expect(result.status != 0 && result.stderr.contains("no store"), "\(command) in \(directory): \(result.stderr)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: typo))
        #expect(!FileManager.default.fileExists(atPath: workspace.path("typo.backup")) && !FileManager.default.fileExists(atPath: workspace.path("typo-root.key")))
        let backup = try workspace.coffer("server", "backup", "--data-dir", data, "-o", workspace.path("store.backup"))
        #expect(backup.status == 0, "\(backup.stderr)")
        #expect((try FileManager.default.attributesOfItem(atPath: workspace.path("store.backup"))[.posixPermissions] as? Int) == 0o600)
        #expect(try workspace.coffer("server", "restore", "--data-dir", workspace.path("restored"), workspace.path("store.backup")).status == 0)
        #expect(try workspace.coffer("server", "restore", "--data-dir", workspace.path("restored"), workspace.path("store.backup")).status != 0, "restore needs an empty store")
        let rotated = try workspace.coffer("server", "rotate-root-key", "--data-dir", data, "--new-root-key-file", workspace.path("new-root.key"))
        #expect(rotated.status == 0 && String(decoding: rotated.stdout, as: UTF8.self).contains("re-sealed"), "\(rotated.stderr)")

        for (directory, rootKey) in [(workspace.path("restored"), data + "/root.key"), (data, workspace.path("new-root.key"))] {
            let node = try start(directory, ["--root-key-file", rootKey])
            defer { if node.process.isRunning { node.process.terminate() } }
            let auth = ["--cacert", directory + "/tls/cert.pem", "-H", "Authorization: Bearer \(adminKey)"]
            #expect(try curl(auth + ["https://127.0.0.1:\(node.port)/v1/keys/live/decrypt"], body: #"{"ciphertext":"\#(ciphertext)"}"#).out.contains(plaintext), "\(directory)")
            node.process.terminate()
            node.process.waitUntilExit()
        }
        // The restored copy with its row tags stripped, as a database writer could: a
        // downgrade, refused by the server and by `upgrade-store` alike. Then as a Coffer from
        // before row tags wrote it (which takes the root key): the server refuses it and names
        // the command, `upgrade-store` authenticates it once, and it serves as before.
        let restoredDatabase = workspace.path("restored") + "/keys.sqlite"
        let pristine = try Data(contentsOf: URL(fileURLWithPath: restoredDatabase))
        try stripRowTags(restoredDatabase)
        let downgraded = try start(workspace.path("restored"), ["--root-key-file", data + "/root.key"])
        downgraded.process.waitUntilExit()
        #expect(downgraded.process.terminationStatus != 0 && downgraded.log.contains("downgrade"), "\(downgraded.log)")
        let refusedUpgrade = try workspace.coffer("server", "upgrade-store", "--data-dir", workspace.path("restored"), "--root-key-file", data + "/root.key")
        #expect(refusedUpgrade.status != 0 && refusedUpgrade.stderr.contains("downgrade"), "\(refusedUpgrade.stderr)")
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: restoredDatabase + suffix) }
        try pristine.write(to: URL(fileURLWithPath: restoredDatabase))
        try stripRowTags(restoredDatabase, rootKeyFile: data + "/root.key")
        let refused = try start(workspace.path("restored"), ["--root-key-file", data + "/root.key"])
        refused.process.waitUntilExit()
        #expect(refused.process.terminationStatus != 0 && refused.log.contains("upgrade-store"), "\(refused.log)")
        let upgrade = try workspace.coffer("server", "upgrade-store", "--data-dir", workspace.path("restored"), "--root-key-file", data + "/root.key")
        let upgradeReport = String(decoding: upgrade.stdout, as: UTF8.self)
        #expect(upgrade.status == 0 && upgradeReport.contains("authenticated"), "\(upgrade.stderr)")
        // It lists what it trusted, for the operator to check: here the admin identity and policy.
        #expect(upgradeReport.contains("identity apikey:") && upgradeReport.contains("(policy admin)") && upgradeReport.contains("policy admin\n"), "\(upgradeReport)")
        let upgraded = try start(workspace.path("restored"), ["--root-key-file", data + "/root.key"])
        defer { if upgraded.process.isRunning { upgraded.process.terminate() } }
        let upgradedAuth = ["--cacert", workspace.path("restored") + "/tls/cert.pem", "-H", "Authorization: Bearer \(adminKey)"]
        #expect(try curl(upgradedAuth + ["https://127.0.0.1:\(upgraded.port)/v1/keys/live/decrypt"], body: #"{"ciphertext":"\#(ciphertext)"}"#).out.contains(plaintext))
        upgraded.process.terminate()
        upgraded.process.waitUntilExit()

        // The old root key no longer opens the rotated store.
        let stale = try start(data)
        stale.process.waitUntilExit()
        #expect(stale.process.terminationStatus != 0 && !stale.firstLines.contains("Listening on"))
    }
}
