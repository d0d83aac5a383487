import Crypto
import Foundation
import Testing

@testable import CofferCrypto

@Suite struct SecretKeyTests {
    @Test func keysNeverPrintTheirBytes() throws {
        let bytes = [UInt8](repeating: 0xAB, count: 32)
        let kek = try KeyEncryptionKey(restoring: bytes, reference: KeyReference("payments", version: 4))
        let data = DataKey.generate()
        for text in [String(describing: kek), String(reflecting: kek), "\(kek)", String(describing: data), String(reflecting: data)] {
            #expect(!text.lowercased().contains("abab"), "\(text)")
            #expect(text.contains("redacted"))
        }
        var dumped = ""
        dump(kek, to: &dumped)
        #expect(!dumped.lowercased().contains("abab") && !dumped.contains("171"))
        #expect(Mirror(reflecting: data).children.isEmpty)
        #expect(String(describing: kek).contains("payments/v4"))
    }

    @Test func equalityAndRestoring() throws {
        let reference = try KeyReference("k", version: 1)
        let a = try KeyEncryptionKey(restoring: [UInt8](repeating: 1, count: 32), reference: reference)
        let b = try KeyEncryptionKey(restoring: [UInt8](repeating: 1, count: 32), reference: reference)
        let c = try KeyEncryptionKey(restoring: [UInt8](repeating: 2, count: 32), reference: reference)
        #expect(a == b)
        #expect(a != c)
        #expect(a != (try KeyEncryptionKey(restoring: [UInt8](repeating: 1, count: 32), reference: KeyReference("k", version: 2))))
        #expect(throws: CofferCryptoError(.invalidKeySize)) { try KeyEncryptionKey(restoring: [UInt8](repeating: 1, count: 16), reference: reference) }
        #expect(DataKey.generate() != DataKey.generate())
    }

    @Test func keyIdentifiersAreValidated() {
        for good in ["a", "A9", "orders.v2_eu-west", String(repeating: "x", count: 128)] {
            #expect((try? KeyIdentifier(good)) != nil, "\(good)")
        }
        for bad in ["", "-lead", ".hidden", "has space", "slash/name", "ünïcode", String(repeating: "x", count: 129), "a\0b"] {
            #expect(throws: CofferCryptoError(.invalidKeyIdentifier), "\(bad)") { try KeyIdentifier(bad) }
        }
        #expect(throws: CofferCryptoError(.invalidKeyVersion)) { try KeyVersion(0) }
        #expect(throws: CofferCryptoError(.invalidKeyVersion)) { try KeyVersion(.max).next() }
    }

    @Test func errorsCarryNoSecrets() throws {
        let error = CofferCryptoError.authenticationFailed
        #expect(error.description.hasPrefix("authentication_failed:"))
        #expect(CofferCryptoError(.invalidParameter, detail: "x") == CofferCryptoError(.invalidParameter))
    }
}

@Suite struct PasswordKDFTests {
    @Test func recordRoundTripAndDerivation() throws {
        let record = try PasswordKDFRecord.generate(parameters: .scrypt(logN: 15, r: 8, p: 1))
        #expect(record.salt.count == 32)
        let decoded = try PasswordKDFRecord(encoded: record.encoded())
        #expect(decoded == record)
        let a = try record.deriveKey(from: Array("correct horse".utf8))
        #expect(try decoded.deriveKey(from: Array("correct horse".utf8)) == a)
        #expect(try decoded.deriveKey(from: Array("correct horsf".utf8)) != a)
        #expect(try PasswordKDFRecord.generate(parameters: .scrypt(logN: 15, r: 8, p: 1)).salt != record.salt)
    }

    @Test func newDataNeedsStrongParameters() throws {
        #expect(throws: CofferCryptoError(.invalidParameter)) { try PasswordKDFRecord.generate(parameters: .pbkdf2SHA256(iterations: 100_000)) }
        #expect(throws: CofferCryptoError(.invalidParameter)) { try PasswordKDFRecord.generate(parameters: .scrypt(logN: 10, r: 8, p: 1)) }
        #expect(PasswordKDFParameters.defaultPBKDF2 == .pbkdf2SHA256(iterations: 600_000))
        _ = try PasswordKDFRecord.generate(parameters: .defaultPBKDF2)
    }

    @Test func hostileWorkFactorsAreRefusedBeforeAnyWork() throws {
        let salt = [UInt8](repeating: 0, count: 16)
        #expect(throws: CofferCryptoError(.workFactorTooHigh)) {
            try PasswordKDFParameters.scrypt(logN: 30, r: 8, p: 1).deriveKey(from: [1], salt: salt, outputByteCount: 32)
        }
        #expect(throws: CofferCryptoError(.workFactorTooHigh)) {
            try PasswordKDFParameters.scrypt(logN: 14, r: 8, p: 64).deriveKey(from: [1], salt: salt, outputByteCount: 32)
        }
        #expect(throws: CofferCryptoError(.workFactorTooHigh)) {
            try PasswordKDFParameters.pbkdf2SHA256(iterations: .max).deriveKey(from: [1], salt: salt, outputByteCount: 32)
        }
    }

    @Test func malformedRecordsAreRejected() throws {
        let good = try PasswordKDFRecord.generate(parameters: .defaultScrypt).encoded()
        for bad in [[], [3] + good.dropFirst(), Array(good.dropLast()), good + [0], [2, 0, 0, 0, 0, 8, 0, 0, 0, 1, 16] + [UInt8](repeating: 0, count: 16)] {
            #expect(throws: CofferCryptoError(.invalidParameter)) { try PasswordKDFRecord(encoded: Array(bad)) }
        }
    }

    @Test func contextEncodingIsCanonical() throws {
        let a: EncryptionContext = ["b": "2", "a": "1"]
        let b = EncryptionContext(["a": "1", "b": "2"])
        #expect(try a.canonicalEncoding() == b.canonicalEncoding())
        #expect(try a.canonicalEncoding() == [0, 2, 0, 1, 97, 0, 1, 49, 0, 1, 98, 0, 1, 50])
        #expect(try EncryptionContext.empty.canonicalEncoding() == [0, 0])
        #expect(throws: CofferCryptoError(.invalidContext)) { try EncryptionContext(["": "x"]).canonicalEncoding() }
        #expect(!a.description.contains("1"))
    }
}
