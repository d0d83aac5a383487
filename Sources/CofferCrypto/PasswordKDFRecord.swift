#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto

/// A password KDF's parameters together with its random salt: everything besides the passphrase
/// needed to derive the same key again. Stored in clear next to what the key protects.
///
/// Wire form (all integers big-endian):
/// ```
/// 0x01 || u32 iterations                  PBKDF2-HMAC-SHA256
/// 0x02 || u8 logN || u32 r || u32 p       scrypt
/// followed by  u8 saltLength (16…64) || salt
/// ```
public struct PasswordKDFRecord: Hashable, Sendable {
    public static let saltByteCount = 32
    public let parameters: PasswordKDFParameters
    public let salt: [UInt8]

    /// A record for new data: strong-enough parameters and a fresh 32-byte salt from the CSPRNG.
    public static func generate(parameters: PasswordKDFParameters = .defaultScrypt) throws -> PasswordKDFRecord {
        try parameters.validateForNewData()
        return PasswordKDFRecord(parameters: parameters, salt: randomBytes(saltByteCount))
    }

    init(parameters: PasswordKDFParameters, salt: [UInt8]) {
        self.parameters = parameters
        self.salt = salt
    }

    /// Derives a 256-bit key from `passphrase`, under `limits`.
    public func deriveKey(from passphrase: some DataProtocol, limits: PasswordKDFLimits = .default) throws -> SymmetricKey {
        try parameters.deriveKey(from: passphrase, salt: salt, outputByteCount: 32, limits: limits)
    }

    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        switch parameters {
        case .pbkdf2SHA256(let iterations):
            out.append(1)
            out.appendBigEndian(iterations)
        case .scrypt(let logN, let r, let p):
            out.append(2)
            out.append(logN)
            out.appendBigEndian(r)
            out.appendBigEndian(p)
        }
        out.append(UInt8(salt.count))
        out.append(contentsOf: salt)
        return out
    }

    /// Parses a record; rejects unknown KDFs, malformed parameters and salts outside 16…64 bytes.
    public init(encoded bytes: [UInt8]) throws {
        var reader = ByteReader(bytes)
        guard let record = PasswordKDFRecord.decode(from: &reader), reader.isAtEnd else {
            throw CofferCryptoError(.invalidParameter, detail: "password KDF record")
        }
        self = record
    }

    static func decode(from reader: inout ByteReader) -> PasswordKDFRecord? {
        let parameters: PasswordKDFParameters
        switch reader.readByte() {
        case 1:
            guard let iterations = reader.readBigEndian(UInt32.self) else { return nil }
            parameters = .pbkdf2SHA256(iterations: iterations)
        case 2:
            guard let logN = reader.readByte(), let r = reader.readBigEndian(UInt32.self),
                let p = reader.readBigEndian(UInt32.self)
            else { return nil }
            parameters = .scrypt(logN: logN, r: r, p: p)
        default:
            return nil
        }
        guard (try? parameters.validateStructure()) != nil,
            let length = reader.readByte(), (16...64).contains(length),
            let salt = reader.readBytes(Int(length))
        else { return nil }
        return PasswordKDFRecord(parameters: parameters, salt: Array(salt))
    }
}
