import Synchronization

/// Receives output bytes in order. The buffer is valid only during the call.
public typealias ByteSink = (UnsafeRawBufferPointer) throws -> Void

/// Runs independent per-chunk work on a ``ChunkWorkers`` pool. Each index touches only its own
/// slice of input and output, so no synchronization beyond the join is needed.
enum ParallelChunks {
    /// Computes `body(i)` for every `i` in `0..<count` on the pool and stores the results in
    /// `slots[0..<count]` (a buffer reused across batches).
    static func map<T>(
        count: Int, workers: ChunkWorkers?, into slots: inout [T?], meanwhile: () throws -> Void = {}, _ body: (Int) throws -> T
    ) throws {
        if slots.count < count { slots += [T?](repeating: nil, count: count - slots.count) }
        try slots.withUnsafeMutableBufferPointer { slots in
            try run(count: count, workers: workers, meanwhile: meanwhile) { i in
                // The previous batch's result is released here, on a worker, just before this
                // one allocates: memory goes back to the allocator where it will be reused at
                // once. Releasing a whole batch from the caller instead makes glibc trim the
                // workers' heaps and fault the pages back in on every batch.
                slots[i] = nil
                slots[i] = try body(i)
            }
        }
    }

    /// Calls `body(index)` for every index in `0..<count`: on the pool's threads and the caller
    /// when there is a pool, otherwise in order on the caller. `meanwhile` runs once on the
    /// caller, while the helpers work (``ChunkWorkerPool/run(count:_:meanwhile:)``), or after
    /// the batch without a pool. A failed chunk is reported before a failed `meanwhile`.
    static func run(count: Int, workers: ChunkWorkers?, meanwhile: () throws -> Void = {}, _ body: (Int) throws -> Void) throws {
        guard let workers, count > 1 else {
            for i in 0..<count { try body(i) }
            try meanwhile()
            return
        }
        let failure = FirstError()
        var meanwhileError: (any Error)?
        workers.pool.run(count: count, { i in
            guard !failure.hasFailed else { return false }
            do {
                try body(i)
                return true
            } catch {
                failure.record(error)
                return false
            }
        }, meanwhile: {
            do { try meanwhile() } catch { meanwhileError = error }
        })
        if let error = failure.error { throw error }
        if let meanwhileError { throw meanwhileError }
    }
}

/// The streaming types' guarantee for a `meanwhile` (the CLI's next read): `body` gets a version
/// of `work` that runs at most once, to hand to its parallel batches; if `body` returns without
/// having run it, it runs now. So it runs exactly once per successful update, in one place.
func runningOnce(_ work: () throws -> Void, around body: (_ once: () throws -> Void) throws -> Void) throws {
    // Nothing keeps `work` past this call: `once` is only handed to `body`, itself non-escaping.
    try withoutActuallyEscaping(work) { work in
        var done = false
        let once = {
            if done { return }
            done = true
            try work()
        }
        try body(once)
        try once()
    }
}

/// The first error thrown by any worker. `hasFailed` is a lock-free read, so checking it on every
/// chunk costs the cores nothing; the lock is taken only when an error happens.
final class FirstError: @unchecked Sendable {
    private let failed = Atomic<Bool>(false)
    private let lock = Lock()
    private var stored: (any Error)?

    func record(_ error: any Error) {
        lock.withLock { if stored == nil { stored = error } }
        failed.store(true, ordering: .releasing)
    }

    var hasFailed: Bool { failed.load(ordering: .relaxed) }
    var error: (any Error)? { failed.load(ordering: .acquiring) ? lock.withLock { stored } : nil }
}
