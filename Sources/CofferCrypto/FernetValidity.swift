#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The time rules of a Fernet token, exactly as Python `cryptography` applies them
/// (`Fernet._decrypt_data`), with the skew made an explicit parameter.
///
/// With a TTL and a current time `now` (integer Unix seconds), a token stamped `timestamp` is
/// refused when
///
/// - `timestamp + ttl < now`: it expired. A token exactly `ttl` seconds old is still **valid**;
///   one second later it is not;
/// - `now + maximumClockSkew < timestamp`: it claims to come from further in the future than
///   the clocks of two honest machines can disagree (Python's `_MAX_CLOCK_SKEW`, 60 s).
///
/// **Without a TTL no time check is made at all** — neither expiry nor skew — because that is
/// what Python does: `decrypt(token)` opens a token stamped in the year 3000. Coffer keeps that
/// rule rather than tightening it, so a service migrating from Python gets identical verdicts;
/// callers that care about freshness pass a TTL.
///
/// The arithmetic is done in 128 bits, like Python's unbounded integers, so a timestamp near
/// 2⁶⁴ or a huge TTL cannot wrap around into "valid".
struct FernetValidity: Sendable {
    var ttl: Int64?
    var now: Int64
    var maximumClockSkew: Int64

    func accepts(timestamp: UInt64) -> Bool {
        guard let ttl else { return true }
        if Int128(timestamp) + Int128(ttl) < Int128(now) { return false }
        if Int128(now) + Int128(maximumClockSkew) < Int128(timestamp) { return false }
        return true
    }

    /// Whole Unix seconds of `date`, truncated toward zero as Python's `int(time.time())`.
    static func seconds(_ date: Date) -> Int64 {
        let interval = date.timeIntervalSince1970.rounded(.towardZero)
        if interval >= 9.2e18 { return .max }
        if interval <= -9.2e18 { return .min }
        return Int64(interval)
    }
}
