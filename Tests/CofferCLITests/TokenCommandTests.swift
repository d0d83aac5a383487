import CofferCrypto
import Foundation
import Testing

struct TokenCommandTests {
    /// The ring in a key file made by the CLI, read with the library (to mint tokens at chosen times).
    private func ring(_ work: Workspace, _ name: String) throws -> SigningKeyRing {
        let entries = String(decoding: try work.read(name), as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("#") }
        let keys = try entries.compactMap { entry -> SigningKey? in
            let parts = entry.split(separator: ":")
            guard parts[1] != "retired" else { return nil }
            return try SigningKey(id: KeyVersion(UInt32(parts[0])!), base64: String(parts[1]))
        }
        return try SigningKeyRing(keys: keys)
    }

    @Test func signVerifyRotateRetire() throws {
        let work = try Workspace()
        #expect(try work.coffer("token", "generate-key", "-o", "keys").status == 0)
        var info = stat()
        #expect(stat(work.path("keys"), &info) == 0 && info.st_mode & 0o777 == 0o600)
        let payloads = "user:alice\nuser:bob\n"
        let signed = try work.coffer("token", "sign", "--key-file", "keys", "--purpose", "session", "--lifetime", "1h", stdin: Array(payloads.utf8))
        #expect(signed.status == 0 && lines(signed.stdout).count == 2, "\(signed.stderr)")
        let verified = try work.coffer("token", "verify", "--key-file", "keys", "--purpose", "session", stdin: signed.stdout)
        #expect(verified.status == 0 && String(decoding: verified.stdout, as: UTF8.self) == payloads)
        // Another purpose: the one invalid-token message.
        let otherPurpose = try work.coffer("token", "verify", "--key-file", "keys", "--purpose", "password-reset", stdin: signed.stdout)
        #expect(otherPurpose.status == 1 && otherPurpose.stdout.isEmpty && otherPurpose.stderr == "coffer: error: line 1: invalid token\n")

        // Rotation: old tokens still verify (nobody is logged out); new ones come from key 2.
        #expect(try work.coffer("token", "rotate-key", "keys").status == 0)
        #expect(try work.coffer("token", "verify", "--key-file", "keys", "--purpose", "session", stdin: signed.stdout).status == 0)
        let newer = try work.coffer("token", "sign", "--key-file", "keys", "--purpose", "session", "--lifetime", "10m", stdin: Array("carol\n".utf8))
        let newToken = lines(newer.stdout)[0]
        let parsed = try ring(work, "keys").verify(newToken, purpose: TokenPurpose("session"))
        #expect(parsed.keyID.rawValue == 2 && parsed.payload == Array("carol".utf8))

        // The newest key cannot be retired; retiring key 1 ends its tokens only.
        let refused = try work.coffer("token", "retire-key", "keys", "2")
        #expect(refused.status == 2 && refused.stderr.contains("rotate-key first"))
        #expect(try work.coffer("token", "retire-key", "keys", "1").status == 0)
        #expect(String(decoding: try work.read("keys"), as: UTF8.self).contains("\n1:retired\n"))
        #expect(try work.coffer("token", "verify", "--key-file", "keys", "--purpose", "session", stdin: signed.stdout).status == 1)
        #expect(try work.coffer("token", "verify", "--key-file", "keys", "--purpose", "session", stdin: newer.stdout).status == 0)
        // Updates are atomic: no temporary files left beside the key file.
        #expect(try work.entries() == ["keys"])
    }

    @Test func expiryAndClockSkewMessages() throws {
        let work = try Workspace()
        try work.coffer("token", "generate-key", "-o", "keys")
        let keys = try ring(work, "keys")
        let purpose = try TokenPurpose("session")
        let expired = try keys.sign(Array("old".utf8), purpose: purpose, lifetime: .seconds(3600), now: Date() - 7200)
        let future = try keys.sign(Array("soon".utf8), purpose: purpose, lifetime: .seconds(3600), now: Date() + 600)
        let expiredResult = try work.coffer("token", "verify", "--key-file", "keys", "--purpose", "session", stdin: Array((expired + "\n").utf8))
        #expect(expiredResult.status == 1 && expiredResult.stderr == "coffer: error: line 1: token expired\n")
        let futureResult = try work.coffer("token", "verify", "--key-file", "keys", "--purpose", "session", stdin: Array((future + "\n").utf8))
        #expect(futureResult.status == 1 && futureResult.stderr.contains("not yet valid"))
        // A wide enough skew accepts both.
        let tolerant = try work.coffer(
            "token", "verify", "--key-file", "keys", "--purpose", "session", "--clock-skew", "7200", stdin: Array((expired + "\n" + future + "\n").utf8))
        #expect(tolerant.status == 0 && lines(tolerant.stdout) == ["old", "soon"])
    }

    @Test func jsonWholeAndEnvironmentKeys() throws {
        let work = try Workspace()
        try work.coffer("token", "generate-key", "-o", "keys")
        let entry = String(decoding: try work.read("keys"), as: UTF8.self).split(separator: "\n").first { !$0.hasPrefix("#") }!
        let environment = ["COFFER_TOKEN_KEYS": String(entry)]
        let json = #"{"user":"alice","roles":["admin"]}"#
        let signed = try work.coffer("token", "sign", "--purpose", "api", "--lifetime", "5m", "--json", stdin: Array((json + "\n").utf8), environment: environment)
        #expect(signed.status == 0, "\(signed.stderr)")
        let token = try ring(work, "keys").verify(lines(signed.stdout)[0], purpose: TokenPurpose("api"))
        #expect(token.isJSON && token.payload == Array(json.utf8))
        let invalid = try work.coffer("token", "sign", "--purpose", "api", "--lifetime", "5m", "--json", stdin: Array("{not json\n".utf8), environment: environment)
        #expect(invalid.status == 2 && invalid.stdout.isEmpty && invalid.stderr.contains("line 1: the payload is not valid JSON"))
        // A multi-line binary payload as one token.
        let blob = patternBytes(500) + [0x0A]
        let whole = try work.coffer("token", "sign", "--purpose", "blob", "--lifetime", "60", "--whole", stdin: blob, environment: environment)
        let back = try work.coffer("token", "verify", "--purpose", "blob", "--whole", stdin: whole.stdout, environment: environment)
        #expect(back.status == 0 && back.stdout == blob)
    }

    @Test func badKeyFilesAndArguments() throws {
        let work = try Workspace()
        let secretLooking = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"
        for (content, expected) in [
            ("1:\(secretLooking)x\n", "entry 1 does not hold a signing key"),
            ("1:retired\n", "holds no live signing key"),
            ("zero:\(secretLooking)\n", "entry 1 is not ID:KEY"),
            ("0:\(secretLooking)\n", "entry 1 is not ID:KEY"),
        ] {
            try work.write("keys", content)
            let result = try work.coffer("token", "sign", "--key-file", "keys", "--purpose", "s", "--lifetime", "1m", stdin: Array("x\n".utf8))
            #expect(result.status == 2 && result.stderr.contains(expected) && !result.stderr.contains(secretLooking), "\(content): \(result.stderr)")
        }
        try work.coffer("token", "generate-key", "-o", "good")
        let duplicate = String(decoding: try work.read("good"), as: UTF8.self).split(separator: "\n").last!
        try work.write("keys", "\(duplicate)\n\(duplicate)\n")
        #expect(try work.coffer("token", "verify", "--key-file", "keys", "--purpose", "s", stdin: []).stderr.contains("repeats key id 1"))
        for lifetime in ["0", "-5", "5x", "h", "99999999999999999999d"] {
            #expect(try work.coffer("token", "sign", "--key-file", "good", "--purpose", "s", "--lifetime", lifetime, stdin: []).status == 64, "\(lifetime)")
        }
        #expect(try work.coffer("token", "sign", "--key-file", "good", "--purpose", "has space", "--lifetime", "1m", stdin: []).status == 64)
        #expect(try work.coffer("token", "verify", "--purpose", "s", stdin: []).status == 64)
    }
}
