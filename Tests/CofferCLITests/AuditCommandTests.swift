import CofferAudit
import Foundation
import Testing

@Suite("coffer audit verify")
struct AuditCommandTests {
    func log(_ count: Int, after start: String = AuditChain.genesis) throws -> (text: String, last: String) {
        var previous = start
        var text = ""
        for index in 0..<count {
            let record = AuditRecord(time: "2026-11-23T20:00:00.000Z", requestID: "r\(index)", identity: "apikey:0123456789abcdef",
                                     client: "127.0.0.1", operation: "decrypt", key: "k", version: 1, status: 200, error: nil)
            let (line, hash) = try AuditChain.line(for: record, after: previous)
            text += String(decoding: line, as: UTF8.self) + "\n"
            previous = hash
        }
        return (text, previous)
    }

    @Test func verifiesChainsAcrossRotatedFilesAndNamesTheFirstBrokenLine() throws {
        let workspace = try Workspace()
        let (older, olderLast) = try log(4)
        let (newer, last) = try log(3, after: olderLast)
        try workspace.write("audit.log.1", older)
        try workspace.write("audit.log", newer)
        let ok = try workspace.coffer("audit", "verify", "audit.log.1", "audit.log", "--expect-last", last)
        #expect(ok.status == 0 && String(decoding: ok.stdout, as: UTF8.self).contains("7 lines verified"))
        // Out of order, or a newer file alone, does not verify from the start of the chain.
        #expect(try workspace.coffer("audit", "verify", "audit.log", "audit.log.1").status == 1)
        #expect(try workspace.coffer("audit", "verify", "--continuing", "audit.log").status == 0)

        var lines = newer.split(separator: "\n").map(String.init)
        lines[0] = lines[0].replacingOccurrences(of: "decrypt", with: "encrypt")
        try workspace.write("audit.log", lines.joined(separator: "\n") + "\n")
        let broken = try workspace.coffer("audit", "verify", "audit.log.1", "audit.log")
        #expect(broken.status == 1 && broken.stderr.contains("audit.log line 2"))
        // Dropping the last line is caught only against a hash kept elsewhere.
        try workspace.write("audit.log", newer.split(separator: "\n").dropLast().joined(separator: "\n") + "\n")
        #expect(try workspace.coffer("audit", "verify", "audit.log.1", "audit.log").status == 0)
        #expect(try workspace.coffer("audit", "verify", "audit.log.1", "audit.log", "--expect-last", last).status == 1)
        #expect(try workspace.coffer("audit", "verify", "missing.log").status == 3)
    }
}
