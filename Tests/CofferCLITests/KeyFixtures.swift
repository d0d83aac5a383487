import Foundation

/// Identity files made once with `coffer keygen` (scrypt at the cheapest accepted cost: debug
/// builds run scrypt unoptimized), shared by every CLI test.
struct KeyFixtures: Sendable {
    static let identityPassphrase = "fixture identity passphrase"
    static let shared = try! KeyFixtures()

    let directory: URL
    let recipients: [String: String]

    var environment: [String: String] { ["COFFER_IDENTITY_PASSPHRASE": Self.identityPassphrase] }

    func identityPath(_ type: String) -> String { directory.appendingPathComponent("\(type).identity").path }

    private init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-cli-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var recipients: [String: String] = [:]
        for type in ["x25519", "xwing", "rsa-2048"] {
            let result = try CofferProcess.run(
                ["keygen", "--type", type, "--work-factor", "15", "-o", "\(type).identity"],
                environment: ["COFFER_PASSPHRASE": Self.identityPassphrase], in: directory)
            precondition(result.status == 0, "keygen failed: \(result.stderr)")
            let line = result.stderr.split(separator: "\n").first { $0.hasPrefix("Public key: ") }!
            recipients[type] = String(line.dropFirst("Public key: ".count))
        }
        self.recipients = recipients
    }
}
