import CofferAudit
import CofferServer
import CofferStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Audit log")
struct AuditTests {
    func record(_ index: Int) -> AuditRecord {
        AuditRecord(time: "2026-11-23T20:00:0\(index % 10).000Z", requestID: "r\(index)", identity: "apikey:0123456789abcdef",
                    client: "127.0.0.1", operation: "encrypt", key: "k", version: 1, status: 200, error: nil)
    }

    func chain(_ count: Int) throws -> [[UInt8]] {
        var previous = AuditChain.genesis
        return try (0..<count).map { index in
            let (line, hash) = try AuditChain.line(for: record(index), after: previous)
            previous = hash
            return line
        }
    }

    func joined(_ lines: [[UInt8]]) -> [UInt8] { lines.flatMap { $0 + [0x0A] } }

    @Test func anEditRemovalInsertionReorderOrTruncationIsFound() throws {
        let lines = try chain(6)
        let intact = AuditChain.verify(joined(lines))
        #expect(intact.failure == nil && intact.verifiedLines == 6)

        var edited = lines
        edited[2] = Array(String(decoding: edited[2], as: UTF8.self).replacingOccurrences(of: "\"status\":200", with: "\"status\":201").utf8)
        #expect(AuditChain.verify(joined(edited)).failure?.line == 4)  // line 3's hash changed, so line 4 no longer follows

        var editedLast = lines
        editedLast[5] = Array(String(decoding: editedLast[5], as: UTF8.self).replacingOccurrences(of: "encrypt", with: "decrypt").utf8)
        // The last line has no successor; its own bytes are still checked against --expect-last.
        #expect(AuditChain.verify(joined(editedLast)).lastHash != intact.lastHash)

        var removed = lines
        removed.remove(at: 3)
        #expect(AuditChain.verify(joined(removed)).failure?.line == 4)

        var reordered = lines
        reordered.swapAt(1, 2)
        #expect(AuditChain.verify(joined(reordered)).failure?.line == 2)

        var inserted = lines
        inserted.insert(lines[1], at: 3)
        #expect(AuditChain.verify(joined(inserted)).failure?.line == 4)

        // Same JSON meaning, different bytes (whitespace): not canonical.
        var respaced = lines
        respaced[0] = Array(String(decoding: respaced[0], as: UTF8.self).replacingOccurrences(of: ",", with: ", ").utf8)
        #expect(AuditChain.verify(joined(respaced)).failure?.line == 1)

        #expect(AuditChain.verify(Array(joined(lines).dropLast(5))).failure != nil)
        // Removing the first line: the new first line does not follow the genesis value.
        #expect(AuditChain.verify(joined(Array(lines.dropFirst()))).failure?.line == 1)
        #expect(AuditChain.verify(joined(Array(lines.dropFirst())), startingAfter: nil).failure == nil)
    }

    @Test func theLogRotatesContinuesItsChainAndSetsABrokenFileAside() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("audit.log").path
        do {
            let log = try AuditLog(sink: .file(path: path, rotateAtBytes: 2000))
            for index in 0..<20 { log.append(record(index)) }
            log.flush()
        }
        // Reopened: the chain continues from the last line.
        do {
            let log = try AuditLog(sink: .file(path: path, rotateAtBytes: 2000))
            #expect(log.startupProblem == nil)
            for index in 20..<25 { log.append(record(index)) }
            log.flush()
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("audit.log") }
        #expect(files.count >= 3)
        let ordered = (1..<files.count).reversed().map { "\(path).\($0)" } + [path]
        var previous: String? = AuditChain.genesis
        var total = 0
        for file in ordered {
            let result = AuditChain.verify(Array(try Data(contentsOf: URL(fileURLWithPath: file))), startingAfter: previous)
            #expect(result.failure == nil, "\(file)")
            total += result.verifiedLines
            previous = result.lastHash
        }
        #expect(total == 25)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        // A log edited while the server was down is moved aside, not appended to.
        do {
            let log = try AuditLog(sink: .file(path: path, rotateAtBytes: 1 << 20))
            for index in 25..<28 { log.append(record(index)) }
        }
        let current = try String(contentsOfFile: path, encoding: .utf8)
        #expect(current.split(separator: "\n").count >= 2)
        let tampered = current.replacingOccurrences(of: "\"status\":200", with: "\"status\":500", options: [], range: current.range(of: "\"status\":200"))
        try tampered.write(toFile: path, atomically: false, encoding: .utf8)
        let log = try AuditLog(sink: .file(path: path, rotateAtBytes: 1 << 20))
        #expect(log.startupProblem?.contains("moved to") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).contains { $0.contains(".broken-") })
    }

    @Test func everyRequestIsAuditedWithoutSecrets() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("audit.log").path
        let log = try AuditLog(sink: .file(path: path, rotateAtBytes: 1 << 20))
        let fixture = try await ServerFixture.make()
        let application = Application(router: CofferServerApplication.buildRouter(store: fixture.store, audit: log))
        let adminKey = fixture.adminKey
        let plaintext = Data("the secret plaintext 8472".utf8).base64EncodedString()
        try await application.test(.router) { client in
            let client = ServerFixture.Client(client: client, key: adminKey)
            try await client.call(.post, "/v1/keys", json: #"{"name":"audited","type":"aes256-gcm"}"#)
            let sealed = try await client.call(.post, "/v1/keys/audited/encrypt", json: #"{"plaintext":"\#(plaintext)","context":{"patient":"jane-doe-771"}}"#)
            try await client.call(.post, "/v1/keys/audited/decrypt", json: #"{"ciphertext":"\#(sealed.body.string("ciphertext")!)","context":{"patient":"jane-doe-771"}}"#)
            try await client.call(.get, "/v1/keys", key: "coffer-ak-0000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            try await client.call(.post, "/v1/keys/missing/encrypt", json: #"{"plaintext":"AA=="}"#)
        }
        log.flush()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let records = try text.split(separator: "\n").map { try JSONDecoder().decode(AuditRecord.self, from: Data($0.utf8)) }
        #expect(records.count == 5)
        #expect(records.map(\.operation) == ["key.create", "encrypt", "decrypt", "GET /v1/keys", "encrypt"])
        #expect(records[1].key == "audited" && records[1].version == 1 && records[1].status == 200)
        #expect(records[3].status == 401 && records[3].error == "unauthenticated" && records[3].identity == "-")
        #expect(records[4].status == 404 && records[4].error == "key_not_found")
        #expect(Set(records.map(\.requestID)).count == 5)
        for secret in [plaintext, "jane-doe-771", adminKey, String(adminKey.suffix(20)), "the secret plaintext"] {
            #expect(!text.contains(secret))
        }
        #expect(AuditChain.verify(Array(text.utf8)).failure == nil)
    }
}
