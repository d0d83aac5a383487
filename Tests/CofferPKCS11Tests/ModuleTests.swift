import CofferPKCS11
import Glibc
import Testing

@Suite("PKCS11Module")
struct ModuleTests {
    @Test("loads and initializes SoftHSM2")
    func loadsSoftHSM() throws {
        _ = try SoftHSMFixture.module()
    }

    @Test("a missing module file is moduleLoadFailed")
    func missingModule() {
        #expect {
            try PKCS11Module(path: "/nonexistent/libno-such-pkcs11.so")
        } throws: { error in
            (error as? PKCS11Error)?.code == .moduleLoadFailed
        }
    }

    @Test("a relative module path is refused")
    func relativePath() {
        #expect {
            try PKCS11Module(path: "libsofthsm2.so")
        } throws: { error in
            (error as? PKCS11Error)?.code == .moduleLoadFailed
        }
    }

    @Test("a shared object without C_GetFunctionList is moduleLoadFailed")
    func notAPKCS11Module() throws {
        let libc = "/lib/x86_64-linux-gnu/libc.so.6"
        try #require(access(libc, R_OK) == 0)
        #expect {
            try PKCS11Module(path: libc)
        } throws: { error in
            (error as? PKCS11Error)?.code == .moduleLoadFailed
        }
    }

    @Test("releasing a second handle to the module does not finalize it for others")
    func secondInstanceDoesNotFinalize() throws {
        let shared = try SoftHSMFixture.module()
        do {
            let second = try PKCS11Module(path: SoftHSMFixture.modulePath)
            let session = try PKCS11Session(
                module: second, tokenLabel: SoftHSMFixture.tokenLabel,
                pin: Array(SoftHSMFixture.userPIN.utf8))
            session.close()
        }
        let session = try PKCS11Session(
            module: shared, tokenLabel: SoftHSMFixture.tokenLabel, pin: SoftHSMFixture.userPIN)
        let key = try session.generateAESKey(label: "module-second-instance")
        #expect(try session.findAESKey(label: "module-second-instance") == key)
    }
}
