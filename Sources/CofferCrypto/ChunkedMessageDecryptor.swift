#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto

/// Reads one C2SP chunked-encryption message (`salt || commitment || chunks`) pushed in as it
/// arrives. ``StreamDecryptor`` runs exactly this after the Coffer header.
///
/// Guarantees:
/// - No plaintext byte is released before the chunk holding it has authenticated, and the header
///   MAC and key commitment are checked before any chunk is opened.
/// - Every failure is ``CofferCryptoError/Code/authenticationFailed`` (identities may add their
///   own non-secret errors such as a too-high KDF work factor).
/// - Failure is sticky: after one error every later call fails too, so a caller that keeps
///   reading can never mistake a damaged stream for a clean end.
/// - A stream that ends early is an error at ``finish(into:)`` even if every chunk so far was
///   valid: the final chunk is always short, so a stream cut at a chunk boundary is detected.
@_spi(Hazmat)
public struct ChunkedMessageDecryptor {
    private enum State {
        case prefix
        case payload(ChunkCipher)
        case finished
        case failed
    }

    private var state: State = .prefix
    private var buffer: [UInt8] = []
    private var openedChunks: [Data?] = []
    private var nextIndex: UInt64 = 0
    private let inputKey: SymmetricKey
    private let context: [UInt8]
    private let instantiation: ChunkedEncryption.Instantiation
    private let workers: ChunkWorkers?

    public init(
        inputKey: SymmetricKey, context: [UInt8], instantiation: ChunkedEncryption.Instantiation = .cobblestone256,
        concurrency: Int = 1
    ) {
        self.inputKey = inputKey
        self.context = context
        self.instantiation = instantiation
        self.workers = ChunkWorkers.make(concurrency: concurrency)
    }

    /// Feeds ciphertext; appends every byte of plaintext that has authenticated.
    public mutating func update(_ ciphertext: some ContiguousBytes, into plaintext: inout [UInt8]) throws {
        try ciphertext.withUnsafeBytes { raw in try update(rawBuffer: raw) { plaintext.append(contentsOf: $0) } }
    }

    /// Ends the stream, appending the final chunk's plaintext; fails if the stream is truncated.
    public mutating func finish(into plaintext: inout [UInt8]) throws {
        try finish { plaintext.append(contentsOf: $0) }
    }

    /// Feeds ciphertext; hands each authenticated piece of plaintext to `sink`, in order.
    /// `meanwhile` runs exactly once on the calling thread if the update succeeds, as in
    /// ``ChunkedMessageEncryptor/update(rawBuffer:sink:meanwhile:)``.
    public mutating func update(rawBuffer: UnsafeRawBufferPointer, sink: ByteSink, meanwhile: () throws -> Void = {}) throws {
        try withGathering(sink) { try updateGathering(rawBuffer: rawBuffer, sink: $0, meanwhile: meanwhile) }
    }

    /// ``update(rawBuffer:sink:meanwhile:)`` handing over the plaintext of each parallel batch
    /// in one call (a file writer's one `writev`), once every chunk in it has authenticated.
    public mutating func updateGathering(rawBuffer: UnsafeRawBufferPointer, sink: GatheringByteSink, meanwhile: () throws -> Void = {}) throws {
        do {
            try runningOnce(meanwhile) { once in try process(rawBuffer[...], sink: sink, meanwhile: once) }
        } catch {
            fail()
            throw error
        }
    }

    /// Ends the stream: opens the final chunk, or fails if the stream is truncated.
    public mutating func finish(sink: ByteSink) throws {
        try withGathering(sink) { try finishGathering(sink: $0) }
    }

    /// ``finish(sink:)`` with a gathering sink.
    public mutating func finishGathering(sink: GatheringByteSink) throws {
        if case .finished = state { throw CofferCryptoError(.streamMisuse, detail: "finish called twice") }
        do {
            guard case .payload(let cipher) = state else { throw CofferCryptoError.authenticationFailed }
            // The final chunk must be shorter than a full one: 16…16399 sealed bytes.
            guard buffer.count >= ChunkedEncryption.tagByteCount, buffer.count < ChunkedEncryption.sealedChunkByteCount else {
                throw CofferCryptoError.authenticationFailed
            }
            let index = nextIndex
            let plain = try buffer.withUnsafeBytes { try cipher.openedData($0, index: index) }
            state = .finished
            buffer = []
            try plain.withUnsafeBytes { try give($0, to: sink) }
        } catch {
            fail()
            throw error
        }
    }

    private mutating func fail() {
        if case .finished = state { return }
        state = .failed
        buffer = []
    }

    mutating func process(_ input: Slice<UnsafeRawBufferPointer>, sink: GatheringByteSink, meanwhile: () throws -> Void = {}) throws {
        var input = input
        while true {
            switch state {
            case .failed:
                throw CofferCryptoError.authenticationFailed
            case .finished:
                throw CofferCryptoError(.streamMisuse, detail: "update after finish")
            case .prefix:
                let take = min(ChunkedEncryption.prefixByteCount - buffer.count, input.count)
                buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: input.prefix(take)))
                input = input.dropFirst(take)
                guard buffer.count == ChunkedEncryption.prefixByteCount else { return }
                let salt = buffer[0..<ChunkedEncryption.saltByteCount]
                let commitment = Array(buffer[ChunkedEncryption.saltByteCount...])
                let (cipher, expected) = try ChunkedEncryption.derive(
                    inputKey: inputKey, salt: salt, context: context, instantiation: instantiation)
                // C2SP: check the key commitment before opening any chunk.
                guard constantTimeEquals(commitment, expected) else { throw CofferCryptoError.authenticationFailed }
                buffer.removeAll(keepingCapacity: true)
                state = .payload(cipher)
            case .payload(let cipher):
                try processPayload(input, cipher: cipher, sink: sink, meanwhile: meanwhile)
                return
            }
        }
    }

    private mutating func processPayload(
        _ input: Slice<UnsafeRawBufferPointer>, cipher: ChunkCipher, sink: GatheringByteSink, meanwhile: () throws -> Void
    ) throws {
        let sealed = ChunkedEncryption.sealedChunkByteCount
        var input = input
        // Complete a partially buffered chunk first.
        if !buffer.isEmpty {
            let take = min(sealed - buffer.count, input.count)
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: input.prefix(take)))
            input = input.dropFirst(take)
            if buffer.count == sealed {
                try buffer.withUnsafeBytes { try openFullChunks($0, cipher: cipher, sink: sink, meanwhile: meanwhile) }
                buffer.removeAll(keepingCapacity: true)
            }
        }
        // Then open full chunks straight from the caller's buffer, without copying them.
        let fullBytes = (input.count / sealed) * sealed
        if fullBytes > 0 {
            try openFullChunks(UnsafeRawBufferPointer(rebasing: input.prefix(fullBytes)), cipher: cipher, sink: sink, meanwhile: meanwhile)
            input = input.dropFirst(fullBytes)
        }
        buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: input))
    }

    /// Opens a whole number of full sealed chunks. A 16 400-byte chunk is never the final one, so
    /// releasing it before the end of the stream is safe. In parallel mode a batch is released
    /// only when all of its chunks have authenticated.
    private mutating func openFullChunks(
        _ input: UnsafeRawBufferPointer, cipher: ChunkCipher, sink: GatheringByteSink, meanwhile: () throws -> Void
    ) throws {
        let sealed = ChunkedEncryption.sealedChunkByteCount
        let count = input.count / sealed
        let batch = workers.map { $0.threadCount * ChunkedMessageEncryptor.chunksPerWorker } ?? 1
        var done = 0
        while done < count {
            let n = min(batch, count - done)
            let first = nextIndex
            let base = done
            guard first + UInt64(n) < ChunkedEncryption.maximumChunkCount else { throw CofferCryptoError.authenticationFailed }
            if n == 1 {
                let plain = try cipher.openedData(UnsafeRawBufferPointer(rebasing: input[(base * sealed)..<((base + 1) * sealed)]), index: first)
                try plain.withUnsafeBytes { try give($0, to: sink) }
            } else {
                // Released only once every chunk of the batch has authenticated.
                try ParallelChunks.map(count: n, workers: workers, into: &openedChunks, meanwhile: meanwhile) { i in
                    try cipher.openedData(
                        UnsafeRawBufferPointer(rebasing: input[((base + i) * sealed)..<((base + i + 1) * sealed)]),
                        index: first + UInt64(i))
                }
                try gather(count: n, { i, use in try openedChunks[i]!.withUnsafeBytes(use) }, into: sink)
            }
            nextIndex += UInt64(n)
            done += n
        }
    }
}
