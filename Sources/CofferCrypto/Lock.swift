#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A plain mutual-exclusion lock over `pthread_mutex_t`, behind a tiny closure API. (Not
/// Foundation's `NSLock`: the core and the CLI stay on FoundationEssentials, which keeps
/// Foundation's ICU data out of the process and the `coffer` start-up near 3 ms.)
package final class Lock: @unchecked Sendable {
    fileprivate let mutex: UnsafeMutablePointer<pthread_mutex_t>

    package init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        precondition(pthread_mutex_init(mutex, nil) == 0)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    package func lock() { precondition(pthread_mutex_lock(mutex) == 0) }
    package func unlock() { precondition(pthread_mutex_unlock(mutex) == 0) }

    package func withLock<R>(_ body: () throws -> R) rethrows -> R {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// A condition variable paired with its own ``Lock`` (the shape of `NSCondition`).
final class Condition: @unchecked Sendable {
    let lock = Lock()
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    init() {
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        precondition(pthread_cond_init(condition, nil) == 0)
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deallocate()
    }

    /// Waits for a signal; call with ``lock`` held (it is released while waiting).
    func wait() { precondition(pthread_cond_wait(condition, lock.mutex) == 0) }
    func broadcast() { precondition(pthread_cond_broadcast(condition) == 0) }
}

/// Starts a detached thread running `body`.
func startDetachedThread(_ body: @escaping @Sendable () -> Void) {
    final class Box { let body: @Sendable () -> Void; init(_ body: @escaping @Sendable () -> Void) { self.body = body } }
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let status = pthread_create(&thread, nil, { raw in
        let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
        box.body()
        return nil
    }, box)
    precondition(status == 0, "pthread_create failed")
    pthread_detach(thread)
}
