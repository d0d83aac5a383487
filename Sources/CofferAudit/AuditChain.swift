#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CofferCrypto
import CofferJSON
import Crypto

/// The hash chain over audit lines: each line carries the SHA-256 of the line before it, so
/// editing, removing, inserting or reordering any line breaks the chain at that point.
///
/// What it does not stop: someone who can rewrite the whole file can rebuild a consistent chain
/// from the point they edit. Ship lines off the host as they are written (stdout sink to a log
/// collector) and keep the last hash elsewhere (`coffer audit verify --expect-last`) for that.
public enum AuditChain {
    public static let genesis = String(repeating: "0", count: 64)

    /// The line for `record` chained after `previousHash`, and that line's own hash.
    public static func line(for record: AuditRecord, after previousHash: String) throws -> (line: [UInt8], hash: String) {
        // Members in sorted order, nil ones left out: the bytes JSONEncoder with `.sortedKeys`
        // writes for the record (the tests hold the two equal), at a fraction of the cost — one
        // line is written per request.
        var out = JSONOutput(reservingCapacity: 384)
        out.beginObject()
        out.member("client", record.client)
        out.member("error", ifPresent: record.error)
        out.member("identity", record.identity)
        out.member("key", ifPresent: record.key)
        out.member("operation", record.operation)
        out.member("prev", previousHash)
        out.member("requestID", record.requestID)
        out.member("status", record.status)
        out.member("time", record.time)
        out.member("version", ifPresent: record.version)
        out.endObject()
        return (out.bytes, hash(out.bytes))
    }

    public static func hash(_ line: some Sequence<UInt8>) -> String {
        Hex.encode(SHA256.hash(data: Array(line)))
    }

    /// The outcome of ``verify(_:startingAfter:)``.
    public struct Verification: Sendable, Equatable {
        /// Lines that verified.
        public let verifiedLines: Int
        /// The hash of the last verified line (to continue into the next file, or to compare
        /// with a copy kept elsewhere).
        public let lastHash: String
        /// The first line (1-based) that broke the chain, and why; `nil` when all verified.
        public let failure: (line: Int, reason: String)?

        public static func == (lhs: Verification, rhs: Verification) -> Bool {
            lhs.verifiedLines == rhs.verifiedLines && lhs.lastHash == rhs.lastHash && lhs.failure?.line == rhs.failure?.line
        }
    }

    /// Checks a log's bytes. `startingAfter` is the hash the first line must name: the genesis
    /// value for the first file ever written, the last hash of the previous file after a
    /// rotation, or `nil` to accept whatever the first line names (a file on its own).
    public static func verify(_ bytes: [UInt8], startingAfter: String? = genesis) -> Verification {
        var expected = startingAfter
        var count = 0
        var last = startingAfter ?? ""
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() } else if !lines.isEmpty {
            return Verification(verifiedLines: 0, lastHash: last, failure: (lines.count, "the last line is not terminated (truncated file)"))
        }
        for (index, line) in lines.enumerated() {
            guard let record = try? JSONDecoder().decode(AuditRecord.self, from: Data(line)) else {
                return Verification(verifiedLines: count, lastHash: last, failure: (index + 1, "not an audit record"))
            }
            if let expected, record.prev != expected {
                return Verification(verifiedLines: count, lastHash: last, failure: (index + 1, "does not follow the line before it (edited, removed, inserted or reordered)"))
            }
            // Canonical form: the line must be exactly what the writer produces for its record,
            // so an edit that keeps the JSON meaning but changes bytes is caught too.
            guard let canonical = try? AuditChain.line(for: record, after: record.prev), canonical.line == Array(line) else {
                return Verification(verifiedLines: count, lastHash: last, failure: (index + 1, "not in canonical form (edited)"))
            }
            last = canonical.hash
            expected = canonical.hash
            count += 1
        }
        return Verification(verifiedLines: count, lastHash: last, failure: nil)
    }
}
