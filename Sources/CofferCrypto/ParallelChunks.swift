import Dispatch

/// Receives output bytes in order. The buffer is valid only during the call.
public typealias ByteSink = (UnsafeRawBufferPointer) throws -> Void

/// Runs independent per-chunk work on up to `concurrency` threads. Each index touches only its own
/// slice of input and output, so no synchronization beyond the join is needed.
enum ParallelChunks {
    /// Transforms the fixed-size records of `input` (each `inputStride` bytes) into records of
    /// `outputStride` bytes on several workers, each with its own cipher, and hands the batch to
    /// `sink` only after every record succeeded.
    ///
    /// Workers write into the caller's reusable `scratch` buffer and release swift-crypto's
    /// per-chunk allocations on their own thread: handing those allocations across threads makes
    /// the allocator trim and re-fault pages on every batch.
    static func transformBatch(
        _ input: UnsafeRawBufferPointer, inputStride: Int, outputStride: Int, scratch: inout [UInt8],
        ciphers: [ChunkCipher], sink: ByteSink,
        _ transform: (ChunkCipher, UnsafeRawBufferPointer, Int, UnsafeMutableRawBufferPointer) throws -> Void
    ) throws {
        let count = input.count / inputStride
        if scratch.count < count * outputStride { scratch = [UInt8](repeating: 0, count: count * outputStride) }
        try scratch.withUnsafeMutableBytes { out in
            try run(count: count, concurrency: ciphers.count) { worker, i in
                try transform(
                    ciphers[worker], UnsafeRawBufferPointer(rebasing: input[(i * inputStride)..<((i + 1) * inputStride)]), i,
                    UnsafeMutableRawBufferPointer(rebasing: out[(i * outputStride)..<((i + 1) * outputStride)]))
            }
            try sink(UnsafeRawBufferPointer(rebasing: out[0..<(count * outputStride)]))
        }
    }

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
