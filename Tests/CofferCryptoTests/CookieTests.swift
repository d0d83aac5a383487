import Foundation
import Testing

@testable import CofferCrypto

@Suite struct CookieTests {
    let ring = SigningKeyRing.generate()
    let session = try! TokenPurpose("session")
    let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    @Test func secureDefaults() throws {
        let cookie = try SetCookie(name: "sid", value: "abc", maxAge: 3600)
        #expect(cookie.headerValue == "sid=abc; Max-Age=3600; Path=/; Secure; HttpOnly; SameSite=Lax")
        let strict = try SetCookie(name: "__Host-sid", value: "abc", maxAge: nil, sameSite: .strict)
        #expect(strict.headerValue == "__Host-sid=abc; Path=/; Secure; HttpOnly; SameSite=Strict")
        let scoped = try SetCookie(name: "pref", value: "x", maxAge: 5, path: "/app", domain: "example.com", httpOnly: false, sameSite: nil)
        #expect(scoped.headerValue == "pref=x; Max-Age=5; Domain=example.com; Path=/app; Secure")
        #expect(try SetCookie.deletion(name: "sid").headerValue == "sid=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax")
    }

    @Test func tokenCookieMaxAgeFollowsExpiry() throws {
        let text = try ring.sign([1], purpose: session, lifetime: .seconds(1800), now: t0)
        let token = try ring.verify(text, purpose: session, now: t0)
        let cookie = try SetCookie(name: "__Host-session", token: text, expiresAt: token.expiresAt, now: t0.addingTimeInterval(0.5))
        #expect(cookie.headerValue == "__Host-session=\(text); Max-Age=1799; Path=/; Secure; HttpOnly; SameSite=Lax")
        let late = try SetCookie(name: "s", token: text, expiresAt: token.expiresAt, now: t0.addingTimeInterval(5000))
        #expect(late.maxAge == 0)
        #expect(!cookie.description.contains(text))
    }

    @Test(arguments: ["", "a b", "a;b", "a=b", "a,b", "é", "a\"", "a\tb", "(x)", "a/b"])
    func badNamesAreRefused(name: String) {
        #expect(throws: CofferCryptoError(.invalidParameter)) { try SetCookie(name: name, value: "v", maxAge: 1) }
    }

    @Test(arguments: ["a b", "a;b", "a,b", "\"quoted\"", "back\\slash", "é", "line\nbreak", "a\u{7F}"])
    func badValuesAreRefused(value: String) {
        #expect(throws: CofferCryptoError(.invalidParameter)) { try SetCookie(name: "n", value: value, maxAge: 1) }
    }

    @Test func attributeRules() throws {
        #expect(throws: CofferCryptoError(.invalidParameter)) { try SetCookie(name: "n", value: "v", maxAge: -1) }
        #expect(throws: CofferCryptoError(.invalidParameter)) { try SetCookie(name: "n", value: "v", maxAge: 1, path: "relative") }
        #expect(throws: CofferCryptoError(.invalidParameter)) { try SetCookie(name: "n", value: "v", maxAge: 1, path: "/a;Domain=evil") }
        for domain in ["", ".example.com", "exa mple.com", "-a.com", "a..com", "a.com;x", String(repeating: "a", count: 64) + ".com"] {
            #expect(throws: CofferCryptoError(.invalidParameter)) { try SetCookie(name: "n", value: "v", maxAge: 1, domain: domain) }
        }
        #expect(throws: CofferCryptoError(.invalidParameter)) { try SetCookie(name: "n", value: "v", maxAge: 1, secure: false, sameSite: SetCookie.SameSite.none) }
        #expect(throws: CofferCryptoError(.invalidParameter)) { try SetCookie(name: "__Secure-n", value: "v", maxAge: 1, secure: false) }
        #expect(throws: CofferCryptoError(.invalidParameter)) { try SetCookie(name: "__Host-n", value: "v", maxAge: 1, secure: false) }
        #expect(throws: CofferCryptoError(.invalidParameter)) { try SetCookie(name: "__Host-n", value: "v", maxAge: 1, path: "/app") }
        #expect(throws: CofferCryptoError(.invalidParameter)) { try SetCookie(name: "__Host-n", value: "v", maxAge: 1, path: nil) }
        #expect(throws: CofferCryptoError(.invalidParameter)) { try SetCookie(name: "__Host-n", value: "v", maxAge: 1, domain: "example.com") }
        #expect(throws: CofferCryptoError(.messageTooLarge)) { try SetCookie(name: "n", value: String(repeating: "a", count: 4096), maxAge: 1) }
        // Allowed: __Secure- with a domain, SameSite=None with Secure, plain HTTP when asked for.
        _ = try SetCookie(name: "__Secure-n", value: "v", maxAge: 1, domain: "example.com")
        _ = try SetCookie(name: "n", value: "v", maxAge: 1, sameSite: SetCookie.SameSite.none)
        #expect(try SetCookie(name: "n", value: "v", maxAge: 1, secure: false).headerValue == "n=v; Max-Age=1; Path=/; HttpOnly; SameSite=Lax")
    }

    @Test func parsingTheCookieHeader() {
        let header = "theme=dark;  sid=one ; other=x=y; sid=\"two\"; broken; sid=bad value; =empty; SID=upper; sid="
        #expect(CookieHeader.values(named: "sid", in: header) == ["one", "two", ""])
        #expect(CookieHeader.value(named: "theme", in: header) == "dark")
        #expect(CookieHeader.value(named: "other", in: header) == "x=y")
        #expect(CookieHeader.value(named: "SID", in: header) == "upper")
        #expect(CookieHeader.value(named: "missing", in: header) == nil)
        #expect(CookieHeader.values(named: "sid", in: "") == [])
        #expect(CookieHeader.value(named: "a", in: "a=\"\"") == "")
        #expect(CookieHeader.value(named: "a", in: "a=\"") == nil)
    }

    @Test func verifyingFromTheCookieHeaderTriesEveryValue() throws {
        let good = try ring.sign([1], purpose: session, lifetime: .seconds(60), now: t0)
        let tossed = try SigningKeyRing.generate().sign([66], purpose: session, lifetime: .seconds(60), now: t0)
        // An attacker's cookie with the same name, first in the header, cannot shadow the real one.
        let header = "sid=\(tossed); theme=dark; sid=\(good)"
        #expect(try ring.verify(cookieHeader: header, name: "sid", purpose: session, now: t0).payload == [1])
        #expect(throws: CofferCryptoError.authenticationFailed) { try ring.verify(cookieHeader: "sid=\(tossed)", name: "sid", purpose: session, now: t0) }
        #expect(throws: CofferCryptoError.authenticationFailed) { try ring.verify(cookieHeader: "theme=dark", name: "sid", purpose: session, now: t0) }
        // Expired (and authentic) is reported as such, so the app can say "sign in again".
        #expect(throws: CofferCryptoError(.tokenExpired)) {
            try ring.verify(cookieHeader: "sid=\(tossed); sid=\(good)", name: "sid", purpose: session, now: t0.addingTimeInterval(600))
        }
    }
}
