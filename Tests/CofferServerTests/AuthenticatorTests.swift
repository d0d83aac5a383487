import CofferStore
import Foundation
import Testing
@testable import CofferServer

@Suite("Authenticator cache")
struct AuthenticatorTests {
    final class Clock: @unchecked Sendable {
        private let lock = NSLock()
        private var current = Date(timeIntervalSince1970: 1_800_000_000)
        var now: Date { lock.lock(); defer { lock.unlock() }; return current }
        func advance(_ seconds: TimeInterval) { lock.lock(); current += seconds; lock.unlock() }
    }

    @Test func aDisabledIdentityStopsWorkingWhenItsVerifiedEntryExpires() async throws {
        let fixture = try await ServerFixture.make()
        let clock = Clock()
        let authenticator = Authenticator(store: fixture.store, clock: { clock.now })
        let (identity, key) = try await fixture.store.createAPIKey(policy: "admin")
        let header = "Bearer \(key)"
        #expect(try await authenticator.authenticate(authorization: header, client: "a").id == identity.id)
        _ = try await fixture.store.updateIdentity(identity.id, disabled: true)
        clock.advance(Authenticator.verifiedTTL / 2)
        // Within the TTL the verified entry answers (documented: disabling takes effect within it).
        #expect(try await authenticator.authenticate(authorization: header, client: "a").id == identity.id)
        clock.advance(Authenticator.verifiedTTL)
        // Expired: the request that re-checks finds the identity disabled.
        await #expect(throws: APIError.self) { try await authenticator.authenticate(authorization: header, client: "a") }
        await #expect(throws: APIError.self) { try await authenticator.authenticate(authorization: header, client: "a") }
    }

    @Test func anExpiredEntryOfAnEnabledIdentityIsRenewedWithoutScrypt() async throws {
        let fixture = try await ServerFixture.make()
        let clock = Clock()
        let authenticator = Authenticator(store: fixture.store, clock: { clock.now })
        let (identity, key) = try await fixture.store.createAPIKey(policy: "admin")
        #expect(try await authenticator.authenticate(authorization: "Bearer \(key)", client: "a").id == identity.id)
        for _ in 0..<5 {
            clock.advance(Authenticator.verifiedTTL + 1)
            #expect(try await authenticator.authenticate(authorization: "Bearer \(key)", client: "a").id == identity.id)
        }
        // A wrong secret for the same id is never served from the cache.
        let forged = String(key.dropLast(2)) + (key.hasSuffix("AA") ? "BB" : "AA")
        await #expect(throws: APIError.self) { try await authenticator.authenticate(authorization: "Bearer \(forged)", client: "b") }
    }

    @Test func concurrentRequestsWithOneKeyShareOneCheck() async throws {
        let fixture = try await ServerFixture.make()
        let authenticator = Authenticator(store: fixture.store)
        let (identity, key) = try await fixture.store.createAPIKey(policy: "admin")
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<32 { group.addTask { try await authenticator.authenticate(authorization: "Bearer \(key)", client: "c\(index)").id } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(ids.count == 32 && Set(ids) == [identity.id])
        // A wrong key sharing the moment fails on its own.
        let forged = String(key.dropLast(2)) + (key.hasSuffix("AA") ? "BB" : "AA")
        await #expect(throws: APIError.self) { try await authenticator.authenticate(authorization: "Bearer \(forged)", client: "z") }
    }
}
