#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Long-lived helper threads that work through the chunks of one batch at a time, together with
/// the calling thread.
///
/// Why not `DispatchQueue.concurrentPerform` per batch: on this class of machine (virtual CPUs)
/// waking a parked pool thread takes tens of microseconds, about as long as sealing a 16-chunk
/// batch, and measured scaling stayed near 1.15× on two cores. Here helpers spin briefly on a
/// generation counter after each batch, so a stream's next batch starts on all cores at once, and
/// park on a condition variable only when no batch has come for a while (for example while the
/// caller waits for disk).
///
/// Safety of the hand-off: a batch's work closure is published under `lock`, and a helper takes a
/// copy (counted in `holders`) only under that lock. `run` returns only after every index is done,
/// the closure has been withdrawn, and no helper still holds a copy, so the caller's buffers and
/// closure never outlive the call.
final class ChunkWorkerPool: @unchecked Sendable {
    private struct Job {
        let generation: Int
        let count: Int
        let body: (Int) -> Bool
    }

    private let generation = Atomic<Int>(0)
    private let nextIndex = Atomic<Int>(0)
    private let completed = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    private let lock = Lock()
    private var job: Job?
    private var holders = 0
    private let parking = Condition()
    /// One batch at a time: callers sharing a pool (copies of a decryptor) take turns.
    private let batchLock = Lock()

    /// Spins before parking: about 60 µs on this machine's AMD EPYC (0.6 ns per spin, measured).
    /// It must outlast the caller's gap between batches — handing the last batch's 32 chunks to
    /// the output, one write each — or the helper parks after every batch and starts the next
    /// one only after a futex wake-up, late: 20,000 spins (12 µs) did that, and `coffer
    /// encrypt`/`decrypt` ran 5 % slower (A/B, 2026-11-24).
    private static let spinLimit = 100_000

    /// Starts `helpers` threads (the caller of ``run(count:_:)`` is the remaining worker).
    init(helpers: Int) {
        for _ in 0..<helpers {
            startDetachedThread { [self] in helperLoop() }
        }
    }

    /// Stops the helper threads once they finish what they hold.
    func shutdown() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        parking.lock.lock()
        parking.broadcast()
        parking.lock.unlock()
    }

    /// Calls `body(i)` for every `i` in `0..<count` on the caller and the helpers; returns after
    /// all calls have returned. `body` returns `false` to stop the batch early (on an error).
    ///
    /// `meanwhile` runs on the caller once the batch is published, before the caller joins it:
    /// the helpers start on the batch while the caller does its own serial work (reading the next
    /// input), instead of spinning while the caller reads and the caller idling while they seal.
    /// Copies of a decryptor sharing this pool wait for the batch, `meanwhile` included.
    func run(count: Int, _ body: (Int) -> Bool, meanwhile: () -> Void = {}) {
        batchLock.withLock { runBatch(count: count, body, meanwhile: meanwhile) }
    }

    private func runBatch(count: Int, _ body: (Int) -> Bool, meanwhile: () -> Void) {
        withoutActuallyEscaping(body) { body in
            let next = generation.load(ordering: .relaxed) + 1
            lock.withLock {
                nextIndex.store(0, ordering: .relaxed)
                completed.store(0, ordering: .relaxed)
                job = Job(generation: next, count: count, body: body)
            }
            generation.store(next, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                parking.lock.lock()
                parking.broadcast()
                parking.lock.unlock()
            }
            meanwhile()
            work(count: count, body: body)
            var spins = 0
            while completed.load(ordering: .acquiring) < count {
                spins += 1
                if spins > Self.spinLimit { sched_yield() }
            }
            lock.withLock { job = nil }
            while lock.withLock({ holders }) > 0 { sched_yield() }
        }
    }

    /// Claims and runs indexes of the current batch until none are left, then reports how many
    /// it finished (one shared-counter update per worker and batch, not per chunk).
    private func work(count: Int, body: (Int) -> Bool) {
        var finished = 0
        defer { completed.add(finished, ordering: .releasing) }
        while true {
            let i = nextIndex.add(1, ordering: .relaxed).oldValue
            guard i < count else { return }
            finished += 1
            if !body(i) {
                // Stop the batch: count every unclaimed index as finished without running it.
                let unclaimed = nextIndex.exchange(count, ordering: .relaxed)
                if unclaimed < count { finished += count - unclaimed }
                return
            }
        }
    }

    private func helperLoop() {
        var seen = 0
        while !stopping.load(ordering: .relaxed) {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                if stopping.load(ordering: .relaxed) { return }
                spins += 1
                if spins > Self.spinLimit {
                    parking.lock.lock()
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while generation.load(ordering: .sequentiallyConsistent) == seen && !stopping.load(ordering: .relaxed) {
                        parking.wait()
                    }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    parking.lock.unlock()
                    spins = 0
                }
            }
            if takeAndRun(seen: &seen) {
                lock.withLock { holders -= 1 }
            }
        }
    }

    /// Takes a copy of a new batch (if any) and works on it. Kept out of line so the copy of the
    /// batch's closure is released when this returns, before `holders` is decremented.
    @inline(never)
    private func takeAndRun(seen: inout Int) -> Bool {
        var current: Job?
        lock.withLock {
            if let job, job.generation != seen {
                current = job
                holders += 1
            }
            seen = generation.load(ordering: .acquiring)
        }
        guard let taken = current else { return false }
        work(count: taken.count, body: taken.body)
        return true
    }
}

/// Owns a pool for a streaming object's lifetime and stops its threads when released.
final class ChunkWorkers: @unchecked Sendable {
    let pool: ChunkWorkerPool
    /// Threads working on a batch: the helpers plus the caller.
    let threadCount: Int

    private init(helpers: Int) {
        pool = ChunkWorkerPool(helpers: helpers)
        threadCount = helpers + 1
    }
    deinit { pool.shutdown() }

    /// Workers for `concurrency` threads in all, or `nil` to work on the caller alone. Never more
    /// threads than cores: helpers spin between batches, and spinning on an oversubscribed
    /// machine would take time from the very thread they wait for.
    static func make(concurrency: Int) -> ChunkWorkers? {
        let helpers = min(concurrency, ProcessInfo.processInfo.activeProcessorCount) - 1
        return helpers > 0 ? ChunkWorkers(helpers: helpers) : nil
    }
}
