import Foundation
import Testing

@testable import CofferCrypto

/// Runs `python3 -c script` with `input` on stdin and returns its stdout; throws on a non-zero exit.
enum PythonRunner {
    struct Failed: Error, CustomStringConvertible {
        let status: Int32
        let stderr: String
        var description: String { "python3 exited with \(status): \(stderr)" }
    }

    static func run(script: String, input: Data) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Write stdin and drain stdout/stderr concurrently so no pipe buffer can fill and block.
        let writer = Thread { stdin.fileHandleForWriting.write(input); try? stdin.fileHandleForWriting.close() }
        writer.start()
        nonisolated(unsafe) var errorOutput = Data()
        let errorReader = Thread { errorOutput = stderr.fileHandleForReading.readDataToEndOfFile() }
        errorReader.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while errorReader.isExecuting || !errorReader.isFinished { usleep(1000) }
        guard process.terminationStatus == 0 else {
            throw Failed(status: process.terminationStatus, stderr: String(decoding: errorOutput, as: UTF8.self))
        }
        return output
    }
}

/// Python `cryptography`'s Fernet as a peer: one python3 run answers every question of the suite.
///
/// Swift sends (as JSON on stdin) keys, Coffer-made tokens to open with TTL cases, and requests
/// for Python-made tokens; Python answers with its verdicts and its tokens. Both sides then must
/// agree, and both must match the expected verdict written in the case table.
enum PythonFernet {
    static let script = #"""
import json, sys
from cryptography.fernet import Fernet, MultiFernet, InvalidToken
req = json.load(sys.stdin)
keys = [Fernet(k) for k in req["keys"]]
def attempt(f, token, ttl, now):
    try:
        return (f.decrypt(token) if ttl is None else f.decrypt_at_time(token, ttl, now)).hex()
    except InvalidToken:
        return None
out = {
    "opened": [attempt(keys[c["key"]], c["token"], c["ttl"], c["now"]) for c in req["open"]],
    "timestamps": [keys[c["key"]].extract_timestamp(c["token"]) for c in req["timestamps"]],
    "made": [keys[c["key"]].encrypt_at_time(bytes.fromhex(c["plaintext"]), c["timestamp"]).decode() for c in req["make"]],
    "multiMade": MultiFernet(keys).encrypt(b"multi").decode(),
    "rotated": MultiFernet(keys).rotate(keys[1].encrypt_at_time(b"rotate me", 1234)).decode(),
    "generatedKey": Fernet.generate_key().decode(),
}
big = (bytes(range(256)) * (req["bigSize"] // 256 + 1))[:req["bigSize"]]
out["bigMade"] = keys[0].encrypt_at_time(big, 1234).decode()
out["bigOpened"] = keys[0].decrypt(req["bigToken"]) == big
print(json.dumps(out))
"""#

    struct Request: Encodable {
        struct Open: Encodable { let key: Int; let token: String; let ttl: Int64?; let now: Int64 }
        struct Timestamp: Encodable { let key: Int; let token: String }
        struct Make: Encodable { let key: Int; let plaintext: String; let timestamp: UInt64 }
        let keys: [String]
        let open: [Open]
        let timestamps: [Timestamp]
        let make: [Make]
        let bigSize: Int
        let bigToken: String

        func encode(to encoder: any Encoder) throws {
            // Explicit nulls for a missing TTL (Python reads c["ttl"]).
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(keys, forKey: .keys)
            try container.encode(timestamps, forKey: .timestamps)
            try container.encode(make, forKey: .make)
            try container.encode(bigSize, forKey: .bigSize)
            try container.encode(bigToken, forKey: .bigToken)
            var list = container.nestedUnkeyedContainer(forKey: .open)
            for item in open {
                var entry = list.nestedContainer(keyedBy: OpenKeys.self)
                try entry.encode(item.key, forKey: .key)
                try entry.encode(item.token, forKey: .token)
                try entry.encode(item.ttl, forKey: .ttl)
                try entry.encode(item.now, forKey: .now)
            }
        }
        enum CodingKeys: String, CodingKey { case keys, open, timestamps, make, bigSize, bigToken }
        enum OpenKeys: String, CodingKey { case key, token, ttl, now }
    }

    struct Response: Decodable {
        let opened: [String?]
        let timestamps: [UInt64]
        let made: [String]
        let multiMade: String
        let rotated: String
        let generatedKey: String
        let bigMade: String
        let bigOpened: Bool
    }

    static let isAvailable: Bool = {
        let ok = (try? PythonRunner.run(script: "import cryptography.fernet", input: Data())) != nil
        if !ok { print("SKIP Fernet interop: \(skipReason)") }
        return ok
    }()
    static let skipReason: Comment = "python3 with the cryptography package is not available (scripts/test.sh installs it)"

    static func ask(_ request: Request) throws -> Response {
        let output = try PythonRunner.run(script: script, input: JSONEncoder().encode(request))
        return try JSONDecoder().decode(Response.self, from: output)
    }
}

@Suite(.enabled(if: PythonFernet.isAvailable, PythonFernet.skipReason))
struct FernetInteropTests {
    static let t: UInt64 = 1_700_000_000
    static let plaintexts: [[UInt8]] = [[], Array("hello".utf8), patternBytes(15), patternBytes(16), patternBytes(17), patternBytes(100_000)]

    /// Large enough to take the two-thread path on both sealing and opening.
    static let bigPlaintext = (0..<(FernetToken.parallelThreshold + 1000)).map { UInt8(truncatingIfNeeded: $0) }

    /// (timestamp, ttl, now, expected) — the same table Python is asked about.
    static let ttlCases: [(timestamp: UInt64, ttl: Int64?, now: Int64, valid: Bool)] = [
        (t, 60, Int64(t) + 60, true),  // exactly at the TTL
        (t, 60, Int64(t) + 61, false),  // one second past
        (t, 0, Int64(t), true),
        (t, -5, Int64(t), false),
        (t + 60, 10, Int64(t), true),  // future, within the 60 s skew
        (t + 61, 10, Int64(t), false),  // future, beyond it
        (t + 86_400, nil, Int64(t), true),  // no TTL: no check at all, even for the future
        (0, nil, Int64(t), true),
        (UInt64.max, 10, Int64(t), false),
        (UInt64.max, nil, Int64(t), true),
    ]

    /// Non-canonical spellings of a token that Python's lenient base64 accepts and Coffer refuses.
    static func lenientVariants(of token: String) -> [String] {
        [token + "\n", " " + token + " ", String(token.prefix(30)) + "\n" + String(token.dropFirst(30)),
         token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")]
    }

    struct Outcome {
        let request: PythonFernet.Request
        let response: PythonFernet.Response
        let keys: [Fernet]
        let cofferTokens: [String]  // plaintexts, then TTL cases, then lenient variants
        let rotated: String
    }

    /// One python3 run for the whole suite.
    static let outcome: Result<Outcome, any Error> = Result {
        let keys = [Fernet(key: Fernet.generateKey()), Fernet(key: Fernet.generateKey())]
        var open: [PythonFernet.Request.Open] = []
        var tokens: [String] = []
        for plaintext in plaintexts {
            let token = try keys[0].encrypt(plaintext, at: t)
            tokens.append(token)
            open.append(.init(key: 0, token: token, ttl: nil, now: 0))
        }
        for c in ttlCases {
            let token = try keys[0].encrypt(Array("ttl".utf8), at: c.timestamp)
            tokens.append(token)
            open.append(.init(key: 0, token: token, ttl: c.ttl, now: c.now))
        }
        let base = try keys[0].encrypt(Array("lenient".utf8), at: t)
        for variant in lenientVariants(of: base) where variant != base {
            tokens.append(variant)
            open.append(.init(key: 0, token: variant, ttl: nil, now: 0))
        }
        // A Coffer MultiFernet rotation from the second key to the first, for Python to open.
        let rotated = try MultiFernet(keys).rotate(try keys[1].encrypt(Array("old".utf8), at: 4321))
        open.append(.init(key: 0, token: rotated, ttl: nil, now: 0))
        let make = plaintexts.map { PythonFernet.Request.Make(key: 0, plaintext: Hex.encode($0), timestamp: t) }
            + ttlCases.map { PythonFernet.Request.Make(key: 0, plaintext: Hex.encode(Array("ttl".utf8)), timestamp: $0.timestamp) }
        let request = PythonFernet.Request(
            keys: keys.map(\.key.unsafeSecretText), open: open,
            timestamps: [.init(key: 0, token: rotated), .init(key: 0, token: tokens[1])], make: make,
            bigSize: bigPlaintext.count, bigToken: try keys[0].encrypt(bigPlaintext, at: t))
        return Outcome(request: request, response: try PythonFernet.ask(request), keys: keys, cofferTokens: tokens, rotated: rotated)
    }

    @Test func cofferTokensOpenInPython() throws {
        let outcome = try Self.outcome.get()
        for (index, plaintext) in Self.plaintexts.enumerated() {
            #expect(outcome.response.opened[index] == Hex.encode(plaintext))
        }
    }

    @Test func pythonTokensOpenInCoffer() throws {
        let outcome = try Self.outcome.get()
        for (index, plaintext) in Self.plaintexts.enumerated() {
            let token = outcome.response.made[index]
            #expect(try outcome.keys[0].decrypt(token) == plaintext)
            #expect(try outcome.keys[0].extractTimestamp(token) == Self.t)
        }
        #expect(try MultiFernet(outcome.keys).decrypt(outcome.response.multiMade) == Array("multi".utf8))
        #expect(try outcome.keys[0].decrypt(outcome.response.multiMade) == Array("multi".utf8))
        // A key Python generated works in Coffer.
        let pythonKey = try Fernet(key: outcome.response.generatedKey)
        #expect(try pythonKey.decrypt(try pythonKey.encrypt([1])) == [1])
    }

    /// Multi-megabyte tokens (the two-thread path) open on the other side.
    @Test func largeTokensInteroperate() throws {
        let outcome = try Self.outcome.get()
        #expect(outcome.response.bigOpened)
        #expect(try outcome.keys[0].decrypt(outcome.response.bigMade) == Self.bigPlaintext)
        #expect(try outcome.keys[0].extractTimestamp(outcome.response.bigMade) == 1234)
    }

    @Test func ttlVerdictsAgree() throws {
        let outcome = try Self.outcome.get()
        for (index, c) in Self.ttlCases.enumerated() {
            // Python's verdict on Coffer's token.
            let pythonVerdict = outcome.response.opened[Self.plaintexts.count + index] != nil
            #expect(pythonVerdict == c.valid, "Python on case \(index)")
            // Coffer's verdict on Python's token and on its own.
            let pythonToken = outcome.response.made[Self.plaintexts.count + index]
            for token in [pythonToken, outcome.cofferTokens[Self.plaintexts.count + index]] {
                let cofferVerdict = (try? outcome.keys[0].decrypt(token, ttl: c.ttl, at: c.now)) != nil
                #expect(cofferVerdict == c.valid, "Coffer on case \(index)")
            }
            // Same timestamp stamped by both sides.
            #expect(try outcome.keys[0].extractTimestamp(pythonToken) == c.timestamp)
        }
    }

    /// Where Coffer decodes more strictly: Python opens these spellings, Coffer refuses them.
    @Test func strictDecodingIsDocumentedDifference() throws {
        let outcome = try Self.outcome.get()
        let start = Self.plaintexts.count + Self.ttlCases.count
        let variants = outcome.cofferTokens[start..<(outcome.cofferTokens.count)]
        #expect(variants.count == 4)
        for (offset, variant) in variants.enumerated() {
            #expect(outcome.response.opened[start + offset] == Hex.encode(Array("lenient".utf8)), "Python accepts variant \(offset)")
            #expect(throws: CofferCryptoError.authenticationFailed) { try outcome.keys[0].decrypt(variant) }
        }
    }

    @Test func rotationInteroperates() throws {
        let outcome = try Self.outcome.get()
        // Coffer's rotate: Python opens it under the first key, with the original timestamp.
        #expect(outcome.response.opened.last! == Hex.encode(Array("old".utf8)))
        #expect(outcome.response.timestamps[0] == 4321)
        #expect(outcome.response.timestamps[1] == Self.t)
        // Python's rotate: Coffer opens it under the first key, with the original timestamp.
        #expect(try outcome.keys[0].decrypt(outcome.response.rotated) == Array("rotate me".utf8))
        #expect(try outcome.keys[0].extractTimestamp(outcome.response.rotated) == 1234)
        #expect(throws: CofferCryptoError.authenticationFailed) { try outcome.keys[1].decrypt(outcome.response.rotated) }
    }
}
