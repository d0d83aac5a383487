#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A ``KeyRing`` shared between threads or tasks: readers take a snapshot, writers replace the
/// whole value, both under one lock.
///
/// This is what makes rotation race-free inside a process. A sealer takes a snapshot and seals
/// outside the lock; a rotation builds the next ring value (every old version plus the new
/// primary) and swaps it in under the lock. Rings only ever gain versions, so an envelope sealed
/// from any snapshot opens with every later one: within the process there is no moment at which
/// a ciphertext already handed out cannot be opened.
public final class SharedKeyRing: Sendable {
    // `Lock` serialises every access to `ring`; `nonisolated(unsafe)` only tells the compiler so.
    private let lock = Lock()
    nonisolated(unsafe) private var ring: KeyRing

    public init(_ ring: KeyRing) {
        self.ring = ring
    }

    /// The current ring value (copy-on-write: cheap, and unaffected by later rotations).
    public var snapshot: KeyRing { lock.withLock { ring } }

    /// Applies `change` to the ring under the lock; if it throws, the ring is left as it was.
    @discardableResult
    public func update<Result>(_ change: (inout KeyRing) throws -> Result) rethrows -> Result {
        try lock.withLock {
            var next = ring
            let result = try change(&next)
            ring = next
            return result
        }
    }

    /// Seals under the primary of the current snapshot.
    public func seal(_ plaintext: some Collection<UInt8>, context: EncryptionContext = .empty) throws -> Envelope {
        try snapshot.seal(plaintext, context: context)
    }

    /// Opens with the current snapshot.
    public func open(_ envelope: Envelope, context: EncryptionContext = .empty, limits: EnvelopeOpenLimits = .default) throws -> [UInt8] {
        try snapshot.open(envelope, context: context, limits: limits)
    }

    /// Rotates the shared ring in one step; returns the new primary version.
    @discardableResult
    public func rotate(now: Date = Date()) throws -> KeyRingVersion {
        try update { try $0.rotate(now: now) }
    }
}
