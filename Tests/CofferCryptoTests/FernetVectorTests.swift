import Foundation
import Testing

@testable import CofferCrypto

/// Where the Fernet spec vectors live: `$COFFER_FERNET_VECTORS_DIR`, else the `fernet/` folder of
/// PyPI's `cryptography-vectors` package as the local python3 finds it (`scripts/test.sh`
/// installs it). They are read from there, never copied into the repository; when neither is
/// there the suite is skipped with the reason printed.
enum FernetVectorDirectory {
    static let url: URL? = {
        if let path = ProcessInfo.processInfo.environment["COFFER_FERNET_VECTORS_DIR"] {
            return URL(fileURLWithPath: path)
        }
        let printed = try? PythonRunner.run(
            script: "import cryptography_vectors, os; print(os.path.dirname(cryptography_vectors.__file__))", input: Data())
        let found = printed.flatMap { output -> URL? in
            let path = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let url = URL(fileURLWithPath: path).appendingPathComponent("fernet")
            return FileManager.default.fileExists(atPath: url.appendingPathComponent("verify.json").path) ? url : nil
        }
        if found == nil { print("SKIP Fernet spec vectors: \(skipReason)") }
        return found
    }()

    static let skipReason: Comment =
        "Fernet spec vectors not found: set COFFER_FERNET_VECTORS_DIR or pip install cryptography-vectors (scripts/test.sh does)"

    static func load<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        let url = try #require(url)
        return try JSONDecoder().decode(T.self, from: Data(contentsOf: url.appendingPathComponent(name)))
    }
}

/// One entry of generate.json, verify.json or invalid.json (https://github.com/fernet/spec).
struct FernetVector: Decodable {
    let token: String
    let now: String
    let secret: String
    let src: String?
    let iv: [UInt8]?
    let ttl_sec: Int64?
    let desc: String?

    var nowSeconds: Int64 {
        get throws {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime]
            let date = try #require(formatter.date(from: now), "unparseable time \(now)")
            return Int64(date.timeIntervalSince1970)
        }
    }
}

@Suite(.enabled(if: FernetVectorDirectory.url != nil, FernetVectorDirectory.skipReason))
struct FernetVectorTests {
    @Test func generate() throws {
        let vectors = try FernetVectorDirectory.load("generate.json", as: [FernetVector].self)
        #expect(!vectors.isEmpty)
        for vector in vectors {
            let key = try FernetKey(base64: vector.secret)
            let token = try FernetToken.seal(
                Array(try #require(vector.src).utf8), timestamp: UInt64(try vector.nowSeconds), iv: try #require(vector.iv), key: key)
            #expect(token == vector.token)
        }
    }

    @Test func verify() throws {
        let vectors = try FernetVectorDirectory.load("verify.json", as: [FernetVector].self)
        #expect(!vectors.isEmpty)
        for vector in vectors {
            let fernet = try Fernet(key: vector.secret)
            let plaintext = try fernet.decrypt(vector.token, ttl: vector.ttl_sec, at: try vector.nowSeconds)
            #expect(plaintext == Array(try #require(vector.src).utf8))
            #expect(try MultiFernet([Fernet(key: Fernet.generateKey()), fernet]).decrypt(vector.token, ttl: vector.ttl_sec, at: try vector.nowSeconds) == plaintext)
        }
    }

    @Test func invalid() throws {
        let vectors = try FernetVectorDirectory.load("invalid.json", as: [FernetVector].self)
        #expect(vectors.count >= 8)
        for vector in vectors {
            let fernet = try Fernet(key: vector.secret)
            #expect(throws: CofferCryptoError.authenticationFailed, "\(vector.desc ?? "?")") {
                try fernet.decrypt(vector.token, ttl: vector.ttl_sec, at: try vector.nowSeconds)
            }
        }
    }
}
