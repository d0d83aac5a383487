#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto

/// Writes one C2SP chunked-encryption message: `salt || commitment || chunks`, pushing plaintext
/// in as it arrives. ``StreamEncryptor`` puts a Coffer header in front of exactly this.
///
/// The type is non-copyable: a copy would share the chunk counter, and sealing two different
/// chunks under the same index is nonce reuse. With `concurrency > 1` (capped at the number of cores), runs of full chunks are
/// sealed on several threads at once; output order is unaffected.
@_spi(Hazmat)
public struct ChunkedMessageEncryptor: ~Copyable {
    private let cipher: ChunkCipher
    private var pendingPrefix: [UInt8]?
    private var pending: [UInt8]
    private var sealedBoxes: [AES.GCM.SealedBox?] = []
    private var nextIndex: UInt64 = 0
    private var finished = false
    private let workers: ChunkWorkers?

    /// Chunks per parallel batch per thread. Small batches stay in the cores' caches; the pool's
    /// spinning helpers make the per-batch hand-off cheap enough for that. The sealed chunks of
    /// one batch (16 per thread) are the only extra memory held.
    static let chunksPerWorker = 16

    /// Starts a message. `salt` MUST NOT repeat for `inputKey` (Coffer uses a fresh random input
    /// key and a fresh random salt for every stream).
    public init(
        inputKey: SymmetricKey, salt: [UInt8], context: [UInt8],
        instantiation: ChunkedEncryption.Instantiation = .cobblestone256, concurrency: Int = 1
    ) throws {
        let (cipher, commitment) = try ChunkedEncryption.derive(
            inputKey: inputKey, salt: salt, context: context, instantiation: instantiation)
        self.cipher = cipher
        self.pendingPrefix = salt + commitment
        self.pending = []
        self.pending.reserveCapacity(ChunkedEncryption.chunkByteCount)
        self.workers = ChunkWorkers.make(concurrency: concurrency)
    }

    /// Encrypts `plaintext`, appending whatever ciphertext is ready to `output`.
    public mutating func update(_ plaintext: some ContiguousBytes, into output: inout [UInt8]) throws {
        try plaintext.withUnsafeBytes { raw in try update(rawBuffer: raw) { output.append(contentsOf: $0) } }
    }

    /// Seals the final (short, possibly empty) chunk, appending the rest of the ciphertext.
    public mutating func finish(into output: inout [UInt8]) throws {
        try finish { output.append(contentsOf: $0) }
    }

    /// Encrypts bytes from a raw buffer, handing each piece of ciphertext to `sink` in order.
    /// Full chunks are sealed straight from `rawBuffer` and passed on from swift-crypto's own
    /// output buffer, so no extra copy is made. If `sink` or sealing throws, the encryptor is
    /// unusable afterwards (its output would no longer be a valid prefix).
    ///
    /// `meanwhile` runs exactly once on the calling thread if the update succeeds: while the
    /// helper threads seal the first parallel batch (a file reader passes its next read, into
    /// another buffer), or at the end when nothing was sealed in parallel. `rawBuffer` must stay
    /// untouched by it.
    public mutating func update(rawBuffer: UnsafeRawBufferPointer, sink: ByteSink, meanwhile: () throws -> Void = {}) throws {
        try withGathering(sink) { try updateGathering(rawBuffer: rawBuffer, sink: $0, meanwhile: meanwhile) }
    }

    /// ``update(rawBuffer:sink:meanwhile:)`` handing over the sealed chunks of each parallel batch
    /// in one call (a file writer's one `writev`).
    public mutating func updateGathering(rawBuffer: UnsafeRawBufferPointer, sink: GatheringByteSink, meanwhile: () throws -> Void = {}) throws {
        guard !finished else { throw CofferCryptoError(.streamMisuse, detail: "update after finish or failure") }
        do {
            try runningOnce(meanwhile) { once in try seal(rawBuffer, sink: sink, meanwhile: once) }
        } catch {
            finished = true
            throw error
        }
    }

    /// Seals the final (short, possibly empty) chunk. The stream is complete after this.
    public mutating func finish(sink: ByteSink) throws {
        try withGathering(sink) { try finishGathering(sink: $0) }
    }

    /// ``finish(sink:)`` with a gathering sink.
    public mutating func finishGathering(sink: GatheringByteSink) throws {
        guard !finished else { throw CofferCryptoError(.streamMisuse, detail: "finish after finish or failure") }
        finished = true
        try emitPrefix(sink)
        try checkCounter(adding: 1)
        let index = nextIndex
        let box = try pending.withUnsafeBytes { try cipher.sealedBox($0, index: index) }
        try ChunkedMessageEncryptor.emit(box, sink)
        nextIndex += 1
        pending.removeAll()
    }

    /// The work of ``update(rawBuffer:sink:meanwhile:)``: complete a pending chunk, seal every
    /// full chunk, keep the rest pending.
    private mutating func seal(_ rawBuffer: UnsafeRawBufferPointer, sink: GatheringByteSink, meanwhile: () throws -> Void) throws {
        try emitPrefix(sink)
        let chunk = ChunkedEncryption.chunkByteCount
        var input = rawBuffer[...]
        if !pending.isEmpty {
            let take = min(chunk - pending.count, input.count)
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: input.prefix(take)))
            input = input.dropFirst(take)
            // A full chunk is never the final one (the final chunk is always short), so it can
            // be sealed as soon as it is complete.
            if pending.count == chunk {
                try pending.withUnsafeBytes { try sealFullChunks($0, sink: sink, meanwhile: meanwhile) }
                pending.removeAll(keepingCapacity: true)
            }
        }
        let fullBytes = (input.count / chunk) * chunk
        if fullBytes > 0 {
            try sealFullChunks(UnsafeRawBufferPointer(rebasing: input.prefix(fullBytes)), sink: sink, meanwhile: meanwhile)
            input = input.dropFirst(fullBytes)
        }
        pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: input))
    }

    private mutating func emitPrefix(_ sink: GatheringByteSink) throws {
        if let prefix = pendingPrefix {
            pendingPrefix = nil
            try prefix.withUnsafeBytes { try give($0, to: sink) }
        }
    }

    private func checkCounter(adding count: Int) throws {
        guard nextIndex + UInt64(count) <= ChunkedEncryption.maximumChunkCount else {
            throw CofferCryptoError(.messageTooLarge, detail: "stream exceeds 2^38 chunks")
        }
    }

    /// Passes a sealed chunk's wire bytes (`ciphertext || tag`) to the sink without copying.
    private static func emit(_ box: AES.GCM.SealedBox, _ sink: GatheringByteSink) throws {
        try wireBytes(of: box) { try give($0, to: sink) }
    }

    /// Lends a sealed chunk's wire bytes: swift-crypto's `combined` is `nonce || ciphertext || tag`.
    private static func wireBytes(of box: AES.GCM.SealedBox, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        try box.combined!.withUnsafeBytes { combined in
            try body(UnsafeRawBufferPointer(rebasing: combined[ChunkedEncryption.nonceByteCount...]))
        }
    }

    /// Seals `input` (a whole number of full chunks) at the next indexes; `meanwhile` goes to
    /// the parallel batches (it runs once, see ``update(rawBuffer:sink:meanwhile:)``).
    private mutating func sealFullChunks(_ input: UnsafeRawBufferPointer, sink: GatheringByteSink, meanwhile: () throws -> Void) throws {
        let chunk = ChunkedEncryption.chunkByteCount
        let count = input.count / chunk
        // Keep one chunk of headroom so the final chunk can always be sealed.
        try checkCounter(adding: count + 1)
        let cipher = self.cipher
        let batch = workers.map { $0.threadCount * ChunkedMessageEncryptor.chunksPerWorker } ?? 1
        var done = 0
        while done < count {
            let n = min(batch, count - done)
            let first = nextIndex
            let base = done
            if n == 1 {
                let box = try cipher.sealedBox(UnsafeRawBufferPointer(rebasing: input[(base * chunk)..<((base + 1) * chunk)]), index: first)
                try ChunkedMessageEncryptor.emit(box, sink)
            } else {
                try ParallelChunks.map(count: n, workers: workers, into: &sealedBoxes, meanwhile: meanwhile) { i in
                    try cipher.sealedBox(
                        UnsafeRawBufferPointer(rebasing: input[((base + i) * chunk)..<((base + i + 1) * chunk)]),
                        index: first + UInt64(i))
                }
                try gather(count: n, { i, use in try ChunkedMessageEncryptor.wireBytes(of: sealedBoxes[i]!, use) }, into: sink)
            }
            nextIndex += UInt64(n)
            done += n
        }
    }
}

