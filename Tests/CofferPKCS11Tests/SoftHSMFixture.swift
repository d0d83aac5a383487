import CofferPKCS11
import Glibc

/// One SoftHSM2 installation shared by the whole test process.
///
/// `C_Initialize` is process-wide and SoftHSM2 reads `SOFTHSM2_CONF` only
/// then, so every test uses the same token directory; tests stay independent
/// by using their own key labels. The `static let` makes Swift run the setup
/// exactly once even though Swift Testing runs tests in parallel.
enum SoftHSMFixture {
    static let modulePath = "/usr/lib/softhsm/libsofthsm2.so"
    static let utilityPath = "/usr/bin/softhsm2-util"
    /// Token the tests log in to and keep keys on.
    static let tokenLabel = "coffer-test"
    /// Token nobody ever logs in to successfully. PKCS#11 login state is
    /// shared per token and process, and a token with a user already logged
    /// in answers CKR_USER_ALREADY_LOGGED_IN without checking the PIN, so
    /// the wrong-PIN test needs a token of its own.
    static let loginTestTokenLabel = "coffer-login-test"
    static let soPIN = "1234"
    static let userPIN = "5678"

    struct SetupFailure: Error, CustomStringConvertible {
        let description: String
    }

    private static let setup: Result<PKCS11Module, any Error> = Result { try makeModule() }

    /// The shared, initialized SoftHSM2 module.
    static func module() throws -> PKCS11Module {
        try setup.get()
    }

    /// A fresh logged-in session on the test token.
    static func session() throws -> PKCS11Session {
        try PKCS11Session(module: module(), tokenLabel: tokenLabel, pin: Array(userPIN.utf8))
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: .min ... .max) }
    }

    // MARK: - Setup

    private static let directory: String = {
        var template = Array("/tmp/coffer-pkcs11-test-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else { return "" }
        return String(cString: created)
    }()

    private static func makeModule() throws -> PKCS11Module {
        guard !directory.isEmpty else { throw SetupFailure(description: "mkdtemp failed") }
        // Remove the throw-away tokens when the test process exits.
        atexit { SoftHSMFixture.removeDirectory() }

        let tokens = directory + "/tokens"
        guard mkdir(tokens, 0o700) == 0 else { throw SetupFailure(description: "mkdir failed") }
        let configuration = directory + "/softhsm2.conf"
        try write("""
            directories.tokendir = \(tokens)
            objectstore.backend = file
            log.level = ERROR

            """, to: configuration)
        // Must happen before the module is initialized.
        guard setenv("SOFTHSM2_CONF", configuration, 1) == 0 else {
            throw SetupFailure(description: "setenv failed")
        }
        for label in [tokenLabel, loginTestTokenLabel] {
            try run(utilityPath, [
                "--init-token", "--free", "--label", label, "--so-pin", soPIN, "--pin", userPIN,
            ], environment: ["SOFTHSM2_CONF=\(configuration)"])
        }
        return try PKCS11Module(path: modulePath)
    }

    private static func write(_ text: String, to path: String) throws {
        guard let file = fopen(path, "w") else { throw SetupFailure(description: "cannot create \(path)") }
        defer { fclose(file) }
        guard fputs(text, file) >= 0 else { throw SetupFailure(description: "cannot write \(path)") }
    }

    /// Runs a program to completion with stdout silenced; throws unless it exits 0.
    private static func run(_ path: String, _ arguments: [String], environment: [String]) throws {
        func cStrings(_ strings: [String]) -> [UnsafeMutablePointer<CChar>?] {
            strings.map { strdup($0) } + [nil]
        }
        let argv = cStrings([path] + arguments)
        let envp = cStrings(environment)
        defer { (argv + envp).forEach { free($0) } }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)

        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, envp)
        guard spawned == 0 else { throw SetupFailure(description: "cannot start \(path): \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        // WIFEXITED && WEXITSTATUS == 0, which Swift does not import as macros.
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw SetupFailure(description: "\(path) failed with status \(status)")
        }
    }

    private static func removeDirectory() {
        guard directory.hasPrefix("/tmp/coffer-pkcs11-test-") else { return }
        try? run("/bin/rm", ["-rf", directory], environment: [])
    }
}
