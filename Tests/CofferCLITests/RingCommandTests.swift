import Foundation
import Testing

/// `coffer ring` end to end, run as subprocesses.
@Suite struct RingCommandTests {
    static let passphrase = "ring passphrase for the tests"

    /// A workspace with the passphrase in `pw` and a fresh ring `orders` in `r.ring` (scrypt at
    /// the cheapest accepted cost: debug builds run scrypt unoptimized).
    func workspaceWithRing(_ extra: String...) throws -> Workspace {
        let work = try Workspace()
        try work.write("pw", Self.passphrase + "\n")
        let created = try CofferProcess.run(
            ["ring", "create", "orders", "-o", "r.ring", "--passphrase-file", "pw", "--work-factor", "15"] + extra, in: work.url)
        #expect(created.status == 0, "\(created.stderr)")
        return work
    }

    func lines(_ bytes: [UInt8]) -> [String] {
        String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    func mode(_ work: Workspace, _ name: String) throws -> Int? {
        try FileManager.default.attributesOfItem(atPath: work.path(name))[.posixPermissions] as? Int
    }

    @Test func createRotateEncryptDecryptRewrapSetState() throws {
        let work = try workspaceWithRing("--compression-threshold", "100", "--rotation-period", "90")
        let pw = ["--passphrase-file", "pw"]
        #expect(try mode(work, "r.ring") == 0o600)
        #expect(try work.entries() == ["pw", "r.ring"], "no temporary files left behind")
        #expect(String(decoding: try work.read("r.ring"), as: UTF8.self).hasPrefix("coffer-key-ring: orders\n-----BEGIN COFFER ENCRYPTED FILE-----\n"))

        let plain = "first secret\n\nthird, after an empty line\n"
        let first = try CofferProcess.run(["ring", "encrypt", "r.ring", "--context", "tenant=acme"] + pw, stdin: Array(plain.utf8), in: work.url)
        #expect(first.status == 0, "\(first.stderr)")
        let oldEnvelopes = lines(first.stdout)
        #expect(oldEnvelopes.count == 3 && oldEnvelopes.allSatisfy { $0.hasPrefix("coffer:v1:") })

        let rotated = try CofferProcess.run(["ring", "rotate", "r.ring"] + pw, in: work.url)
        #expect(rotated.status == 0 && rotated.stdout == Array("orders/v2\n".utf8), "\(rotated.stderr)")
        #expect(try mode(work, "r.ring") == 0o600)
        #expect(try work.entries() == ["pw", "r.ring"])

        let second = try CofferProcess.run(["ring", "encrypt", "r.ring", "--context", "tenant=acme"] + pw, stdin: Array("after\n".utf8), in: work.url)
        let both = first.stdout + second.stdout
        let opened = try CofferProcess.run(["ring", "decrypt", "r.ring", "--context", "tenant=acme"] + pw, stdin: both, in: work.url)
        #expect(opened.status == 0 && opened.stdout == Array((plain + "after\n").utf8), "\(opened.stderr)")

        let wrongContext = try CofferProcess.run(["ring", "decrypt", "r.ring", "--context", "tenant=evil"] + pw, stdin: first.stdout, in: work.url)
        #expect(wrongContext.status == 1 && wrongContext.stdout.isEmpty)
        #expect(wrongContext.stderr.hasPrefix("coffer: error: line 1: decryption failed"))

        let rewrapped = try CofferProcess.run(["ring", "rewrap", "r.ring"] + pw, stdin: first.stdout, in: work.url)
        #expect(rewrapped.status == 0, "\(rewrapped.stderr)")
        #expect(lines(rewrapped.stdout).count == 3 && lines(rewrapped.stdout) != oldEnvelopes)

        #expect(try CofferProcess.run(["ring", "set-state", "r.ring", "1", "decrypt-only"] + pw, in: work.url).status == 0)
        let stillOpens = try CofferProcess.run(["ring", "decrypt", "r.ring", "--context", "tenant=acme"] + pw, stdin: first.stdout, in: work.url)
        #expect(stillOpens.status == 0 && stillOpens.stdout == Array(plain.utf8))

        #expect(try CofferProcess.run(["ring", "set-state", "r.ring", "v1", "disabled"] + pw, in: work.url).status == 0)
        let refused = try CofferProcess.run(["ring", "decrypt", "r.ring", "--context", "tenant=acme"] + pw, stdin: first.stdout, in: work.url)
        #expect(refused.status == 1 && refused.stdout.isEmpty)
        #expect(refused.stderr == "coffer: error: line 1: decryption refused: the envelope's key orders/v1 is disabled in this ring\n")
        let moved = try CofferProcess.run(["ring", "decrypt", "r.ring", "--context", "tenant=acme"] + pw, stdin: rewrapped.stdout, in: work.url)
        #expect(moved.status == 0 && moved.stdout == Array(plain.utf8), "\(moved.stderr)")

        let primary = try CofferProcess.run(["ring", "set-state", "r.ring", "2", "disabled"] + pw, in: work.url)
        #expect(primary.status == 2 && primary.stderr.contains("primary"))
        let unforced = try CofferProcess.run(["ring", "set-state", "r.ring", "1", "destroyed"] + pw, in: work.url)
        #expect(unforced.status == 4 && unforced.stderr.contains("--force"))
        #expect(try CofferProcess.run(["ring", "set-state", "r.ring", "1", "destroyed", "--force"] + pw, in: work.url).status == 0)
        let undo = try CofferProcess.run(["ring", "set-state", "r.ring", "1", "active"] + pw, in: work.url)
        #expect(undo.status == 2 && undo.stderr.contains("destroyed"))

        let shown = try CofferProcess.run(["ring", "show", "r.ring"] + pw, in: work.url)
        let text = String(decoding: shown.stdout, as: UTF8.self)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(text.contains("ring: orders\n") && text.contains("algorithm: AES-256-GCM\n") && text.contains("compression: from 100 bytes\n"))
        #expect(text.contains("rotation period: 90 days\n") && text.contains("rotation due: no\n") && text.contains("primary: v2\n"))
        #expect(text.contains("  v1  destroyed ") && text.contains("  v2  active ") && text.contains("(primary)"))
        #expect(text.split(separator: "\n").allSatisfy { $0.count < 80 }, "no key material in the listing")
        #expect(try mode(work, "r.ring") == 0o600)
        #expect(try work.entries() == ["pw", "r.ring"])
    }

    @Test func wrongPassphraseFailsWithOneLine() throws {
        let work = try workspaceWithRing()
        let before = try work.read("r.ring")
        try work.write("wrong", "not the passphrase\n")
        for command in [["show"], ["rotate"], ["encrypt"]] {
            let result = try CofferProcess.run(["ring"] + command + ["r.ring", "--passphrase-file", "wrong"], stdin: Array("x\n".utf8), in: work.url)
            #expect(result.status == 1)
            #expect(result.stdout.isEmpty)
            #expect(result.stderr.hasPrefix("coffer: error: cannot open key ring r.ring: wrong passphrase"))
            #expect(result.stderr.split(separator: "\n").count == 1)
        }
        #expect(try work.read("r.ring") == before)
        #expect(try work.entries() == ["pw", "r.ring", "wrong"])
    }

    @Test func passphraseFromEnvironment() throws {
        let work = try workspaceWithRing()
        let env = ["COFFER_RING_PASSPHRASE": Self.passphrase]
        let sealed = try CofferProcess.run(["ring", "encrypt", "r.ring"], stdin: Array("hi\n".utf8), environment: env, in: work.url)
        #expect(sealed.status == 0, "\(sealed.stderr)")
        let opened = try CofferProcess.run(["ring", "decrypt", "r.ring"], stdin: sealed.stdout, environment: env, in: work.url)
        #expect(opened.status == 0 && opened.stdout == Array("hi\n".utf8))
        let wrong = try CofferProcess.run(["ring", "decrypt", "r.ring"], stdin: sealed.stdout, environment: ["COFFER_RING_PASSPHRASE": "nope"], in: work.url)
        #expect(wrong.status == 1)
    }

    @Test func wrappingKeyFiles() throws {
        let work = try Workspace()
        #expect(try work.coffer("wrapping-key", "generate", "-o", "wk").status == 0)
        #expect(try mode(work, "wk") == 0o600)
        #expect(String(decoding: try work.read("wk"), as: UTF8.self).hasPrefix("COFFER-WRAPPING-KEY-"))
        let created = try work.coffer("ring", "create", "payments", "-o", "p.ring", "--wrapping-key-file", "wk", "--algorithm", "chacha20-poly1305")
        #expect(created.status == 0, "\(created.stderr)")
        let binary = patternBytes(3000) + [0x0A] + patternBytes(10)
        let sealed = try work.coffer("ring", "encrypt", "p.ring", "--whole", "--wrapping-key-file", "wk", stdin: binary)
        #expect(sealed.status == 0 && lines(sealed.stdout).count == 1, "\(sealed.stderr)")
        let opened = try work.coffer("ring", "decrypt", "p.ring", "--whole", "--wrapping-key-file", "wk", stdin: sealed.stdout)
        #expect(opened.status == 0 && opened.stdout == binary)
        let asLines = try work.coffer("ring", "decrypt", "p.ring", "--wrapping-key-file", "wk", stdin: sealed.stdout)
        #expect(asLines.status == 2 && asLines.stderr.contains("--whole"))

        #expect(try work.coffer("wrapping-key", "generate", "-o", "other").status == 0)
        let wrongKey = try work.coffer("ring", "show", "p.ring", "--wrapping-key-file", "other")
        #expect(wrongKey.status == 1 && wrongKey.stderr.contains("cannot open key ring"))
        let passphraseInstead = try work.coffer("ring", "show", "p.ring", environment: ["COFFER_RING_PASSPHRASE": "anything"])
        #expect(passphraseInstead.status == 1)
        try work.write("garbled", "COFFER-WRAPPING-KEY-notakey\n")
        let garbled = try work.coffer("ring", "show", "p.ring", "--wrapping-key-file", "garbled")
        #expect(garbled.status == 2 && !garbled.stderr.contains("notakey"))
        #expect(try work.entries() == ["wk", "p.ring", "other", "garbled"])
    }

    /// Concurrent rotations of one file are serialised by the lock: each gets its own version,
    /// none is lost.
    @Test func concurrentRotationsAreSerialised() async throws {
        let work = try Workspace()
        #expect(try work.coffer("wrapping-key", "generate", "-o", "wk").status == 0)
        #expect(try work.coffer("ring", "create", "jobs", "-o", "j.ring", "--wrapping-key-file", "wk").status == 0)
        let url = work.url
        let outputs = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    let result = try CofferProcess.run(["ring", "rotate", "j.ring", "--wrapping-key-file", "wk"], in: url)
                    return result.status == 0 ? String(decoding: result.stdout, as: UTF8.self) : "failed: \(result.stderr)"
                }
            }
            var all: [String] = []
            for try await output in group { all.append(output) }
            return all
        }
        #expect(Set(outputs) == Set((2...7).map { "jobs/v\($0)\n" }))
        let shown = String(decoding: try work.coffer("ring", "show", "j.ring", "--wrapping-key-file", "wk").stdout, as: UTF8.self)
        #expect(shown.contains("primary: v7\n") && shown.contains("  v7  active "))
        #expect(try work.entries() == ["wk", "j.ring"])
    }

    /// Changing the passphrase, then moving to a wrapping key: the keys inside stay the same, so
    /// envelopes sealed before still open, and the old secret no longer opens the file.
    @Test func resealUnderANewPassphraseThenAWrappingKey() throws {
        let work = try workspaceWithRing()
        let sealed = try work.coffer("ring", "encrypt", "r.ring", "--passphrase-file", "pw", stdin: Array("keep me\n".utf8))
        try work.write("pw2", "a brand new passphrase\n")
        let changed = try work.coffer("ring", "reseal", "r.ring", "--passphrase-file", "pw", "--new-passphrase-file", "pw2", "--work-factor", "15")
        #expect(changed.status == 0, "\(changed.stderr)")
        #expect(try work.coffer("ring", "show", "r.ring", "--passphrase-file", "pw").status == 1)
        let opened = try work.coffer("ring", "decrypt", "r.ring", "--passphrase-file", "pw2", stdin: sealed.stdout)
        #expect(opened.status == 0 && opened.stdout == Array("keep me\n".utf8), "\(opened.stderr)")

        #expect(try work.coffer("wrapping-key", "generate", "-o", "wk").status == 0)
        #expect(try work.coffer("ring", "reseal", "r.ring", "--passphrase-file", "pw2", "--new-wrapping-key-file", "wk").status == 0)
        let viaKey = try work.coffer("ring", "decrypt", "r.ring", "--wrapping-key-file", "wk", stdin: sealed.stdout)
        #expect(viaKey.status == 0 && viaKey.stdout == Array("keep me\n".utf8), "\(viaKey.stderr)")
        #expect(try work.coffer("ring", "show", "r.ring", "--passphrase-file", "pw2").status == 1)
        #expect(try mode(work, "r.ring") == 0o600)
        #expect(try work.entries() == ["pw", "pw2", "wk", "r.ring"])
    }

    /// `--expect-ring` pins the ring: a swapped file is refused, and so is a relabelled one
    /// (the name is authenticated by the file's encryption context).
    @Test func expectRingRefusesSwappedFiles() throws {
        let work = try Workspace()
        #expect(try work.coffer("wrapping-key", "generate", "-o", "wk").status == 0)
        #expect(try work.coffer("ring", "create", "orders", "-o", "orders.ring", "--wrapping-key-file", "wk").status == 0)
        #expect(try work.coffer("ring", "create", "payments", "-o", "payments.ring", "--wrapping-key-file", "wk").status == 0)
        let pinned = ["--wrapping-key-file", "wk", "--expect-ring", "orders"]
        #expect(try CofferProcess.run(["ring", "show", "orders.ring"] + pinned, in: work.url).status == 0)
        let swapped = try CofferProcess.run(["ring", "show", "payments.ring"] + pinned, in: work.url)
        #expect(swapped.status == 2 && swapped.stderr.contains("holds key ring payments, not orders"))
        let payments = try work.read("payments.ring")
        let newline = payments.firstIndex(of: 0x0A)!
        try work.write("relabelled.ring", Array("coffer-key-ring: orders".utf8) + payments[newline...])
        let relabelled = try CofferProcess.run(["ring", "show", "relabelled.ring"] + pinned, in: work.url)
        #expect(relabelled.status == 1 && relabelled.stderr.contains("cannot open key ring"))
    }

    @Test func createRefusesToOverwrite() throws {
        let work = try workspaceWithRing()
        let before = try work.read("r.ring")
        let again = try work.coffer("ring", "create", "orders", "-o", "r.ring", "--passphrase-file", "pw", "--work-factor", "15")
        #expect(again.status == 4 && again.stderr.contains("--force"))
        #expect(try work.read("r.ring") == before)
    }

    static let invalidCommandLines: [([String], Int32)] = [
        (["ring", "create", "bad name", "-o", "x.ring", "--passphrase-file", "pw"], 64),
        (["ring", "create", "ok", "-o", "x.ring", "--passphrase-file", "pw", "--algorithm", "des"], 64),
        (["ring", "create", "ok", "-o", "x.ring", "--passphrase-file", "pw", "--rotation-period", "0"], 64),
        (["ring", "create", "ok", "-o", "x.ring", "--passphrase-file", "pw", "--compression-threshold=-1"], 64),
        (["ring", "set-state", "pw", "1", "disabled", "--passphrase-file", "pw"], 2),
        (["ring", "set-state", "x.ring", "zero", "disabled", "--passphrase-file", "pw"], 64),
        (["ring", "set-state", "x.ring", "1", "gone", "--passphrase-file", "pw"], 64),
        (["ring", "encrypt", "x.ring", "--context", "=v", "--passphrase-file", "pw"], 64),
        (["ring", "show", "missing.ring", "--passphrase-file", "pw"], 3),
    ]

    @Test(arguments: invalidCommandLines)
    func badInvocations(arguments: [String], status: Int32) throws {
        let work = try Workspace()
        try work.write("pw", Self.passphrase)
        let result = try CofferProcess.run(arguments, in: work.url)
        #expect(result.status == status, "\(arguments): \(result.stderr)")
        #expect(result.stderr.hasPrefix("coffer: error:") || result.stderr.hasPrefix("Error:"), "\(result.stderr)")
        #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("Stack"))
        #expect(try work.entries() == ["pw"])
    }

    @Test func malformedEnvelopeLinesFailWithoutOutput() throws {
        let work = try workspaceWithRing()
        let sealed = try work.coffer("ring", "encrypt", "r.ring", "--passphrase-file", "pw", stdin: Array("a\nb\n".utf8)).stdout
        let damaged = sealed + Array("coffer:v1:AAAA\n".utf8)
        let result = try work.coffer("ring", "decrypt", "r.ring", "--passphrase-file", "pw", stdin: damaged)
        #expect(result.status == 1 && result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix("coffer: error: line 3: decryption failed"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test func configureChangesOnlyWhatIsGivenAndOldEnvelopesStillOpen() throws {
        let work = try workspaceWithRing("--rotation-period", "30")
        let pw = ["--passphrase-file", "pw"]
        let before = try CofferProcess.run(["ring", "encrypt", "r.ring"] + pw, stdin: Array("sealed with aes-256-gcm\n".utf8), in: work.url)
        #expect(before.status == 0)

        let changed = try CofferProcess.run(
            ["ring", "configure", "r.ring", "--algorithm", "chacha20-poly1305", "--compression-threshold", "64"] + pw, in: work.url)
        #expect(changed.status == 0, "\(changed.stderr)")
        let show = String(decoding: try CofferProcess.run(["ring", "show", "r.ring"] + pw, in: work.url).stdout, as: UTF8.self)
        // The rotation period was not given, so it is kept.
        #expect(show.contains("algorithm: ChaCha20-Poly1305\ncompression: from 64 bytes\nrotation period: 30 days\n"), "\(show)")
        #expect(try work.entries() == ["pw", "r.ring"])

        // New envelopes use the new settings (compressed above 64 bytes); old ones still open.
        let long = String(repeating: "compressible ", count: 40)
        let after = try CofferProcess.run(["ring", "encrypt", "r.ring"] + pw, stdin: Array((long + "\n").utf8), in: work.url)
        #expect(after.status == 0)
        let opened = try CofferProcess.run(["ring", "decrypt", "r.ring"] + pw, stdin: before.stdout + after.stdout, in: work.url)
        #expect(opened.status == 0 && lines(opened.stdout) == ["sealed with aes-256-gcm", long], "\(opened.stderr)")
        #expect(after.stdout.count < before.stdout.count + long.utf8.count, "compressed")

        // 'off' clears a setting; bad values and no options are usage errors that change nothing.
        #expect(try CofferProcess.run(["ring", "configure", "r.ring", "--rotation-period", "off"] + pw, in: work.url).status == 0)
        let cleared = String(decoding: try CofferProcess.run(["ring", "show", "r.ring"] + pw, in: work.url).stdout, as: UTF8.self)
        #expect(cleared.contains("rotation period: none"), "\(cleared)")
        let unchanged = try work.read("r.ring")
        for bad in [["--algorithm", "rot13"], ["--rotation-period", "0"], ["--compression-threshold", "lots"], [String]()] {
            let result = try CofferProcess.run(["ring", "configure", "r.ring"] + bad + pw, in: work.url)
            #expect(result.status == 64, "\(bad): \(result.stderr)")
        }
        #expect(try work.read("r.ring") == unchanged)
    }

    @Test func stagedRotation() throws {
        let work = try workspaceWithRing()
        let pw = ["--passphrase-file", "pw"]
        let staged = try CofferProcess.run(["ring", "rotate", "--stage", "r.ring"] + pw, in: work.url)
        #expect(staged.status == 0 && String(decoding: staged.stdout, as: UTF8.self) == "orders/v2\n", "\(staged.stderr)")
        // Staged: v1 still encrypts.
        let sealed = try CofferProcess.run(["ring", "encrypt", "r.ring"] + pw, stdin: Array("x\n".utf8), in: work.url)
        var show = String(decoding: try CofferProcess.run(["ring", "show", "r.ring"] + pw, in: work.url).stdout, as: UTF8.self)
        #expect(show.contains("primary: v1\n") && show.contains("v2  active"), "\(show)")
        #expect(try CofferProcess.run(["ring", "set-primary", "r.ring", "v2"] + pw, in: work.url).status == 0)
        show = String(decoding: try CofferProcess.run(["ring", "show", "r.ring"] + pw, in: work.url).stdout, as: UTF8.self)
        #expect(show.contains("primary: v2\n"), "\(show)")
        // Envelopes sealed under v1 still open; rewrap moves them to v2.
        #expect(try CofferProcess.run(["ring", "decrypt", "r.ring"] + pw, stdin: sealed.stdout, in: work.url).stdout == Array("x\n".utf8))
        // Only an existing, active version can become primary.
        #expect(try CofferProcess.run(["ring", "set-primary", "r.ring", "9"] + pw, in: work.url).status == 2)
        #expect(try CofferProcess.run(["ring", "set-state", "r.ring", "1", "disabled"] + pw, in: work.url).status == 0)
        let refused = try CofferProcess.run(["ring", "set-primary", "r.ring", "1"] + pw, in: work.url)
        #expect(refused.status == 2 && refused.stderr.contains("only an active version"), "\(refused.stderr)")
        #expect(try CofferProcess.run(["ring", "set-primary", "r.ring", "two"] + pw, in: work.url).status == 64)
    }
}
