import CofferPKCS11
import Testing

@Suite("AES keys")
struct KeyTests {
    @Test("a generated key is found again by label, also from other sessions")
    func generateAndFind() throws {
        let label = "keys-generate-find"
        let first = try SoftHSMFixture.session()
        #expect(try first.findAESKey(label: label) == nil)
        let key = try first.generateAESKey(label: label)
        #expect(key.label == label)
        #expect(try first.findAESKey(label: label) == key)

        let second = try SoftHSMFixture.session()
        #expect(try second.findAESKey(label: label) != nil)

        first.close()
        let reopened = try SoftHSMFixture.session()
        let found = try #require(try reopened.findAESKey(label: label))
        #expect(found.label == label)
    }

    @Test("an unknown label finds nothing")
    func notFound() throws {
        #expect(try SoftHSMFixture.session().findAESKey(label: "keys-never-generated") == nil)
    }

    @Test("generating a second key with the same label is duplicateKey")
    func duplicateLabel() throws {
        let session = try SoftHSMFixture.session()
        _ = try session.generateAESKey(label: "keys-duplicate")
        let error = try #require(throws: PKCS11Error.self) {
            try session.generateAESKey(label: "keys-duplicate")
        }
        #expect(error.code == .duplicateKey)
    }

    @Test("the key is sensitive, non-extractable and CKA_VALUE cannot be read")
    func nonExtractable() throws {
        let session = try SoftHSMFixture.session()
        let key = try session.generateAESKey(label: "keys-non-extractable")
        let properties = try session.keyProperties(key)
        #expect(properties.isSensitive)
        #expect(!properties.isExtractable)
        #expect(properties.valueLength == 32)
        #expect(!properties.valueIsReadable)
        #expect(properties.staysInsideToken)
    }

    @Test("a key from one session is refused by another")
    func foreignKey() throws {
        let owner = try SoftHSMFixture.session()
        let other = try SoftHSMFixture.session()
        let key = try owner.generateAESKey(label: "keys-foreign")
        let error = try #require(throws: PKCS11Error.self) {
            try other.keyProperties(key)
        }
        #expect(error.code == .invalidArgument)
    }

    @Test("an empty label is invalidArgument")
    func emptyLabel() throws {
        let error = try #require(throws: PKCS11Error.self) {
            try SoftHSMFixture.session().generateAESKey(label: "")
        }
        #expect(error.code == .invalidArgument)
    }
}
