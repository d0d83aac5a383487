import CofferTestSupport
import Foundation
import Testing

/// `coffer server` configured as in production — a passphrase root key that starts sealed, an
/// HSM root key (SoftHSM2 through PKCS#11), settings from a JSON file and COFFER_* variables —
/// started for real and driven with curl.
@Suite("coffer server configured, live", .serialized)
struct ServerConfigurationLiveTests {
    static let deadKey = "coffer-ak-0000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

    @Test func aPassphraseStoreStartsSealedAndIsUnsealedOverTheAPIOrFromAFile() throws {
        let workspace = try Workspace()
        let data = workspace.path("data")
        try workspace.write("coffer.json", #"{"dataDir":"\#(data)","root":{"kind":"passphrase"},"log":{"level":"debug"}}"#)
        let passphrase = "orchid lantern 4417 velvet"
        let plaintext = Data("sealed-start secret 5150".utf8).base64EncodedString()
        TestSecrets.record(passphrase, plaintext)

        let sealed = try LiveServer.start(["--config", workspace.path("coffer.json")])
        defer { sealed.stop() }
        #expect(sealed.port != 0 && sealed.adminKey == nil, "a sealed store cannot make an admin key yet: \(sealed.firstLines)")
        let ca = ["--cacert", data + "/tls/cert.pem"]
        let base = "https://127.0.0.1:\(sealed.port)"
        #expect(jsonObject(try curl(ca + ["\(base)/v1/sys/seal-status"]).out)["sealed"] as? Bool == true)
        #expect(try curl(ca + ["-o", "/dev/null", "-w", "%{http_code}", "\(base)/v1/health/ready"]).out == "503")
        #expect(try curl(ca + ["-H", "Authorization: Bearer \(Self.deadKey)", "\(base)/v1/keys"]).out.contains("store_sealed"))
        // The first unseal sets the passphrase and returns the admin key, once.
        let unsealed = jsonObject(try curl(ca + ["\(base)/v1/sys/unseal"], body: #"{"passphrase":"\#(passphrase)"}"#).out)
        let adminKey = try #require(unsealed["adminApiKey"] as? String)
        TestSecrets.record(adminKey)
        #expect(unsealed["sealed"] as? Bool == false && unsealed["rootKey"] as? String == "passphrase")
        let auth = ca + ["-H", "Authorization: Bearer \(adminKey)"]
        #expect(try curl(auth + ["\(base)/v1/keys"], body: #"{"name":"sealed-start","type":"aes256-gcm"}"#).out.contains("sealed-start"))
        let ciphertext = try #require(jsonObject(try curl(auth + ["\(base)/v1/keys/sealed-start/encrypt"], body: #"{"plaintext":"\#(plaintext)"}"#).out)["ciphertext"] as? String)
        #expect(sealed.stop() == 0)

        // Restarted with the passphrase in a file (named by an environment variable): serving at once.
        try workspace.write("passphrase", passphrase + "\n")
        _ = chmod(workspace.path("passphrase"), 0o600)
        let unattended = try LiveServer.start(["--config", workspace.path("coffer.json")], environment: ["COFFER_ROOT_PASSPHRASE_FILE": workspace.path("passphrase")])
        defer { unattended.stop() }
        let again = "https://127.0.0.1:\(unattended.port)"
        #expect(jsonObject(try curl(ca + ["\(again)/v1/sys/seal-status"]).out)["sealed"] as? Bool == false)
        #expect(try curl(auth + ["\(again)/v1/keys/sealed-start/decrypt"], body: #"{"ciphertext":"\#(ciphertext)"}"#).out.contains(plaintext))
        #expect(unattended.stop() == 0)

        // A wrong passphrase file: the server refuses to start, and says so without the passphrase.
        try workspace.write("wrong", "orchid lantern 4417 velvex\n")
        let refused = try LiveServer.start(["--config", workspace.path("coffer.json")], environment: ["COFFER_ROOT_PASSPHRASE_FILE": workspace.path("wrong")])
        #expect(refused.stop() != 0 && refused.port == 0)
        #expect(refused.log.contains("unseal_failed") || refused.log.contains("unseal failed"), "\(refused.log)")
        for log in [sealed.log, unattended.log, refused.log] {
            #expect(!log.contains(passphrase) && !log.contains("velvex") && !log.contains(adminKey) && !log.contains(plaintext))
        }
    }

    @Test func anHSMRootKeyFromTheEnvironment() throws {
        let workspace = try Workspace()
        let tokens = workspace.path("tokens")
        try FileManager.default.createDirectory(atPath: tokens, withIntermediateDirectories: true)
        try workspace.write("softhsm2.conf", "directories.tokendir = \(tokens)\nobjectstore.backend = file\nlog.level = ERROR\n")
        let pin = "hsm-pin-6021-live"
        TestSecrets.record(pin)
        let softhsm = ["SOFTHSM2_CONF": workspace.path("softhsm2.conf")]
        let initialise = Process()
        initialise.executableURL = URL(fileURLWithPath: "/usr/bin/softhsm2-util")
        initialise.arguments = ["--init-token", "--free", "--label", "coffer-live", "--pin", pin, "--so-pin", "so-pin-6021-live"]
        initialise.environment = softhsm
        initialise.standardOutput = FileHandle.nullDevice
        try initialise.run()
        initialise.waitUntilExit()
        try #require(initialise.terminationStatus == 0)

        let environment = softhsm.merging([
            "COFFER_DATA_DIR": workspace.path("data"), "COFFER_ROOT_KIND": "pkcs11", "COFFER_ROOT_PKCS11_MODULE": "/usr/lib/softhsm/libsofthsm2.so",
            "COFFER_ROOT_PKCS11_TOKEN": "coffer-live", "COFFER_ROOT_PKCS11_PIN": pin,
        ]) { $1 }
        let first = try LiveServer.start([], environment: environment)
        defer { first.stop() }
        let adminKey = try #require(first.adminKey, "\(first.log)")
        TestSecrets.record(adminKey)
        let ca = ["--cacert", workspace.path("data") + "/tls/cert.pem"]
        let auth = ca + ["-H", "Authorization: Bearer \(adminKey)"]
        let base = "https://127.0.0.1:\(first.port)"
        #expect(jsonObject(try curl(ca + ["\(base)/v1/sys/seal-status"]).out)["rootKey"] as? String == "pkcs11:coffer-live/coffer-root")
        #expect(try curl(auth + ["\(base)/v1/keys"], body: #"{"name":"hsm-backed","type":"chacha20-poly1305"}"#).out.contains("hsm-backed"))
        let plaintext = Data("hsm secret 8080".utf8).base64EncodedString()
        TestSecrets.record(plaintext)
        let ciphertext = try #require(jsonObject(try curl(auth + ["\(base)/v1/keys/hsm-backed/encrypt"], body: #"{"plaintext":"\#(plaintext)"}"#).out)["ciphertext"] as? String)
        #expect(first.stop() == 0)

        // Restart: the key is found in the token again; the wrong PIN does not start.
        let second = try LiveServer.start([], environment: environment)
        defer { second.stop() }
        #expect(try curl(auth + ["https://127.0.0.1:\(second.port)/v1/keys/hsm-backed/decrypt"], body: #"{"ciphertext":"\#(ciphertext)"}"#).out.contains(plaintext))
        #expect(second.stop() == 0)
        let wrongPIN = try LiveServer.start([], environment: environment.merging(["COFFER_ROOT_PKCS11_PIN": "hsm-pin-0000-nope"]) { $1 })
        #expect(wrongPIN.stop() != 0 && wrongPIN.port == 0)
        for log in [first.log, second.log, wrongPIN.log] {
            #expect(!log.contains(pin) && !log.contains("hsm-pin-0000-nope") && !log.contains(adminKey))
        }
    }

    @Test func sealSecretSealsForOneSettingUnderAKeyFileRoot() throws {
        let workspace = try Workspace()
        let data = workspace.path("data")
        // Admin commands never create a root key: without one, seal-secret refuses.
        let noKey = try workspace.coffer("server", "seal-secret", "--data-dir", data, "--setting", "postgres.password", stdin: Array("db-pass-4471-live\n".utf8))
        #expect(noKey.status != 0 && !FileManager.default.fileExists(atPath: data + "/root.key"))
        // The server's first start makes the key file.
        #expect(try LiveServer.start(["--data-dir", data]).stop() == 0)
        let sealed = try workspace.coffer("server", "seal-secret", "--data-dir", data, "--setting", "postgres.password", stdin: Array("db-pass-4471-live\n".utf8))
        let text = String(decoding: sealed.stdout, as: UTF8.self)
        #expect(sealed.status == 0 && text.hasPrefix("coffer-sealed:") && !text.contains("db-pass-4471-live"), "\(sealed.stderr)")
        let unknown = try workspace.coffer("server", "seal-secret", "--data-dir", data, "--setting", "root.pkcs11.pin", stdin: Array("x\n".utf8))
        #expect(unknown.status != 0 && unknown.stderr.contains("postgres.password"))
        let passphraseRoot = try workspace.coffer(
            "server", "seal-secret", "--data-dir", data, "--setting", "postgres.password", stdin: Array("db-pass\n".utf8), environment: ["COFFER_ROOT_KIND": "passphrase"])
        #expect(passphraseRoot.status != 0 && passphraseRoot.stderr.contains("passphrase"))
        // A configuration file with an unknown setting does not start.
        try workspace.write("typo.json", #"{"dataDir":"\#(data)","tls":{"clientauth":"required"}}"#)
        let typo = try LiveServer.start(["--config", workspace.path("typo.json")])
        #expect(typo.stop() != 0 && typo.port == 0)
    }
}
