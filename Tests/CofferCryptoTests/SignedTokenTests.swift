import Crypto
import Foundation
import Testing

@testable import CofferCrypto

@Suite struct SignedTokenTests {
    let ring = SigningKeyRing.generate()
    let session = try! TokenPurpose("session")
    let reset = try! TokenPurpose("password-reset")
    let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    struct Session: Codable, Equatable {
        let user: String
        let roles: [String]
    }

    @Test(arguments: [0, 1, 100, 4096, 64 * 1024])
    func bytesRoundTrip(size: Int) throws {
        let payload = patternBytes(size)
        let text = try ring.sign(payload, purpose: session, lifetime: .seconds(3600), now: t0)
        let token = try ring.verify(text, purpose: session, now: t0.addingTimeInterval(10))
        #expect(token.payload == payload)
        #expect(!token.isJSON)
        #expect(token.keyID == ring.primary.id)
        #expect(token.issuedAt == t0)
        #expect(token.expiresAt == t0.addingTimeInterval(3600))
        // URL- and cookie-safe text: only the unpadded base64url alphabet.
        #expect(text.utf8.allSatisfy { CookieSyntax.isCookieOctet($0) && $0 != UInt8(ascii: "=") && $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "/") })
    }

    @Test func oversizedPayloadIsRefused() throws {
        #expect(throws: CofferCryptoError(.messageTooLarge)) { try ring.sign(patternBytes(64 * 1024 + 1), purpose: session, lifetime: .seconds(1)) }
    }

    @Test func jsonRoundTrip() throws {
        let value = Session(user: "ada", roles: ["admin", "ops"])
        let text = try ring.sign(json: value, purpose: session, lifetime: .seconds(60), now: t0)
        #expect(try ring.verify(text, as: Session.self, purpose: session, now: t0) == value)
        let token = try ring.verify(text, purpose: session, now: t0)
        #expect(token.isJSON)
        #expect(try JSONDecoder().decode(Session.self, from: Data(token.payload)) == value)
        // A raw-bytes token is not JSON, even if its bytes parse as JSON; a wrong type is a caller error.
        let raw = try ring.sign(Array(#"{"user":"ada","roles":[]}"#.utf8), purpose: session, lifetime: .seconds(60), now: t0)
        #expect(throws: CofferCryptoError(.invalidParameter)) { try ring.verify(raw, as: Session.self, purpose: session, now: t0) }
        #expect(throws: CofferCryptoError(.invalidParameter)) { try ring.verify(text, as: [Int].self, purpose: session, now: t0) }
    }

    @Test func preSerializedJSONIsSignedVerbatimAndChecked() throws {
        let json = Array(#"{ "user" : "ada", "roles" : ["ops"] }"#.utf8)
        let text = try ring.sign(jsonText: json, purpose: session, lifetime: .seconds(60), now: t0)
        let token = try ring.verify(text, purpose: session, now: t0)
        #expect(token.isJSON && token.payload == json)
        #expect(try token.decodeJSON(Session.self) == Session(user: "ada", roles: ["ops"]))
        #expect(try ring.verify(ring.sign(jsonText: Array("42".utf8), purpose: session, lifetime: .seconds(60), now: t0), purpose: session, now: t0).isJSON)
        for bad in ["", "{", "{'a': 1}", "[1 2]", "nul"] {
            #expect(throws: CofferCryptoError(.invalidParameter), "\(bad)") {
                try ring.sign(jsonText: Array(bad.utf8), purpose: session, lifetime: .seconds(60), now: t0)
            }
        }
    }

    @Test func purposeIsBound() throws {
        let text = try ring.sign([1, 2, 3], purpose: session, lifetime: .seconds(60), now: t0)
        #expect(throws: CofferCryptoError.authenticationFailed) { try ring.verify(text, purpose: reset, now: t0) }
        #expect(throws: CofferCryptoError.authenticationFailed) { try ring.verify(text, purpose: TokenPurpose("Session"), now: t0) }
        #expect(throws: CofferCryptoError.authenticationFailed) { try ring.verify(text, purpose: TokenPurpose("session2"), now: t0) }
        for bad in ["", "has space", "é", String(repeating: "a", count: 65), "a;b"] {
            #expect(throws: CofferCryptoError(.invalidParameter)) { try TokenPurpose(bad) }
        }
    }

    @Test func rotationKeepsOldTokensAndRetiringStopsThem() throws {
        var ring = ring
        let v1 = ring.primary.id
        let old = try ring.sign([1], purpose: session, lifetime: .seconds(600), now: t0)
        let v2 = try ring.rotate().id
        #expect(v2 == (try v1.next()))
        #expect(ring.primary.id == v2)
        let new = try ring.sign([2], purpose: session, lifetime: .seconds(600), now: t0)
        #expect(try ring.verify(new, purpose: session, now: t0).keyID == v2)
        #expect(try ring.verify(old, purpose: session, now: t0).keyID == v1)  // no one is logged out
        #expect(throws: CofferCryptoError(.invalidParameter)) { try ring.retire(v2) }  // not the primary
        try ring.retire(v1)
        #expect(ring.retiredKeyIDs == [v1])
        #expect(ring.key(id: v1) == nil)
        #expect(throws: CofferCryptoError.authenticationFailed) { try ring.verify(old, purpose: session, now: t0) }
        #expect(try ring.verify(new, purpose: session, now: t0).payload == [2])
        #expect(throws: CofferCryptoError(.invalidKeyVersion)) { try ring.retire(v1) }
        // Retired ids are never reused.
        #expect(try ring.rotate().id == (try v2.next()))
        #expect(throws: CofferCryptoError(.invalidKeyVersion)) { try SigningKeyRing(keys: [ring.primary], retiredKeyIDs: [ring.primary.id]) }
        #expect(throws: CofferCryptoError(.invalidKeyVersion)) { try SigningKeyRing(keys: []) }
        #expect(throws: CofferCryptoError(.invalidKeyVersion)) { try SigningKeyRing(keys: [ring.primary, ring.primary]) }
    }

    @Test func anotherRingOrAForeignKeyWithTheSameIdFails() throws {
        let text = try ring.sign([1], purpose: session, lifetime: .seconds(60), now: t0)
        #expect(throws: CofferCryptoError.authenticationFailed) { try SigningKeyRing.generate().verify(text, purpose: session, now: t0) }
    }

    /// Valid exactly when issuedAt − skew ≤ now < expiresAt + skew (whole seconds).
    @Test(arguments: [
        (0.0, 60, "valid"), (3599.9, 0, "valid"), (3600, 0, "expired"), (3659.9, 60, "valid"), (3660, 60, "expired"),
        (-60, 60, "valid"), (-60.5, 60, "notYetValid"), (-61, 60, "notYetValid"), (-1, 0, "notYetValid"), (-300, 600, "valid"),
    ] as [(Double, Int, String)])
    func validityWindow(offset: Double, skew: Int, verdict: String) throws {
        let text = try ring.sign([9], purpose: session, lifetime: .seconds(3600), now: t0)
        let check = { try ring.verify(text, purpose: session, clockSkew: .seconds(skew), now: t0.addingTimeInterval(offset)) }
        switch verdict {
        case "valid": #expect(try check().payload == [9])
        case "expired": #expect(throws: CofferCryptoError(.tokenExpired)) { try check() }
        default: #expect(throws: CofferCryptoError(.tokenNotYetValid)) { try check() }
        }
    }

    @Test func lifetimeAndSkewParameters() throws {
        #expect(throws: CofferCryptoError(.invalidParameter)) { try ring.sign([1], purpose: session, lifetime: .zero, now: t0) }
        #expect(throws: CofferCryptoError(.invalidParameter)) { try ring.sign([1], purpose: session, lifetime: .seconds(-5), now: t0) }
        #expect(throws: CofferCryptoError(.invalidParameter)) { try ring.sign([1], purpose: session, lifetime: .seconds(1), now: Date(timeIntervalSince1970: -10)) }
        // Fractions round up to a whole second.
        let text = try ring.sign([1], purpose: session, lifetime: .milliseconds(1500), now: t0)
        #expect(try ring.verify(text, purpose: session, now: t0).expiresAt == t0.addingTimeInterval(2))
        #expect(throws: CofferCryptoError(.invalidParameter)) { try ring.verify(text, purpose: session, clockSkew: .seconds(-1), now: t0) }
    }

    /// Expiry is reported only for authentic tokens: a forged or tampered expired token is
    /// `authentication_failed`, never `token_expired`.
    @Test func expiryIsNoOracle() throws {
        let text = try ring.sign([1], purpose: session, lifetime: .seconds(10), now: t0)
        let later = t0.addingTimeInterval(1000)
        #expect(throws: CofferCryptoError(.tokenExpired)) { try ring.verify(text, purpose: session, now: later) }
        #expect(throws: CofferCryptoError.authenticationFailed) { try ring.verify(text, purpose: reset, now: later) }
        var bytes = Base64URL.decode(Substring(text))!
        bytes[bytes.count - 1] ^= 1
        #expect(throws: CofferCryptoError.authenticationFailed) { try ring.verify(Base64URL.encode(bytes), purpose: session, now: later) }
    }

    @Test func everyFlippedBitTruncationAndExtensionFails() throws {
        let text = try ring.sign(Array("user=42".utf8), purpose: session, lifetime: .seconds(60), now: t0)
        let bytes = Base64URL.decode(Substring(text))!
        var accepted = 0
        everySingleBitFlip(of: bytes) { copy, _ in
            if (try? ring.verify(Base64URL.encode(copy), purpose: session, now: t0)) != nil { accepted += 1 }
        }
        #expect(accepted == 0)
        for length in 0..<bytes.count {
            #expect(throws: CofferCryptoError.authenticationFailed) { try ring.verify(Base64URL.encode(Array(bytes.prefix(length))), purpose: session, now: t0) }
        }
        #expect(throws: CofferCryptoError.authenticationFailed) { try ring.verify(Base64URL.encode(bytes + [0]), purpose: session, now: t0) }
        let variants = [text + "=", text + "\n", " " + text, text.replacingOccurrences(of: "-", with: "+"), "", "!!!!"]
        for variant in variants where variant != text {
            #expect(throws: CofferCryptoError.authenticationFailed) { try ring.verify(variant, purpose: session, now: t0) }
        }
    }

    /// A structurally wrong token with a correct MAC is refused too: the layout is checked, not
    /// only the MAC (bad version, key id 0, expiry not after issue, unknown payload type).
    @Test(arguments: [(0, 0x02), (0, 0x00), (21, 0x02), (21, 0xFF)] as [(Int, UInt8)])
    func structureIsCheckedEvenWithAValidMAC(offset: Int, value: UInt8) throws {
        let text = try ring.sign([1], purpose: session, lifetime: .seconds(60), now: t0)
        var body = Array(Base64URL.decode(Substring(text))!.dropLast(32))
        body[offset] = value
        let tag = HMAC<SHA256>.authenticationCode(for: SignedTokenFormat.macInput(purpose: session, body: body), using: ring.primary.symmetricKey)
        #expect(throws: CofferCryptoError.authenticationFailed) { try ring.verify(Base64URL.encode(body + tag), purpose: session, now: t0) }
        // Control: the same re-signing without the edit verifies.
        let original = Array(Base64URL.decode(Substring(text))!.dropLast(32))
        let good = HMAC<SHA256>.authenticationCode(for: SignedTokenFormat.macInput(purpose: session, body: original), using: ring.primary.symmetricKey)
        #expect(try ring.verify(Base64URL.encode(original + good), purpose: session, now: t0).payload == [1])
    }

    /// The published layout (docs/FORMAT.md): fixed fields at fixed offsets, MAC over the domain
    /// label, the length-prefixed purpose and the body.
    @Test func layoutMatchesTheSpecification() throws {
        let key = try SigningKey(restoring: [UInt8](repeating: 0x11, count: 32), id: KeyVersion(7))
        let ring = try SigningKeyRing(keys: [key])
        let text = try ring.sign(Array("hi".utf8), purpose: session, lifetime: .seconds(3600), now: t0)
        let bytes = Base64URL.decode(Substring(text))!
        let expectedBody: [UInt8] = [0x01, 0, 0, 0, 7] + [0, 0, 0, 0, 0x65, 0x53, 0xF1, 0x00] + [0, 0, 0, 0, 0x65, 0x53, 0xFF, 0x10] + [0x00] + Array("hi".utf8)
        #expect(Array(bytes.dropLast(32)) == expectedBody)
        let macInput = Array("coffer-signed-token-v1".utf8) + [0, 7] + Array("session".utf8) + expectedBody
        #expect(Array(bytes.suffix(32)) == Array(HMAC<SHA256>.authenticationCode(for: macInput, using: key.symmetricKey)))
    }

    /// The token text codec agrees with the core's canonical unpadded base64url for every length,
    /// and refuses what that refuses.
    @Test func textCodecIsCanonicalUnpaddedBase64URL() {
        for length in 0..<80 {
            let bytes = patternBytes(length, seed: UInt64(length) &+ 7)
            let text = SignedTokenFormat.text(bytes)
            #expect(text == Base64URL.encode(bytes))
            #expect(SignedTokenFormat.bytes(fromText: text) == bytes)
        }
        for bad in ["A", "AB=", "AB==", "AB\n", "A+B_", "AB C", "AF"] {
            #expect(SignedTokenFormat.bytes(fromText: bad) == nil, "\(bad)")
            #expect(Base64URL.decode(Substring(bad)) == nil, "\(bad)")
        }
    }

    @Test func keysNeverPrintAndTextRoundTrips() throws {
        let key = ring.primary
        let secret = key.unsafeSecretText
        #expect(secret.utf8.count == 43)
        #expect(try SigningKey(id: key.id, base64: secret) == key)
        var dumped = ""
        dump(ring, to: &dumped)
        for rendering in [key.description, "\(key)", String(reflecting: key), "\(ring)", dumped] {
            #expect(!rendering.contains(String(secret.prefix(12))))
        }
        #expect(throws: CofferCryptoError(.invalidKeySize)) { try SigningKey(id: .first, base64: secret + "=") }
        #expect(throws: CofferCryptoError(.invalidKeySize)) { try SigningKey(id: .first, base64: String(secret.dropLast())) }
    }
}
