import Foundation
import Testing

/// `coffer keygen`: identity files are encrypted, private, and give back their recipients.
@Suite struct KeygenTests {
    static let keys = KeyFixtures.shared

    @Test(arguments: ["x25519", "xwing", "rsa-2048"])
    func identityFileIsEncryptedAndPrivate(kind: String) throws {
        let path = Self.keys.identityPath(kind)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("-----BEGIN COFFER ENCRYPTED FILE-----"))
        #expect(!text.contains("COFFER-IDENTITY"))
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let work = try Workspace()
        let shown = try work.coffer("keygen", "-y", path, environment: Self.keys.environment)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(String(decoding: shown.stdout, as: UTF8.self) == Self.keys.recipients[kind]! + "\n")
        let pem = try work.coffer("keygen", "-y", path, "--pem", environment: Self.keys.environment)
        #expect(String(decoding: pem.stdout, as: UTF8.self).hasPrefix("-----BEGIN "))
        // A PEM recipient encrypts just like the one-line form.
        try work.write("recipient.pem", pem.stdout)
        let sealed = try work.coffer("encrypt", "-R", "recipient.pem", stdin: [1, 2, 3])
        #expect(sealed.status == 0, "\(sealed.stderr)")
        let opened = try work.coffer("decrypt", "-i", path, stdin: sealed.stdout, environment: Self.keys.environment)
        #expect(opened.stdout == [1, 2, 3])
    }

    @Test func keygenRefusesToOverwrite() throws {
        let work = try Workspace()
        try work.write("existing", "precious")
        let result = try work.coffer("keygen", "--work-factor", "15", "-o", "existing", environment: ["COFFER_PASSPHRASE": "x"])
        #expect(result.status == 4)
        #expect(try work.read("existing") == Array("precious".utf8))
        #expect(try work.entries() == ["existing"])
    }

    @Test func wrappingKeyProtectedIdentities() throws {
        let work = try Workspace()
        #expect(try work.coffer("wrapping-key", "generate", "-o", "wk").status == 0)
        #expect(try work.coffer("wrapping-key", "generate", "-o", "other").status == 0)
        let wrapping = String(decoding: try work.read("wk"), as: UTF8.self)
        #expect(wrapping.hasPrefix("COFFER-WRAPPING-KEY-") && wrapping.hasSuffix("\n"))
        var info = stat()
        #expect(stat(work.path("wk"), &info) == 0 && info.st_mode & 0o777 == 0o600)

        let made = try work.coffer("keygen", "--wrapping-key-file", "wk", "-o", "id")
        #expect(made.status == 0, "\(made.stderr)")
        let recipient = String(made.stderr.split(separator: "\n").first { $0.hasPrefix("Public key: ") }!.dropFirst("Public key: ".count))
        let text = String(decoding: try work.read("id"), as: UTF8.self)
        #expect(text.hasPrefix("-----BEGIN COFFER ENCRYPTED FILE-----") && !text.contains("COFFER-IDENTITY"))

        let sealed = try work.coffer("encrypt", "-r", recipient, stdin: Array("for services".utf8))
        // Opens with the wrapping key from the option or the environment; no passphrase asked.
        let byOption = try work.coffer("decrypt", "-i", "id", "--identity-wrapping-key-file", "wk", stdin: sealed.stdout)
        #expect(byOption.status == 0 && byOption.stdout == Array("for services".utf8), "\(byOption.stderr)")
        let byEnvironment = try work.coffer("decrypt", "-i", "id", stdin: sealed.stdout, environment: ["COFFER_IDENTITY_WRAPPING_KEY_FILE": work.path("wk")])
        #expect(byEnvironment.status == 0 && byEnvironment.stdout == Array("for services".utf8))
        #expect(String(decoding: try work.coffer("keygen", "-y", "id", "--identity-wrapping-key-file", "wk").stdout, as: UTF8.self) == recipient + "\n")
        // Missing, wrong or malformed wrapping keys: clear errors, no output.
        let missing = try work.coffer("decrypt", "-i", "id", stdin: sealed.stdout)
        #expect(missing.status == 64 && missing.stderr.contains("protected by a wrapping key") && missing.stdout.isEmpty)
        let wrong = try work.coffer("decrypt", "-i", "id", "--identity-wrapping-key-file", "other", stdin: sealed.stdout)
        #expect(wrong.status == 1 && wrong.stderr.contains("cannot open identity file") && wrong.stdout.isEmpty)
        var typo = Array(wrapping.utf8)
        typo[25] = typo[25] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        try work.write("typo", typo)
        let malformed = try work.coffer("decrypt", "-i", "id", "--identity-wrapping-key-file", "typo", stdin: sealed.stdout)
        #expect(malformed.status == 2 && malformed.stderr.contains("does not hold a valid wrapping key") && !malformed.stderr.contains("COFFER-WRAPPING-KEY-"))
        // The passphrase and wrapping-key options exclude each other.
        try work.write("pass", "x\n")
        #expect(try work.coffer("keygen", "--wrapping-key-file", "wk", "--passphrase-file", "pass", "-o", "id2").status == 64)
        #expect(!work.exists("id2"))
    }

    @Test func addingIdentitiesToAFile() throws {
        let work = try Workspace()
        try work.write("pass", "identity file passphrase\n")
        func publicKey(_ result: CofferProcess.Result) -> String {
            String(result.stderr.split(separator: "\n").first { $0.hasPrefix("Public key: ") }!.dropFirst("Public key: ".count))
        }
        let first = try work.coffer("keygen", "--work-factor", "15", "--passphrase-file", "pass", "-o", "ids")
        let second = try work.coffer("keygen", "--type", "xwing", "--work-factor", "15", "--add-to", "ids", "--identity-passphrase-file", "pass")
        #expect(first.status == 0 && second.status == 0, "\(second.stderr)")
        var info = stat()
        #expect(stat(work.path("ids"), &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(try work.entries() == ["pass", "ids"])
        // Both identities are in the file, under the same passphrase, and each decrypts its own files.
        let listed = String(decoding: try work.coffer("keygen", "-y", "ids", "--identity-passphrase-file", "pass").stdout, as: UTF8.self)
        #expect(listed == publicKey(first) + "\n" + publicKey(second) + "\n")
        for recipient in [publicKey(first), publicKey(second)] {
            let sealed = try work.coffer("encrypt", "-r", recipient, stdin: Array("to \(recipient.prefix(14))".utf8))
            let opened = try work.coffer("decrypt", "-i", "ids", "--identity-passphrase-file", "pass", stdin: sealed.stdout)
            #expect(opened.status == 0 && opened.stdout == Array("to \(recipient.prefix(14))".utf8))
        }
        // A wrong passphrase changes nothing; --add-to cannot be mixed with a new protection.
        try work.write("wrong", "not it\n")
        let before = try work.read("ids")
        #expect(try work.coffer("keygen", "--work-factor", "15", "--add-to", "ids", "--identity-passphrase-file", "wrong").status == 1)
        #expect(try work.coffer("keygen", "--work-factor", "15", "--add-to", "ids", "--passphrase-file", "pass").status == 64)
        #expect(try work.read("ids") == before)
    }
}
