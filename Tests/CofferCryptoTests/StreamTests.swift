import Foundation
import PropertyBased
import Synchronization
import Testing

@_spi(Hazmat) @testable import CofferCrypto

/// Decrypts `ciphertext` fed in `piece`-sized parts; returns what was released and the error.
func streamOpen(
    _ ciphertext: [UInt8], identities: [any Identity], context: EncryptionContext = .empty, piece: Int = 65536,
    concurrency: Int = 1
) -> (plaintext: [UInt8], error: (any Error)?) {
    var output: [UInt8] = []
    do {
        var decryptor = try StreamDecryptor(identities: identities, context: context, concurrency: concurrency)
        var offset = 0
        while offset < ciphertext.count {
            let end = min(offset + piece, ciphertext.count)
            try decryptor.update(Array(ciphertext[offset..<end]), into: &output)
            offset = end
        }
        try decryptor.finish(into: &output)
        return (output, nil)
    } catch {
        return (output, error)
    }
}

func streamSeal(_ plaintext: [UInt8], to recipients: [any Recipient], context: EncryptionContext = .empty, piece: Int, concurrency: Int = 1) throws -> [UInt8] {
    var encryptor = try StreamEncryptor(recipients: recipients, context: context, concurrency: concurrency)
    var output: [UInt8] = []
    var offset = 0
    repeat {
        let end = min(offset + piece, plaintext.count)
        try encryptor.update(Array(plaintext[offset..<end]), into: &output)
        offset = end
    } while offset < plaintext.count
    try encryptor.finish(into: &output)
    return output
}

let chunk = ChunkedEncryption.chunkByteCount

@Suite struct StreamTests {
    let key = kek("files")

    @Test(arguments: [0, 1, chunk - 1, chunk, chunk + 1, 5 * chunk + 3, 3 * 1024 * 1024 + 17], [1, 2])
    func roundTrip(size: Int, concurrency: Int) throws {
        let plaintext = patternBytes(size)
        let context: EncryptionContext = ["bucket": "photos"]
        for piece in [1000, chunk, 1 << 20] where size < 100_000 || piece >= chunk {
            let sealed = try streamSeal(plaintext, to: [key], context: context, piece: piece, concurrency: concurrency)
            let (header, headerCount) = try StreamHeader.parse(sealed)
            #expect(header.stanzas.count == 1)
            #expect(sealed.count == headerCount + 56 + ChunkedEncryption.sealedCount(forPlaintextCount: size))
            let (opened, error) = streamOpen(sealed, identities: [key], context: context, piece: piece, concurrency: concurrency)
            #expect(error == nil)
            #expect(opened == plaintext)
        }
    }

    @Test(arguments: [0, 100, chunk + 1])
    func oneByteAtATime(size: Int) throws {
        let plaintext = patternBytes(size)
        let sealed = try CofferStream.seal(plaintext, to: [key])
        let (opened, error) = streamOpen(sealed, identities: [key], piece: 1)
        #expect(error == nil)
        #expect(opened == plaintext)
    }

    /// A header that declares more than 64 KiB is refused as soon as the declaration is read,
    /// not after buffering it.
    @Test func oversizedHeaderIsRefusedEarly() throws {
        var decryptor = try StreamDecryptor(identities: [key])
        var out: [UInt8] = []
        let declaration = StreamHeader.magic + [StreamHeader.version, 1, 0x01, 0xFF, 0xFF]
        #expect(throws: CofferCryptoError.authenticationFailed) { try decryptor.update(declaration, into: &out) }
        #expect(throws: CofferCryptoError.authenticationFailed) { try decryptor.update([0], into: &out) }
    }

    @Test func severalRecipientsEachDecrypt() throws {
        let other = kek("backup", version: 7)
        let sealed = try CofferStream.seal(patternBytes(40_000), to: [key, other])
        #expect(try CofferStream.open(sealed, with: [other]) == patternBytes(40_000))
        #expect(try CofferStream.open(sealed, with: [kek("nobody"), key]) == patternBytes(40_000))
        #expect(throws: CofferCryptoError.authenticationFailed) { try CofferStream.open(sealed, with: [kek("nobody")]) }
        #expect(throws: CofferCryptoError.authenticationFailed) { try CofferStream.open(sealed, with: []) }
        // Same name and version but different key material: the one error, not a crash.
        let impostor = try KeyEncryptionKey(restoring: [UInt8](repeating: 1, count: 32), reference: key.reference)
        #expect(throws: CofferCryptoError.authenticationFailed) { try CofferStream.open(sealed, with: [impostor]) }
    }

    @Test func contextIsRequired() throws {
        let sealed = try CofferStream.seal(patternBytes(100), to: [key], context: ["a": "1"])
        #expect(throws: CofferCryptoError.authenticationFailed) { try CofferStream.open(sealed, with: [key]) }
        #expect(throws: CofferCryptoError.authenticationFailed) { try CofferStream.open(sealed, with: [key], context: ["a": "2"]) }
        #expect(try CofferStream.open(sealed, with: [key], context: ["a": "1"]) == patternBytes(100))
    }

    @Test func misuseIsAnError() throws {
        var encryptor = try StreamEncryptor(recipients: [key])
        var out: [UInt8] = []
        try encryptor.finish(into: &out)
        #expect(throws: CofferCryptoError(.streamMisuse)) { try encryptor.update([1], into: &out) }
        #expect(throws: CofferCryptoError(.streamMisuse)) { try encryptor.finish(into: &out) }
        #expect(throws: CofferCryptoError(.invalidParameter)) { _ = try StreamEncryptor(recipients: []) }
    }

    /// Plaintext from chunks before a damaged one may be released; nothing from or after it.
    @Test func noPlaintextPastTheDamage() throws {
        let plaintext = patternBytes(3 * chunk + 10)
        var sealed = try CofferStream.seal(plaintext, to: [key])
        let (_, headerCount) = try StreamHeader.parse(sealed)
        let chunk2 = headerCount + 56 + 2 * ChunkedEncryption.sealedChunkByteCount
        sealed[chunk2 + 5] ^= 0x01
        let (released, error) = streamOpen(sealed, identities: [key], piece: 1000)
        #expect(error as? CofferCryptoError == .authenticationFailed)
        #expect(released == Array(plaintext.prefix(2 * chunk)))
        // In parallel mode a damaged batch is withheld entirely.
        let (parallelReleased, parallelError) = streamOpen(sealed, identities: [key], piece: 1 << 20, concurrency: 2)
        #expect(parallelError != nil)
        #expect(parallelReleased.isEmpty)
    }

    /// Parallel opening never releases the damaged chunk or anything after it, and reports the
    /// one error. (Which earlier chunks come out depends on where batches fall.)
    @Test func parallelBatchesAreAllOrNothing() throws {
        let plaintext = patternBytes(40 * chunk + 5)
        var sealed = try CofferStream.seal(plaintext, to: [key], concurrency: 2)
        let (_, headerCount) = try StreamHeader.parse(sealed)
        sealed[headerCount + 56 + 20 * ChunkedEncryption.sealedChunkByteCount + 7] ^= 0x80
        let (released, error) = streamOpen(sealed, identities: [key], piece: 1 << 20, concurrency: 2)
        #expect(error as? CofferCryptoError == .authenticationFailed)
        #expect(released.count <= 20 * chunk)
        #expect(released.count % chunk == 0)
        #expect(plaintext.starts(with: released))
    }

    /// The caller's `meanwhile` work (the CLI's next read) runs exactly once per successful
    /// update, whatever the piece size and whether helpers are working — before the update
    /// releases anything when a parallel batch runs, so the read overlaps the cryptography — and
    /// changes nothing in what is sealed or released. Fed the way the CLI feeds a file: each
    /// `meanwhile` fills the other of two buffers with the next piece.
    @Test(arguments: [1, 2])
    func meanwhileRunsOncePerUpdate(concurrency: Int) throws {
        let plaintext = patternBytes(70 * chunk + 11)
        let parallel = concurrency > 1 && ProcessInfo.processInfo.activeProcessorCount > 1
        for piece in [100, chunk, 32 * chunk, 1 << 20] {
            var encryptor = try StreamEncryptor(recipients: [key], concurrency: concurrency)
            var sealed: [UInt8] = []
            var updates = 0, calls = 0, overlapped = 0
            var buffers = [[UInt8]](repeating: [], count: 2)
            var offset = 0
            buffers[0] = Array(plaintext[0..<min(piece, plaintext.count)])
            while !buffers[updates % 2].isEmpty {
                let current = updates % 2
                let sealedBefore = sealed.count
                var ranBeforeOutput = false
                let next = min(offset + piece, plaintext.count)
                try buffers[current].withUnsafeBytes { raw in
                    try encryptor.update(rawBuffer: raw, sink: { sealed.append(contentsOf: $0) }) {
                        calls += 1
                        ranBeforeOutput = sealed.count == sealedBefore
                        buffers[1 - current] = Array(plaintext[next..<min(next + piece, plaintext.count)])  // the "read"
                    }
                }
                if ranBeforeOutput { overlapped += 1 }
                // An update of two or more whole chunks runs a parallel batch: its read comes first.
                // (The first update releases the header first.)
                if parallel && updates > 0 && buffers[current].count >= 2 * chunk { #expect(ranBeforeOutput) }
                updates += 1
                offset = next
            }
            try encryptor.finish { sealed.append(contentsOf: $0) }
            #expect(calls == updates)
            if parallel && piece >= 32 * chunk { #expect(overlapped > 0) }

            var decryptor = try StreamDecryptor(identities: [key], concurrency: concurrency)
            var opened: [UInt8] = []
            updates = 0; calls = 0; offset = 0
            while offset < sealed.count {
                let end = min(offset + piece, sealed.count)
                try sealed[offset..<end].withUnsafeBytes { raw in
                    try decryptor.update(rawBuffer: raw, sink: { opened.append(contentsOf: $0) }) { calls += 1 }
                }
                updates += 1
                offset = end
            }
            try decryptor.finish { opened.append(contentsOf: $0) }
            #expect(calls == updates)
            #expect(opened == plaintext)
        }
    }

    /// More pieces than one call takes go out in order, in groups, each piece's bytes valid
    /// during its group's call.
    @Test func gatherHandsOverGroupsInOrder() throws {
        let pieces: [Data] = (0..<150).map { Data([UInt8(truncatingIfNeeded: $0), 0xAA]) + Data(count: $0 % 3) }
        var groups: [Int] = []
        var joined: [UInt8] = []
        try gather(count: pieces.count, { i, use in try pieces[i].withUnsafeBytes(use) }, into: { list in
            groups.append(list.count)
            for piece in list { joined.append(contentsOf: piece) }
        })
        #expect(groups == [64, 64, 22])
        #expect(joined == pieces.flatMap { Array($0) })
    }

    /// The gathering forms hand over exactly the bytes the one-piece forms do, a parallel batch
    /// (16 chunks per thread) in one call, and nothing of a batch holding a damaged chunk.
    @Test(arguments: [1, 2])
    func gatheringSinksGetWholeBatches(concurrency: Int) throws {
        let plaintext = patternBytes(70 * chunk + 11)
        let parallel = concurrency > 1 && ProcessInfo.processInfo.activeProcessorCount > 1
        let batch = parallel ? 2 * ChunkedMessageEncryptor.chunksPerWorker : 1
        var encryptor = try StreamEncryptor(recipients: [key], concurrency: concurrency)
        var sealed: [UInt8] = []
        var sealCalls: [[Int]] = []
        func collect(_ pieces: UnsafeBufferPointer<UnsafeRawBufferPointer>, into bytes: inout [UInt8], calls: inout [[Int]]) {
            calls.append(pieces.map(\.count))
            for piece in pieces { bytes.append(contentsOf: piece) }
        }
        try plaintext.withUnsafeBytes { raw in
            try encryptor.updateGathering(rawBuffer: raw, sink: { collect($0, into: &sealed, calls: &sealCalls) })
        }
        try encryptor.finishGathering(sink: { collect($0, into: &sealed, calls: &sealCalls) })
        let sealedFull = ChunkedEncryption.sealedChunkByteCount
        // 70 full chunks: batches of 32, 32 and 6 on two threads, one at a time on one.
        let expectedBatches = parallel ? [32, 32, 6] : [Int](repeating: 1, count: 70)
        #expect(sealCalls.filter { $0.allSatisfy { $0 == sealedFull } }.map(\.count) == expectedBatches)
        #expect(streamOpen(sealed, identities: [key]).plaintext == plaintext)

        func open(_ ciphertext: [UInt8]) -> (bytes: [UInt8], calls: [[Int]], failed: Bool) {
            var opened: [UInt8] = []
            var calls: [[Int]] = []
            do {
                var decryptor = try StreamDecryptor(identities: [key], concurrency: concurrency)
                try ciphertext.withUnsafeBytes { raw in
                    try decryptor.updateGathering(rawBuffer: raw, sink: { collect($0, into: &opened, calls: &calls) })
                }
                try decryptor.finishGathering(sink: { collect($0, into: &opened, calls: &calls) })
                return (opened, calls, false)
            } catch {
                return (opened, calls, true)
            }
        }
        let (opened, openCalls, failed) = open(sealed)
        #expect(!failed && opened == plaintext)
        #expect(openCalls.filter { $0.allSatisfy { $0 == chunk } }.map(\.count) == expectedBatches)

        // Damage chunk 40: the batches before it come out whole, nothing from its batch on.
        var damaged = sealed
        let (_, headerCount) = try StreamHeader.parse(sealed)
        damaged[headerCount + 56 + 40 * sealedFull + 3] ^= 1
        let broken = open(damaged)
        #expect(broken.failed)
        #expect(broken.bytes.count == (40 / batch) * batch * chunk)
        #expect(plaintext.starts(with: broken.bytes))
    }

    /// `meanwhile` runs while the helper threads work on the batch, not after the caller's own
    /// share of it: the batch's chunks wait for `meanwhile` to start, and `meanwhile` waits for
    /// a helper to finish one. Run in the other order, the chunks would time out waiting.
    @Test(.enabled(if: ProcessInfo.processInfo.activeProcessorCount > 1, "needs helper threads"))
    func meanwhileOverlapsTheHelpers() throws {
        let workers = try #require(ChunkWorkers.make(concurrency: 2))
        let started = Atomic<Bool>(false), finished = Atomic<Int>(0), timedOut = Atomic<Bool>(false)
        func wait(_ done: () -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(5)
            while !done() { if Date() > deadline { return false }; sched_yield() }
            return true
        }
        var helperFinishedDuringMeanwhile = false
        workers.pool.run(count: 8, { _ in
            if !wait({ started.load(ordering: .acquiring) }) { timedOut.store(true, ordering: .relaxed) }
            finished.add(1, ordering: .releasing)
            return true
        }, meanwhile: {
            started.store(true, ordering: .releasing)
            helperFinishedDuringMeanwhile = wait { finished.load(ordering: .acquiring) > 0 }
        })
        let anyTimedOut = timedOut.load(ordering: .relaxed), count = finished.load(ordering: .relaxed)
        #expect(helperFinishedDuringMeanwhile)
        #expect(!anyTimedOut)
        #expect(count == 8)
    }

    /// A failing `meanwhile` fails the update after the batch is done; a chunk that fails to
    /// authenticate in the same update is the error reported, and nothing of its batch is released.
    @Test(.enabled(if: ProcessInfo.processInfo.activeProcessorCount > 1, "needs helper threads"))
    func meanwhileFailuresAndChunkFailures() throws {
        struct ReadFailed: Error {}
        let plaintext = patternBytes(40 * chunk + 5)
        var encryptor = try StreamEncryptor(recipients: [key], concurrency: 2)
        #expect(throws: ReadFailed.self) {
            try plaintext.withUnsafeBytes { try encryptor.update(rawBuffer: $0, sink: { _ in }) { throw ReadFailed() } }
        }
        // The encryptor is unusable after a failed update, as after any failure.
        #expect(throws: CofferCryptoError.self) { try encryptor.finish { _ in } }

        var sealed = try CofferStream.seal(plaintext, to: [key], concurrency: 2)
        // All chunks authentic: the read error is the error, and the batch it overlapped is not
        // released (the update failed).
        var intact = try StreamDecryptor(identities: [key], concurrency: 2)
        var releasedIntact = 0
        #expect(throws: ReadFailed.self) {
            try sealed.withUnsafeBytes { try intact.update(rawBuffer: $0, sink: { releasedIntact += $0.count }) { throw ReadFailed() } }
        }
        #expect(releasedIntact == 0)

        let (_, headerCount) = try StreamHeader.parse(sealed)
        sealed[headerCount + 56 + 5 * ChunkedEncryption.sealedChunkByteCount + 3] ^= 0x01
        var decryptor = try StreamDecryptor(identities: [key], concurrency: 2)
        var released = 0
        #expect(throws: CofferCryptoError.authenticationFailed) {
            try sealed.withUnsafeBytes { try decryptor.update(rawBuffer: $0, sink: { released += $0.count }) { throw ReadFailed() } }
        }
        #expect(released == 0)
    }

    /// Helper threads end with their encryptor or decryptor: creating many leaves none behind.
    @Test func workerThreadsDoNotLeak() throws {
        func threadCount() -> Int {
            (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0
        }
        let plaintext = patternBytes(3 * chunk)
        for _ in 0..<5 { _ = try CofferStream.open(try CofferStream.seal(plaintext, to: [key], concurrency: 3), with: [key], concurrency: 3) }
        let before = threadCount()
        for _ in 0..<40 {
            let sealed = try CofferStream.seal(plaintext, to: [key], concurrency: 3)
            #expect(try CofferStream.open(sealed, with: [key], concurrency: 3) == plaintext)
        }
        // Threads stop asynchronously after shutdown; give them a moment.
        var after = threadCount()
        for _ in 0..<100 where after > before + 4 {
            Thread.sleep(forTimeInterval: 0.01)
            after = threadCount()
        }
        #expect(after <= before + 4, "threads: \(before) before, \(after) after")
    }

    /// Streams of 1–3 chunks: every single-bit flip, every truncation, and one extra byte fail
    /// with the one authentication error and release nothing past the valid prefix.
    @Test(arguments: [0, 100, chunk + 1, 2 * chunk + 7])
    func everyBitFlipAndTruncation(size: Int) throws {
        let plaintext = patternBytes(size)
        let sealed = try CofferStream.seal(plaintext, to: [key])
        var failures = 0
        everySingleBitFlip(of: sealed) { flipped, bit in
            let (released, error) = streamOpen(flipped, identities: [key])
            if error as? CofferCryptoError == .authenticationFailed && plaintext.starts(with: released) && released.count % chunk == 0 {
                failures += 1
            } else {
                Issue.record("bit \(bit): error \(String(describing: error)), released \(released.count)")
            }
        }
        #expect(failures == sealed.count * 8)
        for length in 0..<sealed.count {
            let (released, error) = streamOpen(Array(sealed.prefix(length)), identities: [key], piece: 4096)
            #expect(error as? CofferCryptoError == .authenticationFailed, "length \(length)")
            #expect(plaintext.starts(with: released))
        }
        #expect(streamOpen(sealed + [0], identities: [key]).error as? CofferCryptoError == .authenticationFailed)
        #expect(streamOpen(sealed + sealed.suffix(16), identities: [key]).error as? CofferCryptoError == .authenticationFailed)
    }

    /// Reordering, duplicating and dropping whole chunks.
    @Test func chunkSwapDuplicateDrop() throws {
        let sealed = try CofferStream.seal(patternBytes(2 * chunk + 50), to: [key])
        let (_, headerCount) = try StreamHeader.parse(sealed)
        let start = headerCount + 56
        let size = ChunkedEncryption.sealedChunkByteCount
        let prefix = Array(sealed[..<start])
        let c0 = Array(sealed[start..<(start + size)])
        let c1 = Array(sealed[(start + size)..<(start + 2 * size)])
        let last = Array(sealed[(start + 2 * size)...])
        let variants: [[UInt8]] = [
            prefix + c1 + c0 + last,  // swap
            prefix + c0 + c0 + last,  // duplicate
            prefix + c0 + c1 + c1 + last,
            prefix + c1 + last,  // drop
            prefix + c0 + last,
            prefix + c0 + c1,  // drop the final chunk: ends at a chunk boundary
            prefix + last + c0 + c1,
            prefix + c0 + c1 + last + last,
        ]
        for (i, variant) in variants.enumerated() {
            #expect(streamOpen(variant, identities: [key]).error as? CofferCryptoError == .authenticationFailed, "variant \(i)")
        }
    }

    /// Stanzas cannot be added, removed, reordered or edited without the header MAC noticing.
    @Test func stanzaEdits() throws {
        let other = kek("second")
        let sealed = try CofferStream.seal(patternBytes(1000), to: [key, other])
        let (header, headerCount) = try StreamHeader.parse(sealed)
        let payload = Array(sealed[headerCount...])
        func rebuilt(_ stanzas: [RecipientStanza], mac: [UInt8] = header.mac) -> [UInt8] {
            var bytes = StreamHeader.magic + [StreamHeader.version, UInt8(stanzas.count)]
            for stanza in stanzas { stanza.encode(into: &bytes) }
            return bytes + mac + payload
        }
        #expect(try CofferStream.open(rebuilt(header.stanzas), with: [key]) == patternBytes(1000))
        let foreign = try kek("attacker").stanza(wrapping: .generate())
        let unknown = try RecipientStanza(kind: .init(rawValue: 0x7F), body: [1, 2, 3])
        let edits: [[RecipientStanza]] = [
            [header.stanzas[0]],  // removed
            [header.stanzas[1], header.stanzas[0]],  // reordered
            header.stanzas + [foreign],  // added
            header.stanzas + [unknown],  // added, unknown type
            // Edited: the last byte flipped (setting it to 0 was no edit when it already was 0, 1 run in 256).
            [header.stanzas[0], try RecipientStanza(kind: header.stanzas[1].kind, body: header.stanzas[1].body.dropLast() + [header.stanzas[1].body.last! ^ 1])],
        ]
        for (i, stanzas) in edits.enumerated() {
            #expect(throws: CofferCryptoError.authenticationFailed, "edit \(i)") { try CofferStream.open(rebuilt(stanzas), with: [key]) }
        }
        // Unknown stanza types written by a newer Coffer are skipped, but still authenticated.
        let inputKey = try header.unwrapInputKey(with: [key])
        let newer = try StreamHeader.make(inputKey: inputKey, stanzas: [unknown, try key.stanza(wrapping: inputKey)]).bytes
        #expect(try CofferStream.open(newer + payload, with: [key]) == patternBytes(1000))
    }

    @Test func rewrapReplacesOnlyTheHeader() throws {
        let v1 = kek("objects", version: 1)
        let v2 = kek("objects", version: 2)
        let recovery = kek("recovery")
        let plaintext = patternBytes(2 * chunk + 99)
        let sealed = try CofferStream.seal(plaintext, to: [v1, recovery])
        let rewrapped = try CofferStream.rewrap(sealed, from: v1, to: v2)
        let (_, oldCount) = try StreamHeader.parse(sealed)
        let (newHeader, newCount) = try StreamHeader.parse(rewrapped)
        #expect(sealed[oldCount...] == rewrapped[newCount...])
        #expect(newHeader.stanzas.count == 2)
        #expect(try CofferStream.open(rewrapped, with: [v2]) == plaintext)
        #expect(try CofferStream.open(rewrapped, with: [recovery]) == plaintext)
        #expect(throws: CofferCryptoError.authenticationFailed) { try CofferStream.open(rewrapped, with: [v1]) }
        #expect(try CofferStream.open(sealed, with: [v1]) == plaintext)
        let auditor = kek("auditor")
        let widened = try newHeader.adding([auditor], using: v2)
        #expect(widened.stanzas.count == 3)
        #expect(try CofferStream.open(widened.bytes + rewrapped[newCount...], with: [auditor]) == plaintext)
    }

    @Test func randomAccessAtChunkBoundaries() throws {
        let plaintext = patternBytes(4 * chunk + 123)
        let sealed = try CofferStream.seal(plaintext, to: [key], context: ["f": "x"])
        let reader = try StreamRandomAccessDecryptor(source: sealed, identities: [key], context: ["f": "x"])
        #expect(reader.plaintextCount == plaintext.count)
        #expect(try reader.authenticatedPlaintextCount() == plaintext.count)
        let edges = [0, 1, chunk - 1, chunk, chunk + 1, 2 * chunk, 4 * chunk, 4 * chunk + 122, plaintext.count]
        for lower in edges {
            for upper in edges where upper >= lower {
                #expect(try reader.read(lower..<upper) == Array(plaintext[lower..<upper]), "\(lower)..<\(upper)")
            }
        }
        #expect(throws: CofferCryptoError(.invalidParameter)) { try reader.read(0..<(plaintext.count + 1)) }
        // A truncated stream still serves ranges inside intact chunks, but not its length.
        let cut = Array(sealed.dropLast(100))
        let truncated = try StreamRandomAccessDecryptor(source: cut, identities: [key], context: ["f": "x"])
        #expect(try truncated.read(0..<chunk) == Array(plaintext[0..<chunk]))
        #expect(throws: CofferCryptoError.authenticationFailed) { try truncated.authenticatedPlaintextCount() }
        #expect(throws: CofferCryptoError.authenticationFailed) { try truncated.read(0..<truncated.plaintextCount) }
    }

    @Test func property_roundTripAnySizeAnySplit() async throws {
        let key = self.key
        await propertyCheck(count: 40, input: Gen.int(in: 0...(3 * chunk + 5)), Gen.int(in: 1...(2 * chunk))) { size, piece in
            let plaintext = patternBytes(size, seed: UInt64(size))
            let sealed = try! streamSeal(plaintext, to: [key], piece: piece)
            let (opened, error) = streamOpen(sealed, identities: [key], piece: max(1, piece / 3))
            #expect(error == nil)
            #expect(opened == plaintext)
        }
    }

    @Test func property_randomRanges() async throws {
        let plaintext = patternBytes(5 * chunk + 321)
        let sealed = try CofferStream.seal(plaintext, to: [key])
        let reader = try StreamRandomAccessDecryptor(source: sealed, identities: [key])
        await propertyCheck(count: 200, input: Gen.int(in: 0...plaintext.count), Gen.int(in: 0...plaintext.count)) { a, b in
            let range = min(a, b)..<max(a, b)
            #expect(try! reader.read(range) == Array(plaintext[range]))
        }
    }
}
