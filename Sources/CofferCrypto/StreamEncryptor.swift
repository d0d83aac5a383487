import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Encrypts a stream of any length in constant memory: push plaintext in with ``update(_:into:)``
/// (or the sink form) as it arrives, call ``finish(into:)`` once at the end.
///
/// Output: ``StreamHeader`` || salt (24) || commitment (32) || sealed chunks — C2SP
/// Cobblestone-256 with a fresh random input key and the canonical ``EncryptionContext``
/// encoding as its context. Non-copyable, like the chunk writer it wraps, so a chunk counter can
/// never be duplicated. Memory stays bounded by a few chunks per core whatever the size.
public struct StreamEncryptor: ~Copyable {
    private var header: [UInt8]?
    private var message: ChunkedMessageEncryptor

    /// Starts a stream encrypted to `recipients` with a fresh random input key.
    public init(
        recipients: [any Recipient], context: EncryptionContext = .empty, concurrency: Int = 1
    ) throws {
        let inputKey = DataKey.generate()
        let stanzas = try recipients.map { try $0.stanza(wrapping: inputKey) }
        try self.init(
            inputKey: inputKey, stanzas: stanzas, salt: randomBytes(ChunkedEncryption.saltByteCount),
            context: context, concurrency: concurrency)
    }

    /// Deterministic construction for the published test vectors (`coffer-vectors`).
    @_spi(Hazmat)
    public init(inputKey: DataKey, stanzas: [RecipientStanza], salt: [UInt8], context: EncryptionContext, concurrency: Int = 1) throws {
        self.header = try StreamHeader.make(inputKey: inputKey, stanzas: stanzas).bytes
        self.message = try ChunkedMessageEncryptor(
            inputKey: inputKey.symmetricKey, salt: salt, context: try context.canonicalEncoding(), concurrency: concurrency)
    }

    public mutating func update(_ plaintext: some ContiguousBytes, into output: inout [UInt8]) throws {
        try plaintext.withUnsafeBytes { raw in try update(rawBuffer: raw) { output.append(contentsOf: $0) } }
    }

    public mutating func finish(into output: inout [UInt8]) throws {
        try finish { output.append(contentsOf: $0) }
    }

    /// Encrypts bytes from a raw buffer, handing each piece of ciphertext to `sink` in order.
    /// `meanwhile` runs once on the caller: while the helper threads seal the first parallel
    /// batch, or after the update when none ran in parallel
    /// (``ChunkedMessageEncryptor/update(rawBuffer:sink:meanwhile:)``).
    public mutating func update(rawBuffer: UnsafeRawBufferPointer, sink: ByteSink, meanwhile: () throws -> Void = {}) throws {
        try withGathering(sink) { try updateGathering(rawBuffer: rawBuffer, sink: $0, meanwhile: meanwhile) }
    }

    /// ``update(rawBuffer:sink:meanwhile:)`` handing over each parallel batch of sealed chunks
    /// in one call, so a file writer can write it with one `writev`.
    public mutating func updateGathering(rawBuffer: UnsafeRawBufferPointer, sink: GatheringByteSink, meanwhile: () throws -> Void = {}) throws {
        try emitHeader(sink)
        try message.updateGathering(rawBuffer: rawBuffer, sink: sink, meanwhile: meanwhile)
    }

    /// Seals the final chunk. The stream is complete after this.
    public mutating func finish(sink: ByteSink) throws {
        try withGathering(sink) { try finishGathering(sink: $0) }
    }

    /// ``finish(sink:)`` with a gathering sink.
    public mutating func finishGathering(sink: GatheringByteSink) throws {
        try emitHeader(sink)
        try message.finishGathering(sink: sink)
    }

    private mutating func emitHeader(_ sink: GatheringByteSink) throws {
        if let header {
            self.header = nil
            try header.withUnsafeBytes { try give($0, to: sink) }
        }
    }
}
