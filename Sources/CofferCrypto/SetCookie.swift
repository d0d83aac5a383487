#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A `Set-Cookie` header value (RFC 6265) with secure defaults, validated when it is made so
/// that ``headerValue`` can never emit a malformed or injectable header.
///
/// Defaults, and why:
/// - `Secure`: the cookie (often a session token) never travels over plain HTTP.
/// - `HttpOnly`: page scripts cannot read it, so an XSS bug cannot exfiltrate the session.
/// - `SameSite=Lax`: not sent on cross-site subresource requests and POSTs (CSRF), still sent
///   on top-level navigations so links into the site keep the user signed in. Use `.strict`
///   for cookies that authorise state changes only.
/// - `Path=/` and no `Domain`: a host-only cookie for the whole site, not shared with subdomains.
/// - `Max-Age` rather than `Expires`: relative, so the client's wrong clock cannot stretch it.
///
/// Name prefixes (RFC 6265bis §4.1.3) are enforced: `__Secure-` requires `Secure`; `__Host-`
/// requires `Secure`, `Path=/` and no `Domain`, which pins the cookie to exactly this host and
/// stops a subdomain from overwriting it. `SameSite=None` requires `Secure`, as browsers do.
public struct SetCookie: Sendable, Hashable, CustomStringConvertible {
    /// The `SameSite` attribute values.
    public enum SameSite: String, Sendable, Hashable {
        case strict = "Strict"
        case lax = "Lax"
        case none = "None"
    }

    /// RFC 6265 §6.1: user agents need support no more than 4096 bytes of name and value.
    public static let maximumNameAndValueByteCount = 4096

    public let name: String
    public let value: String
    /// Seconds until the cookie expires; `nil` for a session cookie, 0 to delete it.
    public let maxAge: Int64?
    public let path: String?
    public let domain: String?
    public let secure: Bool
    public let httpOnly: Bool
    public let sameSite: SameSite?

    /// - Throws: ``CofferCryptoError/Code/invalidParameter`` naming the offending attribute (never
    ///   echoing the value) when the name is not an RFC 6265 token, the value has characters
    ///   outside `cookie-octet`, the path or domain is malformed, a prefix rule or the
    ///   SameSite=None rule is broken, or `maxAge` is negative; ``CofferCryptoError/Code/messageTooLarge``
    ///   beyond 4096 bytes of name and value.
    public init(
        name: String, value: String, maxAge: Int64?, path: String? = "/", domain: String? = nil,
        secure: Bool = true, httpOnly: Bool = true, sameSite: SameSite? = .lax
    ) throws {
        func invalid(_ what: String) -> CofferCryptoError { CofferCryptoError(.invalidParameter, detail: "cookie \(what)") }
        guard !name.isEmpty, name.utf8.allSatisfy(CookieSyntax.isTokenCharacter) else { throw invalid("name") }
        guard CookieSyntax.isValidValue(Substring(value)) else { throw invalid("value") }
        guard name.utf8.count + value.utf8.count <= SetCookie.maximumNameAndValueByteCount else {
            throw CofferCryptoError(.messageTooLarge, detail: "cookie name and value exceed 4096 bytes")
        }
        if let maxAge, maxAge < 0 { throw invalid("Max-Age") }
        if let path, !(path.hasPrefix("/") && path.utf8.allSatisfy(CookieSyntax.isPathCharacter)) { throw invalid("Path") }
        if let domain, !CookieSyntax.isValidDomain(domain) { throw invalid("Domain") }
        if sameSite == SameSite.none && !secure { throw invalid("SameSite=None without Secure") }
        if name.hasPrefix("__Secure-") && !secure { throw invalid("__Secure- prefix without Secure") }
        if name.hasPrefix("__Host-") && !(secure && path == "/" && domain == nil) {
            throw invalid("__Host- prefix requires Secure, Path=/ and no Domain")
        }
        (self.name, self.value, self.maxAge, self.path, self.domain) = (name, value, maxAge, path, domain)
        (self.secure, self.httpOnly, self.sameSite) = (secure, httpOnly, sameSite)
    }

    /// A cookie carrying a signed token until it expires: `Max-Age` is the whole seconds from
    /// `now` to `token.expiresAt` (0, i.e. delete, if it already passed).
    public init(
        name: String, token text: String, expiresAt: Date, now: Date = Date(), path: String? = "/", domain: String? = nil,
        sameSite: SameSite = .lax
    ) throws {
        let remaining = max(0, (expiresAt.timeIntervalSince1970 - now.timeIntervalSince1970).rounded(.down))
        try self.init(name: name, value: text, maxAge: Int64(min(remaining, 9e18)), path: path, domain: domain, sameSite: sameSite)
    }

    /// A header that deletes the cookie `name` (empty value, `Max-Age=0`); path and domain must
    /// match the ones it was set with.
    public static func deletion(name: String, path: String? = "/", domain: String? = nil) throws -> SetCookie {
        try SetCookie(name: name, value: "", maxAge: 0, path: path, domain: domain)
    }

    /// The header value, for example `sid=…; Max-Age=3600; Path=/; Secure; HttpOnly; SameSite=Lax`.
    public var headerValue: String {
        var parts = ["\(name)=\(value)"]
        if let maxAge { parts.append("Max-Age=\(maxAge)") }
        if let domain { parts.append("Domain=\(domain)") }
        if let path { parts.append("Path=\(path)") }
        if secure { parts.append("Secure") }
        if httpOnly { parts.append("HttpOnly") }
        if let sameSite { parts.append("SameSite=\(sameSite.rawValue)") }
        return parts.joined(separator: "; ")
    }

    /// The attributes only: the value may be a bearer token and is never printed.
    public var description: String {
        "SetCookie(\(name), value redacted, Max-Age \(maxAge.map(String.init) ?? "session"), \(secure ? "Secure" : "not Secure"))"
    }
}

/// Reads an incoming `Cookie` request header value (`a=1; b=2`, RFC 6265 §4.2).
public enum CookieHeader {
    /// Every value of the cookie `name`, in header order, with surrounding double quotes removed.
    /// Pairs that are not `token=cookie-value` are skipped rather than guessed at. A name may
    /// appear more than once; callers that verify, try each (``SigningKeyRing/verify(cookieHeader:name:purpose:clockSkew:now:)`` does).
    public static func values(named name: String, in header: String) -> [String] {
        var found: [String] = []
        for pair in header.split(separator: ";", omittingEmptySubsequences: true) {
            let trimmed = pair.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()
            let text = Substring(String(trimmed))
            guard let equals = text.firstIndex(of: "="), text[..<equals] == name else { continue }
            var value = text[text.index(after: equals)...]
            if value.count >= 2, value.first == "\"", value.last == "\"" { value = value.dropFirst().dropLast() }
            guard CookieSyntax.isValidValue(value) else { continue }
            found.append(String(value))
        }
        return found
    }

    /// The first value of the cookie `name`, if any.
    public static func value(named name: String, in header: String) -> String? {
        values(named: name, in: header).first
    }
}

/// RFC 6265 §4.1.1 character classes.
enum CookieSyntax {
    /// `token` (RFC 7230 tchar): visible ASCII except separators.
    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    /// `cookie-octet`: visible ASCII except `"`, `,`, `;` and `\`, and no spaces.
    static func isCookieOctet(_ byte: UInt8) -> Bool {
        byte == 0x21 || (0x23...0x2B).contains(byte) || (0x2D...0x3A).contains(byte) || (0x3C...0x5B).contains(byte)
            || (0x5D...0x7E).contains(byte)
    }

    static func isValidValue(_ value: Substring) -> Bool {
        value.utf8.allSatisfy(isCookieOctet)
    }

    /// `path-value`: any CHAR except CTLs and `;`.
    static func isPathCharacter(_ byte: UInt8) -> Bool {
        (0x20...0x7E).contains(byte) && byte != UInt8(ascii: ";")
    }

    /// A host name: dot-separated labels of letters, digits and inner hyphens.
    static func isValidDomain(_ domain: String) -> Bool {
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard domain.utf8.count <= 253, !labels.isEmpty else { return false }
        return labels.allSatisfy { label in
            (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                && label.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2D }
        }
    }
}
