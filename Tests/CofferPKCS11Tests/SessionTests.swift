import CofferPKCS11
import Testing

@Suite("PKCS11Session")
struct SessionTests {
    @Test("opens a logged-in session by token label, with a String or byte PIN")
    func opensSession() throws {
        let module = try SoftHSMFixture.module()
        _ = try PKCS11Session(module: module, tokenLabel: SoftHSMFixture.tokenLabel, pin: SoftHSMFixture.userPIN)
        _ = try PKCS11Session(
            module: module, tokenLabel: SoftHSMFixture.tokenLabel, pin: Array(SoftHSMFixture.userPIN.utf8))
    }

    @Test("a wrong PIN is loginFailed and the error never shows the PIN")
    func wrongPIN() throws {
        let module = try SoftHSMFixture.module()
        let wrongPIN = "98765432"
        let error = try #require(throws: PKCS11Error.self) {
            try PKCS11Session(module: module, tokenLabel: SoftHSMFixture.loginTestTokenLabel, pin: wrongPIN)
        }
        #expect(error.code == .loginFailed)
        #expect(error.function == "C_Login")
        #expect(error.returnValueName == "CKR_PIN_INCORRECT")
        for text in [error.description, String(describing: error), String(reflecting: error)] {
            #expect(!text.contains(wrongPIN))
            #expect(!text.contains(SoftHSMFixture.userPIN))
        }
    }

    @Test("an unknown token label is tokenNotFound")
    func unknownToken() throws {
        let module = try SoftHSMFixture.module()
        let error = try #require(throws: PKCS11Error.self) {
            try PKCS11Session(module: module, tokenLabel: "no-such-token", pin: SoftHSMFixture.userPIN)
        }
        #expect(error.code == .tokenNotFound)
    }

    @Test("a token label is matched exactly, not by prefix")
    func labelPrefixDoesNotMatch() throws {
        let module = try SoftHSMFixture.module()
        let error = try #require(throws: PKCS11Error.self) {
            try PKCS11Session(module: module, tokenLabel: "coffer", pin: SoftHSMFixture.userPIN)
        }
        #expect(error.code == .tokenNotFound)
    }

    @Test("a closed session refuses further use")
    func closedSession() throws {
        let session = try SoftHSMFixture.session()
        session.close()
        session.close()
        let error = try #require(throws: PKCS11Error.self) {
            try session.findAESKey(label: "session-closed")
        }
        #expect(error.code == .sessionClosed)
    }
}
