internal import Glibc

/// Keeps the creation of token objects apart from every other call into a module, process-wide:
/// many calls may run together (each still under its own session's lock), but a key generation
/// runs alone.
///
/// Why: SoftHSM2 2.6.1 — the token most people try Coffer with, and the one the tests run
/// against — fails an object creation that overlaps other calls on the same token with
/// `CKR_GENERAL_ERROR` (its file object store re-reads objects while one is being written;
/// SoftHSMv2 issue #573). Coffer creates a root key once per store, so holding every other call
/// off for that moment costs nothing, and the shared side is one uncontended read lock per call.
/// It guards one process only: another process on the same SoftHSM2 token (a second node, an
/// admin command) can still meet the bug while a key is generated.
final class TokenObjectGate: @unchecked Sendable {
    // @unchecked: the rwlock is the synchronization; it is allocated once and never freed
    // (the gate lives for the process).
    static let shared = TokenObjectGate()

    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    private init() {
        lock = .allocate(capacity: 1)
        lock.initialize(to: pthread_rwlock_t())
        pthread_rwlock_init(lock, nil)
    }

    /// Runs `body` alongside other calls, but not alongside an object creation.
    func sharing<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        // A failure here (EDEADLK: this thread holds the exclusive side) is a bug; carrying on
        // would run `body` unguarded and then release the writer's lock.
        precondition(pthread_rwlock_rdlock(lock) == 0, "TokenObjectGate: shared lock taken inside an exclusive section")
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    /// Runs `body` (an object creation) with no other call in flight. Not reentrant: `body` must
    /// not call anything that takes the shared side.
    func exclusively<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        precondition(pthread_rwlock_wrlock(lock) == 0, "TokenObjectGate: exclusive lock taken twice on one thread")
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}
