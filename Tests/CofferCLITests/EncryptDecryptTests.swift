import Foundation
import Testing

/// `coffer encrypt` / `coffer decrypt` end to end, run as subprocesses.
@Suite struct EncryptDecryptTests {
    static let keys = KeyFixtures.shared
    static let kinds = ["x25519", "xwing", "rsa-2048"]

    /// Several read buffers' worth (512 KiB each) from regular files, where the next read runs
    /// while the helper threads work, and from pipes, where it does not; every combination
    /// decrypts to the same bytes.
    @Test func largeInputsFromFilesAndPipes() throws {
        let work = try Workspace()
        let plaintext = patternBytes(3 * 1024 * 1024 + 17)
        try work.write("big", plaintext)
        let recipient = Self.keys.recipients["x25519"]!, identity = Self.keys.identityPath("x25519")
        // Through a shell: `cat … |` makes standard input a real pipe (the harness's is a file).
        func piped(_ command: String) throws -> Int32 {
            let shell = Process()
            shell.executableURL = URL(fileURLWithPath: "/bin/sh")
            shell.arguments = ["-c", command]
            shell.currentDirectoryURL = work.url
            shell.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("COFFER_") }
                .merging(Self.keys.environment) { $1 }.merging(["COFFER": CofferProcess.executable.path]) { $1 }
            try shell.run()
            shell.waitUntilExit()
            return shell.terminationStatus
        }
        #expect(try work.coffer("encrypt", "-r", recipient, "-o", "big.file.coffer", "big").status == 0)
        #expect(try piped("cat big | \"$COFFER\" encrypt -r \(recipient) > big.pipe.coffer") == 0)
        for name in ["big.file.coffer", "big.pipe.coffer"] {
            let fromFile = try work.coffer("decrypt", "-i", identity, "-o", name + ".out", name, environment: Self.keys.environment)
            #expect(fromFile.status == 0, "\(fromFile.stderr)")
            #expect(try work.read(name + ".out") == plaintext)
            #expect(try piped("cat \(name) | \"$COFFER\" decrypt -i '\(identity)' > \(name).piped") == 0)
            #expect(try work.read(name + ".piped") == plaintext)
        }
    }

    @Test(arguments: kinds)
    func roundTripPerRecipientKind(kind: String) throws {
        let work = try Workspace()
        let plaintext = patternBytes(50_000)
        try work.write("plain", plaintext)
        let encrypted = try work.coffer("encrypt", "-r", Self.keys.recipients[kind]!, "-o", "plain.coffer", "plain")
        #expect(encrypted.status == 0, "\(encrypted.stderr)")
        let decrypted = try work.coffer(
            "decrypt", "-i", Self.keys.identityPath(kind), "-o", "plain.out", "plain.coffer", environment: Self.keys.environment)
        #expect(decrypted.status == 0, "\(decrypted.stderr)")
        #expect(try work.read("plain.out") == plaintext)
        let mode = try FileManager.default.attributesOfItem(atPath: work.path("plain.out"))[.posixPermissions] as? Int
        #expect(mode == 0o600, "decrypted files are private by default")
        #expect(try work.entries() == ["plain", "plain.coffer", "plain.out"])
    }

    @Test func passphraseFromFileAndEnvironment() throws {
        let work = try Workspace()
        try work.write("pw", "a passphrase for the test\n")
        let plaintext = patternBytes(1000)
        let sealed = try work.coffer("encrypt", "--passphrase-file", "pw", "--work-factor", "15", stdin: plaintext)
        #expect(sealed.status == 0, "\(sealed.stderr)")
        // Decrypt asks for the passphrase only because the file has a passphrase stanza.
        let opened = try work.coffer("decrypt", stdin: sealed.stdout, environment: ["COFFER_PASSPHRASE": "a passphrase for the test"])
        #expect(opened.status == 0, "\(opened.stderr)")
        #expect(opened.stdout == plaintext)
        let wrong = try work.coffer("decrypt", stdin: sealed.stdout, environment: ["COFFER_PASSPHRASE": "not it"])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("decryption failed"))
        #expect(wrong.stdout.isEmpty)
    }

    /// A hostile file asking for scrypt 2^30 is refused at once with its own message.
    @Test func hostileWorkFactor() throws {
        let work = try Workspace()
        try work.write("pw", "pw")
        var sealed = try work.coffer("encrypt", "--passphrase-file", "pw", "--work-factor", "15", stdin: [1, 2, 3]).stdout
        // magic 4, version 1, count 1, stanza type 1, length 2, KDF id 1, then log2(N).
        #expect(sealed[9] == 2 && sealed[10] == 15)
        sealed[10] = 30
        let start = Date()
        let result = try work.coffer("decrypt", "--passphrase-file", "pw", stdin: sealed)
        #expect(result.status == 2)
        #expect(result.stderr.contains("scrypt work factor"))
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test func multipleRecipientsAndRecipientFiles() throws {
        let work = try Workspace()
        try work.write("recipients", "# team keys\n\(Self.keys.recipients["xwing"]!)\n\n\(Self.keys.recipients["rsa-2048"]!)\n")
        let plaintext = patternBytes(70_000)
        let sealed = try work.coffer("encrypt", "-r", Self.keys.recipients["x25519"]!, "-R", "recipients", stdin: plaintext)
        #expect(sealed.status == 0, "\(sealed.stderr)")
        for kind in Self.kinds {
            let opened = try work.coffer("decrypt", "-i", Self.keys.identityPath(kind), stdin: sealed.stdout, environment: Self.keys.environment)
            #expect(opened.status == 0 && opened.stdout == plaintext, "\(kind): \(opened.stderr)")
        }
    }

    @Test func armorRoundTripThroughPipes() throws {
        let work = try Workspace()
        let plaintext = patternBytes(33_000)
        let sealed = try work.coffer("encrypt", "--armor", "-r", Self.keys.recipients["x25519"]!, stdin: plaintext)
        #expect(sealed.status == 0)
        let text = String(decoding: sealed.stdout, as: UTF8.self)
        #expect(text.hasPrefix("-----BEGIN COFFER ENCRYPTED FILE-----\n"))
        #expect(text.hasSuffix("-----END COFFER ENCRYPTED FILE-----\n"))
        let opened = try work.coffer("decrypt", "-i", Self.keys.identityPath("x25519"), stdin: sealed.stdout, environment: Self.keys.environment)
        #expect(opened.status == 0 && opened.stdout == plaintext, "\(opened.stderr)")
    }

    @Test func emptyInput() throws {
        let work = try Workspace()
        let sealed = try work.coffer("encrypt", "-r", Self.keys.recipients["x25519"]!)
        #expect(sealed.status == 0 && !sealed.stdout.isEmpty)
        let opened = try work.coffer("decrypt", "-i", Self.keys.identityPath("x25519"), stdin: sealed.stdout, environment: Self.keys.environment)
        #expect(opened.status == 0 && opened.stdout.isEmpty)
        let nothing = try work.coffer("decrypt", "-i", Self.keys.identityPath("x25519"), environment: Self.keys.environment)
        #expect(nothing.status == 1 && nothing.stderr.contains("empty"))
    }

    /// Ranges at and around chunk boundaries, from a seekable file (random access) and from a
    /// pipe (streamed and discarded), agree with slicing the plaintext.
    @Test func rangesAtChunkBoundaries() throws {
        let work = try Workspace()
        let chunk = 16_384
        let plaintext = patternBytes(3 * chunk + 5)
        try work.write("plain", plaintext)
        #expect(try work.coffer("encrypt", "-r", Self.keys.recipients["x25519"]!, "-o", "c", "plain").status == 0)
        let ciphertext = try work.read("c")
        let ranges: [(String, Range<Int>)] = [
            ("0-0", 0..<1), ("\(chunk - 1)-\(chunk)", (chunk - 1)..<(chunk + 1)), ("\(chunk)-\(2 * chunk - 1)", chunk..<(2 * chunk)),
            ("\(3 * chunk)-\(3 * chunk + 4)", (3 * chunk)..<(3 * chunk + 5)), ("100-", 100..<plaintext.count),
            ("\(3 * chunk + 2)-999999999", (3 * chunk + 2)..<plaintext.count),
        ]
        for (argument, expected) in ranges {
            let fromFile = try work.coffer("decrypt", "-i", Self.keys.identityPath("x25519"), "--range", argument, "c", environment: Self.keys.environment)
            #expect(fromFile.status == 0 && fromFile.stdout == Array(plaintext[expected]), "file \(argument): \(fromFile.stderr)")
            let fromPipe = try work.coffer("decrypt", "-i", Self.keys.identityPath("x25519"), "--range", argument, stdin: ciphertext, environment: Self.keys.environment)
            #expect(fromPipe.status == 0 && fromPipe.stdout == Array(plaintext[expected]), "pipe \(argument): \(fromPipe.stderr)")
        }
        for bad in ["5-4", "x-1", "-5", "\(plaintext.count)-"] {
            let result = try work.coffer("decrypt", "-i", Self.keys.identityPath("x25519"), "--range=\(bad)", "c", environment: Self.keys.environment)
            #expect(result.status == 2 && result.stdout.isEmpty, "\(bad): \(result.stderr)")
        }
    }
}
