import Dispatch

/// Receives output bytes in order. The buffer is valid only during the call.
public typealias ByteSink = (UnsafeRawBufferPointer) throws -> Void

/// Runs independent per-chunk work on up to `concurrency` threads. Each index touches only its own
/// slice of input and output, so no synchronization beyond the join is needed.
enum ParallelChunks {
    /// Calls `body(worker, index)` for every index; `worker` is in `0..<concurrency`.
    static func run(count: Int, concurrency: Int, _ body: (Int, Int) throws -> Void) throws {
        guard concurrency > 1, count > 1 else {
            for i in 0..<count { try body(0, i) }
            return
        }
        let workers = min(concurrency, count)
        let failure = FirstError()
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                for i in (worker * count / workers)..<((worker + 1) * count / workers) {
                    do { try shared.value(worker, i) } catch { failure.record(error); return }
                }
            }
        }
        if let error = failure.error { throw error }
    }
}

/// Lets a non-escaping closure over disjoint buffer slices cross into `concurrentPerform`.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// The first error thrown by any worker.
final class FirstError: @unchecked Sendable {
    private let lock = Lock()
    private var stored: (any Error)?
    func record(_ error: any Error) { lock.withLock { if stored == nil { stored = error } } }
    var error: (any Error)? { lock.withLock { stored } }
}
