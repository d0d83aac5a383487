import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Decrypts a Coffer stream in constant memory: push ciphertext in with ``update(_:into:)`` (or
/// the sink form), then call ``finish(into:)``.
///
/// Guarantees:
/// - The header MAC and the key commitment are checked before any chunk is opened, and no
///   plaintext byte is released before the chunk holding it has authenticated.
/// - Every failure is ``CofferCryptoError/Code/authenticationFailed`` (identities may add their
///   own non-secret errors such as a too-high KDF work factor).
/// - Failure is sticky: after one error every later call fails too, so a caller that keeps
///   reading can never mistake a damaged stream for a clean end.
/// - A stream that ends early is an error at ``finish(into:)`` even if every chunk so far was
///   valid: the final chunk is always short, so a stream cut at a chunk boundary is detected.
public struct StreamDecryptor: ~Copyable {
    private var headerBuffer: [UInt8] = []
    private var headerBytesNeeded = StreamHeader.magic.count + 2
    private var message: ChunkedMessageDecryptor?
    private var failed = false
    private let identities: [any Identity]
    private let contextEncoding: [UInt8]
    private let concurrency: Int

    public init(identities: [any Identity], context: EncryptionContext = .empty, concurrency: Int = 1) throws {
        self.identities = identities
        self.contextEncoding = try context.canonicalEncoding()
        self.concurrency = max(1, concurrency)
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
    /// `meanwhile` runs once on the caller if the update succeeds: while the helper threads open
    /// the first parallel batch, or after the update when none ran in parallel
    /// (``ChunkedMessageDecryptor/update(rawBuffer:sink:meanwhile:)``). A chunk that fails to
    /// authenticate in that batch is reported before a failed `meanwhile`; one in a later batch
    /// of the same update is not reached.
    public mutating func update(rawBuffer: UnsafeRawBufferPointer, sink: ByteSink, meanwhile: () throws -> Void = {}) throws {
        try withGathering(sink) { try updateGathering(rawBuffer: rawBuffer, sink: $0, meanwhile: meanwhile) }
    }

    /// ``update(rawBuffer:sink:meanwhile:)`` handing over the plaintext of each parallel batch in
    /// one call, once every chunk in it has authenticated (a file writer's one `writev`).
    public mutating func updateGathering(rawBuffer: UnsafeRawBufferPointer, sink: GatheringByteSink, meanwhile: () throws -> Void = {}) throws {
        guard !failed else { throw CofferCryptoError.authenticationFailed }
        do {
            var input = rawBuffer[...]
            // Buffer exactly as many bytes as the header says it still needs, so the rest of the
            // input goes to the payload reader without being copied.
            while message == nil {
                let take = min(input.count, headerBytesNeeded - headerBuffer.count)
                headerBuffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: input.prefix(take)))
                input = input.dropFirst(take)
                guard headerBuffer.count == headerBytesNeeded else { return try meanwhile() }
                switch try StreamHeader.parse(prefix: headerBuffer) {
                case .needMoreBytes(let total):
                    guard total > headerBuffer.count else { throw CofferCryptoError.authenticationFailed }
                    headerBytesNeeded = total
                case .complete(let header, _):
                    let inputKey = try header.unwrapInputKey(with: identities)
                    message = ChunkedMessageDecryptor(
                        inputKey: inputKey.symmetricKey, context: contextEncoding, concurrency: concurrency)
                    headerBuffer = []
                }
            }
            try message!.updateGathering(rawBuffer: UnsafeRawBufferPointer(rebasing: input), sink: sink, meanwhile: meanwhile)
        } catch {
            failed = true
            headerBuffer = []
            throw error
        }
    }

    /// Ends the stream: opens the final chunk, or fails if the stream is truncated.
    public mutating func finish(sink: ByteSink) throws {
        try withGathering(sink) { try finishGathering(sink: $0) }
    }

    /// ``finish(sink:)`` with a gathering sink.
    public mutating func finishGathering(sink: GatheringByteSink) throws {
        guard !failed, message != nil else {
            failed = true
            throw CofferCryptoError.authenticationFailed
        }
        try message!.finishGathering(sink: sink)
    }
}
