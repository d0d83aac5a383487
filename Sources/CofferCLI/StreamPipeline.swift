import CofferCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// Moves bytes between an input, the crypto core's streaming types and an output, in constant
/// memory: one read buffer plus the few chunks per core the core keeps in flight.
enum StreamPipeline {
    /// Plaintext read per step when encrypting: 32 chunks, one full batch for two cores, small
    /// enough to stay in a core's L2 cache between the kernel's copy and the encryption.
    static let readSize = 1 << 19
    /// Ciphertext read per step when decrypting: 32 sealed chunks (16 400 bytes each), so reads
    /// stay aligned to chunks and none is carried over to be opened alone on one core.
    static let decryptReadSize = 32 * 16_400
    /// Read buffers are page-aligned. Measured on this machine's AMD EPYC: with malloc's usual
    /// 16-byte offset from a page, the kernel's copy into buffers of 256 KiB and more ran at a
    /// third of its speed (system time 0.5 s per GiB instead of 0.15 s).
    static let bufferAlignment = 4096
    static var concurrency: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    static func encrypt(
        from source: InputSource, to output: OutputTarget, recipients: [any Recipient], armor: Bool, quiet: Bool
    ) throws {
        var encryptor = try StreamEncryptor(recipients: recipients, concurrency: concurrency)
        var armorEncoder = ArmorEncoder()
        var armored: [UInt8] = []
        var meter = ProgressMeter(total: source.size, quiet: quiet)
        defer { meter?.finish() }
        func sink(_ bytes: UnsafeRawBufferPointer) throws {
            guard armor else { return try output.write(bytes) }
            armorEncoder.update(bytes, into: &armored)
            try output.write(armored)
            armored.removeAll(keepingCapacity: true)
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: readSize, alignment: bufferAlignment)
        let spare = UnsafeMutableRawBufferPointer.allocate(byteCount: readSize, alignment: bufferAlignment)
        defer { buffer.deallocate(); spare.deallocate() }
        func gatheringSink(_ pieces: UnsafeBufferPointer<UnsafeRawBufferPointer>) throws {
            guard armor else { return try output.write(gathering: pieces) }
            for piece in pieces { try sink(piece) }
        }
        try readOverlapped(from: source, buffers: (buffer, spare)) { bytes, meanwhile in
            try encryptor.updateGathering(rawBuffer: bytes, sink: gatheringSink, meanwhile: meanwhile)
            meter?.advance(by: bytes.count)
        }
        try encryptor.finishGathering(sink: gatheringSink)
        if armor {
            armorEncoder.finish(into: &armored)
            try output.write(armored)
        }
    }

    /// The plaintext bytes to write: all, or an inclusive range `START-END` / `START-`.
    struct PlaintextRange {
        let start: Int
        /// Exclusive end; `Int.max` for "to the end".
        let end: Int

        init(parsing text: String) throws {
            let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let start = Int(parts[0]), start >= 0,
                parts[1].isEmpty || Int(parts[1]).map({ $0 >= start }) == true
            else {
                throw CLIError("--range must be START-END or START- with 0 ≤ START ≤ END (byte offsets, END inclusive)", status: ExitStatus.invalidInput)
            }
            self.start = start
            self.end = parts[1].isEmpty ? Int.max : Int(parts[1])! + 1
        }
    }

    private struct RangeComplete: Error {}

    /// Decrypts `source` to `output`. `identities` is asked once the header has been read, so
    /// it can ask for a passphrase only when the stream has a passphrase stanza.
    static func decrypt(
        from source: InputSource, to output: OutputTarget, range: PlaintextRange?, force: Bool, quiet: Bool,
        identities: (StreamHeader) throws -> [any Identity]
    ) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: decryptReadSize, alignment: bufferAlignment)
        defer { buffer.deallocate() }
        var first = try source.readFully(into: buffer)
        var binary: [UInt8] = []
        let armored = first > 0 && Armor.isArmored(UnsafeRawBufferPointer(rebasing: buffer[..<min(first, 11)]))
        var armorDecoder = ArmorDecoder()
        if armored {
            try armorDecoder.update(UnsafeRawBufferPointer(rebasing: buffer[..<first]), into: &binary)
        } else {
            binary = Array(UnsafeRawBufferPointer(rebasing: buffer[..<first]))
        }
        try checkFormat(binary, inputWasEmpty: first == 0)
        guard let (header, _) = try StreamHeader.peek(Array(binary.prefix(StreamHeader.maximumByteCount))) else {
            throw CLIError.decryptionFailed
        }
        let keys = try identities(header)

        if let range, !armored, let size = source.size {
            return try decryptRange(FileCiphertext(input: source, count: size), range: range, to: output, identities: keys)
        }

        var decryptor = try StreamDecryptor(identities: keys, concurrency: concurrency)
        var meter = ProgressMeter(total: source.size, quiet: quiet)
        defer { meter?.finish() }
        var plaintextOffset = 0
        var checkedForTerminal = !output.isTerminal || force
        func sink(_ bytes: UnsafeRawBufferPointer) throws {
            if !checkedForTerminal {
                checkedForTerminal = true
                // The first authenticated chunk decides: NUL bytes mean binary (as git and grep judge).
                if bytes.prefix(8192).contains(0) {
                    throw CLIError("refusing to write binary plaintext to a terminal; use -o FILE or --force", status: ExitStatus.refused)
                }
            }
            defer { plaintextOffset += bytes.count }
            guard let range else { return try output.write(bytes) }
            let lower = max(range.start, plaintextOffset), upper = min(range.end, plaintextOffset + bytes.count)
            if lower < upper {
                try output.write(UnsafeRawBufferPointer(rebasing: bytes[(lower - plaintextOffset)..<(upper - plaintextOffset)]))
            }
            if plaintextOffset + bytes.count >= range.end { throw RangeComplete() }
        }
        // Whole batches of authenticated plaintext go out in one `writev` once the terminal check
        // is done, unless a range picks bytes out of them.
        func gatheringSink(_ pieces: UnsafeBufferPointer<UnsafeRawBufferPointer>) throws {
            guard range == nil, checkedForTerminal else {
                for piece in pieces { try sink(piece) }
                return
            }
            try output.write(gathering: pieces)
            plaintextOffset += pieces.reduce(0) { $0 + $1.count }
        }
        do {
            try decryptor.update(binary, into: sink)
            meter?.advance(by: first)
            binary = []
            if armored {
                while true {
                    first = try source.read(into: buffer)
                    if first == 0 { break }
                    try armorDecoder.update(UnsafeRawBufferPointer(rebasing: buffer[..<first]), into: &binary)
                    try decryptor.update(binary, into: sink)
                    binary.removeAll(keepingCapacity: true)
                    meter?.advance(by: first)
                }
            } else {
                let spare = UnsafeMutableRawBufferPointer.allocate(byteCount: decryptReadSize, alignment: bufferAlignment)
                defer { spare.deallocate() }
                try readOverlapped(from: source, buffers: (buffer, spare)) { bytes, meanwhile in
                    try decryptor.updateGathering(rawBuffer: bytes, sink: gatheringSink, meanwhile: meanwhile)
                    meter?.advance(by: bytes.count)
                }
            }
            if armored {
                try armorDecoder.finish(into: &binary)
                try decryptor.update(binary, into: sink)
            }
            try decryptor.finishGathering(sink: gatheringSink)
        } catch is RangeComplete {
            return
        }
        if let range, range.start >= plaintextOffset {
            throw CLIError("--range starts at byte \(range.start) but the plaintext has \(plaintextOffset) bytes", status: ExitStatus.invalidInput)
        }
    }

    /// Hands `source` to `process` one read at a time, alternating between two buffers: `process`
    /// gets the bytes just read and a `meanwhile` that reads the next ones into the other buffer,
    /// which the streaming types run on this thread while their helper threads seal or open
    /// (so on a file neither the read nor the cryptography waits for the other). Ends at end of
    /// input.
    ///
    /// Only a regular file is read ahead. From a pipe or a terminal the next read can wait for
    /// the other side, which may itself be waiting for the output of what was just read (a
    /// coprocess, an interactive session): there the read happens after `process` has written.
    private static func readOverlapped(
        from source: InputSource, buffers: (UnsafeMutableRawBufferPointer, UnsafeMutableRawBufferPointer),
        _ process: (UnsafeRawBufferPointer, _ meanwhile: () throws -> Void) throws -> Void
    ) throws {
        let readAhead = source.size != nil
        var (current, spare) = buffers
        var count = try source.read(into: current)
        while count > 0 {
            var nextCount: Int?
            try process(UnsafeRawBufferPointer(rebasing: current[..<count])) { [spare] in
                if readAhead { nextCount = try source.read(into: spare) }
            }
            guard readAhead else {
                count = try source.read(into: current)
                continue
            }
            // `process` runs `meanwhile` exactly once when it returns normally; a path that
            // skipped it would otherwise end the input early, a truncated but valid stream.
            guard let next = nextCount else { preconditionFailure("the streaming type did not run the read") }
            swap(&current, &spare)
            count = next
        }
    }

    /// Random access: reads the header and only the chunks covering `range`.
    private static func decryptRange(
        _ ciphertext: FileCiphertext, range: PlaintextRange, to output: OutputTarget, identities: [any Identity]
    ) throws {
        let reader = try StreamRandomAccessDecryptor(source: ciphertext, identities: identities)
        var end = min(range.end, reader.plaintextCount)
        if range.start >= end {
            // Only trust the length once the final chunk has authenticated.
            let count = try reader.authenticatedPlaintextCount()
            end = min(range.end, count)
            guard range.start < end else {
                throw CLIError("--range starts at byte \(range.start) but the plaintext has \(count) bytes", status: ExitStatus.invalidInput)
            }
        }
        var position = range.start
        while position < end {
            let next = min(end, (position / readSize + 1) * readSize)
            try output.write(try reader.read(position..<next))
            position = next
        }
    }

    /// Friendly errors for inputs that are not Coffer streams at all (the magic is public, so
    /// saying so is no oracle).
    private static func checkFormat(_ prefix: [UInt8], inputWasEmpty: Bool) throws {
        if inputWasEmpty {
            throw CLIError("the input is empty, not a Coffer file", status: ExitStatus.decryptionFailed)
        }
        switch CofferFormat.detect(prefix) {
        case .stream: return
        case .envelope, .envelopeText:
            throw CLIError("the input is a Coffer envelope (an API ciphertext), not a Coffer file", status: ExitStatus.decryptionFailed)
        case .unknown:
            if prefix.count < StreamHeader.magic.count && StreamHeader.magic.starts(with: prefix) {
                throw CLIError.decryptionFailed  // a truncated stream
            }
            throw CLIError("the input is not a Coffer file", status: ExitStatus.decryptionFailed)
        }
    }
}

extension StreamDecryptor {
    /// Feeds bytes held in an array.
    mutating func update(_ bytes: [UInt8], into sink: ByteSink) throws {
        try bytes.withUnsafeBytes { try update(rawBuffer: $0, sink: sink) }
    }
}
