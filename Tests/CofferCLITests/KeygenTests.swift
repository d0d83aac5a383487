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
}
