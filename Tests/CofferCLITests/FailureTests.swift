import Foundation
import Testing

/// Every bad input gets one clear line, the documented exit status, and leaves nothing behind.
@Suite struct FailureTests {
    static let keys = KeyFixtures.shared
    static let chunk = 16_384

    /// A ciphertext of three full chunks plus a short one, written to `c`.
    func sealedFile(_ work: Workspace) throws -> [UInt8] {
        try work.write("plain", patternBytes(3 * Self.chunk + 100))
        #expect(try work.coffer("encrypt", "-r", Self.keys.recipients["x25519"]!, "-o", "c", "plain").status == 0)
        return try work.read("c")
    }

    @Test func wrongIdentityLeavesNoOutput() throws {
        let work = try Workspace()
        _ = try sealedFile(work)
        let before = try work.entries()
        let result = try work.coffer("decrypt", "-i", Self.keys.identityPath("xwing"), "-o", "out", "c", environment: Self.keys.environment)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("coffer: error: decryption failed"))
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(try work.entries() == before, "no output and no temporary file")
    }

    /// Truncated, tampered and extended files all fail the same way with no output file.
    @Test func damagedFiles() throws {
        let work = try Workspace()
        let good = try sealedFile(work)
        let headerLength = 4 + 1 + 1 + 3 + 80 + 32
        var variants: [String: [UInt8]] = [
            "cut at a chunk boundary": Array(good.prefix(headerLength + 56 + 3 * (Self.chunk + 16))),
            "cut mid-chunk": Array(good.prefix(good.count - 50)),
            "extended": good + [0],
            "header only": Array(good.prefix(headerLength)),
        ]
        for offset in [10, headerLength - 1, headerLength + 30, headerLength + 56 + 5, good.count - 1] {
            var damaged = good
            damaged[offset] ^= 0x80
            variants["flipped byte \(offset)"] = damaged
        }
        for (name, bytes) in variants {
            try work.write("damaged", bytes)
            let before = try work.entries()
            let result = try work.coffer("decrypt", "-i", Self.keys.identityPath("x25519"), "-o", "out", "damaged", environment: Self.keys.environment)
            #expect(result.status == 1, "\(name)")
            #expect(result.stderr.contains("decryption failed"), "\(name): \(result.stderr)")
            #expect(try work.entries() == before, "\(name): nothing left behind")
        }
    }

    /// On stdout, authenticated chunks before the damage were written: the error says the
    /// output is incomplete, and nothing past the valid prefix was released.
    @Test func midStreamFailureOnStdout() throws {
        let work = try Workspace()
        var bytes = try sealedFile(work)
        bytes[bytes.count - 10] ^= 1
        let result = try work.coffer("decrypt", "-i", Self.keys.identityPath("x25519"), stdin: bytes, environment: Self.keys.environment)
        #expect(result.status == 1)
        #expect(result.stderr.contains("incomplete"))
        #expect(result.stdout.count % Self.chunk == 0 && result.stdout.count <= 3 * Self.chunk)
        #expect(result.stdout == Array(patternBytes(3 * Self.chunk + 100).prefix(result.stdout.count)))
    }

    @Test func overwriteProtection() throws {
        let work = try Workspace()
        _ = try sealedFile(work)
        try work.write("out", "keep me")
        let refused = try work.coffer("decrypt", "-i", Self.keys.identityPath("x25519"), "-o", "out", "c", environment: Self.keys.environment)
        #expect(refused.status == 4 && refused.stderr.contains("--force"))
        #expect(try work.read("out") == Array("keep me".utf8))
        let forced = try work.coffer("decrypt", "-i", Self.keys.identityPath("x25519"), "-o", "out", "--force", "--mode", "640", "c", environment: Self.keys.environment)
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try work.read("out") == patternBytes(3 * Self.chunk + 100))
        let mode = try FileManager.default.attributesOfItem(atPath: work.path("out"))[.posixPermissions] as? Int
        #expect(mode == 0o640)
    }

    /// `-o` naming a FIFO (or a device such as /dev/null) writes into it: it is not replaced by
    /// a renamed temporary file, which as root would have turned /dev/null into a regular file.
    @Test func outputToAFIFOWritesIntoIt() throws {
        let work = try Workspace()
        _ = try sealedFile(work)
        try #require(mkfifo(work.path("pipe"), 0o600) == 0)
        // A reader on the FIFO, as a consumer process would be.
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/sh")
        reader.arguments = ["-c", "cat '\(work.path("pipe"))' > '\(work.path("received"))'"]
        try reader.run()
        let result = try work.coffer("decrypt", "-i", Self.keys.identityPath("x25519"), "-o", "pipe", "c", environment: Self.keys.environment)
        reader.waitUntilExit()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try work.read("received") == patternBytes(3 * Self.chunk + 100))
        var info = stat()
        #expect(stat(work.path("pipe"), &info) == 0 && info.st_mode & S_IFMT == S_IFIFO, "the FIFO is still a FIFO")
        #expect(try work.entries().filter { $0.contains(".coffer-") }.isEmpty, "no temporary file")
    }

    @Test func inputErrors() throws {
        let work = try Workspace()
        try work.write("text", "hello, not encrypted\n")
        let notCoffer = try work.coffer("decrypt", "-i", Self.keys.identityPath("x25519"), "text", environment: Self.keys.environment)
        #expect(notCoffer.status == 1 && notCoffer.stderr.contains("not a Coffer file"))
        let missing = try work.coffer("encrypt", "-r", Self.keys.recipients["x25519"]!, "no-such-file")
        #expect(missing.status == 3 && missing.stderr.contains("no-such-file"))
        let badRecipient = try work.coffer("encrypt", "-r", Self.keys.recipients["x25519"]!, "-r", "coffer-x25519-AAAA", "text")
        #expect(badRecipient.status == 2 && badRecipient.stderr.contains("recipient 2"))
        let noRecipient = try work.coffer("encrypt", "text")
        #expect(noRecipient.status == 64)
        let noIdentity = try work.coffer("decrypt", stdin: try work.coffer("encrypt", "-r", Self.keys.recipients["x25519"]!, "text").stdout)
        #expect(noIdentity.status == 64 && noIdentity.stderr.contains("-i"))
        try work.write("sealed", try work.coffer("encrypt", "-r", Self.keys.recipients["x25519"]!, "text").stdout)
        let wrongIdentityPassphrase = try work.coffer(
            "decrypt", "-i", Self.keys.identityPath("x25519"), "sealed", environment: ["COFFER_IDENTITY_PASSPHRASE": "wrong"])
        #expect(wrongIdentityPassphrase.status == 1 && wrongIdentityPassphrase.stderr.contains("identity file"))
        let clearIdentity = try work.coffer("decrypt", "-i", "text", "sealed")
        #expect(clearIdentity.status == 2 && clearIdentity.stderr.contains("not an encrypted Coffer identity file"))
    }

    @Test func helpDocumentsExitStatuses() throws {
        let help = try Workspace().coffer("--help")
        let text = String(decoding: help.stdout, as: UTF8.self)
        #expect(help.status == 0)
        for line in ["EXIT STATUS", "0    success", "1    decryption failed", "130  interrupted", "COFFER_PASSPHRASE"] {
            #expect(text.contains(line), "\(line)")
        }
    }

    /// Ctrl-C while writing a file: the temporary file is removed and the status is 130.
    @Test func interruptRemovesPartialOutput() throws {
        let work = try Workspace()
        let fifo = work.path("slow-input")
        #expect(mkfifo(fifo, 0o600) == 0)
        let process = Process()
        process.executableURL = CofferProcess.executable
        process.arguments = ["encrypt", "-r", Self.keys.recipients["x25519"]!, "-o", "out", "slow-input"]
        process.currentDirectoryURL = work.url
        process.standardError = FileHandle.nullDevice
        try process.run()
        let writer = try FileHandle(forWritingTo: URL(fileURLWithPath: fifo))
        try writer.write(contentsOf: Data(patternBytes(2_000_000)))
        // The temporary output exists while input is still open.
        var sawTemporary = false
        for _ in 0..<100 where !sawTemporary {
            sawTemporary = try work.entries().contains { $0.hasPrefix(".out.coffer-") }
            if !sawTemporary { usleep(20_000) }
        }
        #expect(sawTemporary)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        try? writer.close()
        #expect(process.terminationStatus == 130)
        #expect(try work.entries() == ["slow-input"])
    }
}

extension FailureTests {
    @Test func passphraseAndRecipientsDoNotMix() throws {
        let work = try Workspace()
        try work.write("pass", "secret words\n")
        let result = try work.coffer("encrypt", "-r", Self.keys.recipients["x25519"]!, "--passphrase-file", "pass", stdin: [1, 2, 3])
        #expect(result.status == 64 && result.stdout.isEmpty && result.stderr.contains("cannot be combined with recipients"))
    }
}
