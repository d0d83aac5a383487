import CofferCrypto
import Foundation
import Testing

/// Python `cryptography` as the peer of `coffer fernet`: tokens cross the process boundary in
/// both directions, exactly as in a migration.
enum PythonPeer {
    static let isAvailable: Bool = (try? run("import cryptography.fernet")) != nil
    static let skipReason: Comment = "python3 with the cryptography package is not available (scripts/test.sh installs it)"

    /// Runs `python3 -c script` with `environment` added; returns stdout, throws on failure.
    static func run(_ script: String, environment: [String: String] = [:]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PythonFailure(message: String(decoding: errors, as: UTF8.self))
        }
        return String(decoding: output, as: UTF8.self)
    }

    struct PythonFailure: Error, CustomStringConvertible {
        let message: String
        var description: String { "python3 failed: \(message)" }
    }
}

func lines(_ bytes: [UInt8]) -> [String] {
    String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
}

@Suite(.enabled(if: PythonPeer.isAvailable, PythonPeer.skipReason))
struct FernetCommandTests {
    @Test func generatedKeyIsPrivateAndPythonCompatible() throws {
        let work = try Workspace()
        #expect(try work.coffer("fernet", "generate-key", "-o", "key").status == 0)
        var info = stat()
        #expect(stat(work.path("key"), &info) == 0 && info.st_mode & 0o777 == 0o600)
        let key = try work.read("key")
        #expect(key.count == 45 && key.last == 0x0A)
        // Python accepts it as a Fernet key.
        _ = try PythonPeer.run("import os; from cryptography.fernet import Fernet; Fernet(os.environ['K'].encode())",
                               environment: ["K": String(decoding: key.dropLast(), as: UTF8.self)])
        // No overwrite without --force.
        let again = try work.coffer("fernet", "generate-key", "-o", "key")
        #expect(try again.status == 4 && work.read("key") == key)
        #expect(try work.coffer("fernet", "generate-key", "-o", "key", "--force").status == 0)
        #expect(try work.read("key") != key)
    }

    @Test func tokensCrossToPythonAndBack() throws {
        let work = try Workspace()
        try work.coffer("fernet", "generate-key", "-o", "key")
        let key = String(decoding: try work.read("key").dropLast(), as: UTF8.self)
        let messages = ["first line", "", "ünïcödé ✓", "tab\there"]
        let encrypted = try work.coffer("fernet", "encrypt", "--key-file", "key", stdin: Array((messages.joined(separator: "\n") + "\n").utf8))
        #expect(encrypted.status == 0, "\(encrypted.stderr)")
        let tokens = lines(encrypted.stdout)
        #expect(tokens.count == messages.count && Set(tokens).count == tokens.count)
        // Python opens every Coffer token…
        let opened = try PythonPeer.run("""
            import os, sys
            from cryptography.fernet import Fernet
            f = Fernet(os.environ['K'].encode())
            for t in os.environ['T'].split():
                sys.stdout.buffer.write(f.decrypt(t.encode(), ttl=3600).hex().encode() + b'\\n')
            """, environment: ["K": key, "T": tokens.joined(separator: " ")])
        #expect(opened.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
                == messages.map { Data($0.utf8).map { String(format: "%02x", $0) }.joined() })
        // …and Coffer opens Python's, keys from the environment, CRLF line endings tolerated.
        let pythonTokens = try PythonPeer.run("""
            import os
            from cryptography.fernet import Fernet
            f = Fernet(os.environ['K'].encode())
            for m in ['from python', 'second']: print(f.encrypt(m.encode()).decode(), end='\\r\\n')
            """, environment: ["K": key])
        let decrypted = try work.coffer("fernet", "decrypt", "--ttl", "3600", stdin: Array(pythonTokens.utf8), environment: ["COFFER_FERNET_KEYS": key])
        #expect(decrypted.status == 0 && lines(decrypted.stdout) == ["from python", "second"], "\(decrypted.stderr)")
    }

    @Test func rotateKeepsTimestampsAndMovesToTheFirstKey() throws {
        let work = try Workspace()
        let old = FernetKey.generate().unsafeSecretText, new = FernetKey.generate().unsafeSecretText
        try work.write("old", old + "\n")
        try work.write("ring", "# newest first\n\(new)\n\(old)  # retiring\n")
        try work.write("new", new + "\n")
        // Python made these with the old key, 500 s ago.
        let tokens = try PythonPeer.run("""
            import os, time
            from cryptography.fernet import Fernet
            f = Fernet(os.environ['K'].encode())
            for m in [b'a', b'b']: print(f.encrypt_at_time(m, int(time.time()) - 500).decode())
            """, environment: ["K": old])
        let rotated = try work.coffer("fernet", "rotate", "--key-file", "ring", stdin: Array(tokens.utf8))
        #expect(rotated.status == 0, "\(rotated.stderr)")
        #expect(lines(try work.coffer("fernet", "decrypt", "--key-file", "new", stdin: rotated.stdout).stdout) == ["a", "b"])
        #expect(try work.coffer("fernet", "decrypt", "--key-file", "old", stdin: rotated.stdout).status == 1)
        let check = try PythonPeer.run("""
            import os
            from cryptography.fernet import Fernet
            old, new = Fernet(os.environ['O'].encode()), Fernet(os.environ['N'].encode())
            before, after = os.environ['B'].split(), os.environ['A'].split()
            print(all(old.extract_timestamp(b.encode()) == new.extract_timestamp(a.encode()) for b, a in zip(before, after)))
            """, environment: ["O": old, "N": new, "B": tokens, "A": String(decoding: rotated.stdout, as: UTF8.self)])
        #expect(check == "True\n")
        // The TTL counts from the original time: 500 s old fails a 100 s TTL, passes 1000 s.
        #expect(try work.coffer("fernet", "decrypt", "--key-file", "new", "--ttl", "100", stdin: rotated.stdout).status == 1)
        #expect(try work.coffer("fernet", "decrypt", "--key-file", "new", "--ttl", "1000", stdin: rotated.stdout).status == 0)
    }

    @Test func binaryMessagesWholeAndBase64() throws {
        let work = try Workspace()
        try work.coffer("fernet", "generate-key", "-o", "key")
        let binary = patternBytes(3000) + [0x0A, 0x0D, 0x00]
        let token = try work.coffer("fernet", "encrypt", "--key-file", "key", "--whole", stdin: binary)
        #expect(token.status == 0 && lines(token.stdout).count == 1)
        let opened = try work.coffer("fernet", "decrypt", "--key-file", "key", "--whole", stdin: token.stdout)
        #expect(opened.status == 0 && opened.stdout == binary)
        // One line per message in base64; raw line output refuses a message with a line break.
        let encoded = Array((Data(binary).base64EncodedString() + "\n" + Data("x".utf8).base64EncodedString() + "\n").utf8)
        let lineTokens = try work.coffer("fernet", "encrypt", "--key-file", "key", "--encoding", "base64", stdin: encoded)
        let back = try work.coffer("fernet", "decrypt", "--key-file", "key", "--encoding", "base64", stdin: lineTokens.stdout)
        #expect(back.status == 0 && back.stdout == encoded)
        let raw = try work.coffer("fernet", "decrypt", "--key-file", "key", stdin: lineTokens.stdout)
        #expect(raw.status == 2 && raw.stdout.isEmpty && raw.stderr.contains("line 1:") && raw.stderr.contains("--encoding base64"))
    }

    @Test func failuresNameTheLineAndKeepEarlierOutput() throws {
        let work = try Workspace()
        try work.coffer("fernet", "generate-key", "-o", "key")
        try work.coffer("fernet", "generate-key", "-o", "other")
        let tokens = lines(try work.coffer("fernet", "encrypt", "--key-file", "key", stdin: Array("one\ntwo\nthree\n".utf8)).stdout)
        var tampered = Array(tokens[1].utf8)
        tampered[30] = tampered[30] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let input = Array((tokens[0] + "\n" + String(decoding: tampered, as: UTF8.self) + "\n" + tokens[2] + "\n").utf8)
        let result = try work.coffer("fernet", "decrypt", "--key-file", "key", stdin: input)
        #expect(result.status == 1 && lines(result.stdout) == ["one"])
        #expect(result.stderr == "coffer: error: line 2: invalid token: wrong key, tampered, malformed, or outside --ttl\n")
        // Wrong key: same message, nothing written.
        let wrong = try work.coffer("fernet", "decrypt", "--key-file", "other", stdin: Array((tokens[0] + "\n").utf8))
        #expect(wrong.status == 1 && wrong.stdout.isEmpty && wrong.stderr.contains("line 1: invalid token"))
        // Keys: none given, malformed (the message never repeats the key text), missing file.
        let none = try work.coffer("fernet", "encrypt", stdin: Array("x\n".utf8))
        #expect(none.status == 64 && none.stderr.contains("COFFER_FERNET_KEYS"))
        let secretLooking = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"
        try work.write("bad", secretLooking + "\n")
        let bad = try work.coffer("fernet", "encrypt", "--key-file", "bad", stdin: Array("x\n".utf8))
        #expect(bad.status == 2 && bad.stderr.contains("key 1 is not a Fernet key") && !bad.stderr.contains(secretLooking))
        let missing = try work.coffer("fernet", "decrypt", "--key-file", "nope", stdin: [])
        #expect(missing.status == 3 && missing.stderr.contains("nope"))
        // A key file others can read works, with a warning.
        chmod(work.path("key"), 0o644)
        let loose = try work.coffer("fernet", "encrypt", "--key-file", "key", stdin: Array("x\n".utf8))
        #expect(loose.status == 0 && loose.stderr.contains("accessible to other users"))
    }
}
