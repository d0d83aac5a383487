#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto
import _CryptoExtras

/// Which password-based KDF turns a passphrase into a key, and at what cost.
///
/// Parameters are always recorded next to what they protect (see ``PasswordKDFRecord``), so
/// defaults can be raised in later releases while old data keeps opening with its own costs.
public enum PasswordKDFParameters: Hashable, Sendable, CustomStringConvertible {
    /// PBKDF2-HMAC-SHA256 (RFC 8018). For interoperability; prefer scrypt.
    case pbkdf2SHA256(iterations: UInt32)
    /// scrypt (RFC 7914) with cost N = 2^logN, block size r and parallelism p.
    case scrypt(logN: UInt8, r: UInt32, p: UInt32)

    /// OWASP's 2023 figure for PBKDF2-HMAC-SHA256.
    public static let defaultPBKDF2 = PasswordKDFParameters.pbkdf2SHA256(iterations: 600_000)
    /// N = 2^17, r = 8, p = 1: 128 MiB and roughly a third of a second on a server core.
    public static let defaultScrypt = PasswordKDFParameters.scrypt(logN: 17, r: 8, p: 1)

    /// The weakest parameters Coffer accepts when *creating* new protected data. Existing data is
    /// opened with whatever it recorded, as long as ``PasswordKDFLimits`` allows it.
    public static let minimumPBKDF2Iterations: UInt32 = 600_000
    public static let minimumScryptLogN: UInt8 = 15

    public var description: String {
        switch self {
        case .pbkdf2SHA256(let iterations): "PBKDF2-HMAC-SHA256(iterations: \(iterations))"
        case .scrypt(let logN, let r, let p): "scrypt(N: 2^\(logN), r: \(r), p: \(p))"
        }
    }

    /// Bytes of memory the KDF needs (scrypt's V array plus its B buffer).
    public var memoryByteCount: Int {
        switch self {
        case .pbkdf2SHA256: return 0
        case .scrypt(let logN, let r, let p):
            guard logN < 48 else { return .max }
            let (v, o1) = (128 * Int(r)).multipliedReportingOverflow(by: 1 << Int(logN))
            let (b, o2) = (128 * Int(r)).multipliedReportingOverflow(by: Int(p))
            return o1 || o2 ? .max : v + b
        }
    }

    /// Throws unless these parameters are strong enough for new data.
    public func validateForNewData() throws {
        switch self {
        case .pbkdf2SHA256(let iterations):
            guard iterations >= Self.minimumPBKDF2Iterations else {
                throw CofferCryptoError(.invalidParameter, detail: "PBKDF2 iterations below \(Self.minimumPBKDF2Iterations)")
            }
        case .scrypt(let logN, let r, let p):
            guard logN >= Self.minimumScryptLogN, r >= 8, p >= 1 else {
                throw CofferCryptoError(.invalidParameter, detail: "scrypt cost below N=2^\(Self.minimumScryptLogN), r=8")
            }
        }
        try validateStructure()
    }

    /// Throws unless the parameters are well formed for the algorithm at all.
    func validateStructure() throws {
        switch self {
        case .pbkdf2SHA256(let iterations):
            guard iterations >= 1 else { throw CofferCryptoError(.invalidParameter, detail: "PBKDF2 iterations") }
        case .scrypt(let logN, let r, let p):
            // RFC 7914: N > 1 a power of two, N < 2^(128·r/8), p ≤ (2^32−1)·32 / (128·r).
            guard logN >= 1, logN < 64, r >= 1, p >= 1, UInt64(r) * UInt64(p) < (1 << 30),
                Int(logN) < 16 * Int(r)
            else { throw CofferCryptoError(.invalidParameter, detail: "scrypt parameters") }
        }
    }

    /// Derives `outputByteCount` bytes from `passphrase` and `salt`.
    ///
    /// Applies no minimum (old data must stay readable) but does apply `limits`, so a hostile
    /// file cannot make the reader burn minutes of CPU or gigabytes of memory.
    public func deriveKey(
        from passphrase: some DataProtocol, salt: some DataProtocol, outputByteCount: Int,
        limits: PasswordKDFLimits = .default
    ) throws -> SymmetricKey {
        try validateStructure()
        try limits.check(self)
        guard outputByteCount >= 1, outputByteCount <= 1024 else {
            throw CofferCryptoError(.invalidParameter, detail: "output length")
        }
        do {
            switch self {
            case .pbkdf2SHA256(let iterations):
                return try KDF.Insecure.PBKDF2.deriveKey(
                    from: passphrase, salt: salt, using: .sha256, outputByteCount: outputByteCount,
                    unsafeUncheckedRounds: Int(iterations))
            case .scrypt(let logN, let r, let p):
                return try KDF.Scrypt.deriveKey(
                    from: passphrase, salt: salt, outputByteCount: outputByteCount,
                    rounds: 1 << Int(logN), blockSize: Int(r), parallelism: Int(p),
                    maxMemory: memoryByteCount)
            }
        } catch let error as CofferCryptoError {
            throw error
        } catch {
            throw CofferCryptoError(.internalFailure)
        }
    }
}

/// The most work a reader will do for recorded KDF parameters.
public struct PasswordKDFLimits: Sendable, Hashable {
    public var maximumPBKDF2Iterations: UInt32
    public var maximumScryptMemoryBytes: Int
    public var maximumScryptParallelism: UInt32

    /// 10 million PBKDF2 iterations; scrypt up to 1 GiB of memory and p ≤ 4 — comfortably above
    /// every default Coffer has written, and still seconds rather than minutes.
    public static let `default` = PasswordKDFLimits(
        maximumPBKDF2Iterations: 10_000_000, maximumScryptMemoryBytes: 1 << 30 + 1 << 20,
        maximumScryptParallelism: 4)

    public init(maximumPBKDF2Iterations: UInt32, maximumScryptMemoryBytes: Int, maximumScryptParallelism: UInt32) {
        self.maximumPBKDF2Iterations = maximumPBKDF2Iterations
        self.maximumScryptMemoryBytes = maximumScryptMemoryBytes
        self.maximumScryptParallelism = maximumScryptParallelism
    }

    func check(_ parameters: PasswordKDFParameters) throws {
        switch parameters {
        case .pbkdf2SHA256(let iterations):
            guard iterations <= maximumPBKDF2Iterations else { throw CofferCryptoError(.workFactorTooHigh) }
        case .scrypt(_, _, let p):
            guard parameters.memoryByteCount <= maximumScryptMemoryBytes, p <= maximumScryptParallelism else {
                throw CofferCryptoError(.workFactorTooHigh)
            }
        }
    }
}
