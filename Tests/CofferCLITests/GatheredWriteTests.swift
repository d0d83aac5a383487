import Glibc
import Testing
@testable import CofferCLI

/// A gathered write puts every byte out once, in order, however the kernel splits it: short
/// writes that stop mid-piece, interruptions, more pieces than one `writev` takes, empty pieces.
@Suite("Gathered writes")
struct GatheredWriteTests {
    /// Pieces of the given sizes filled with a running counter, so order and gaps show.
    static func pieces(_ sizes: [Int]) -> [[UInt8]] {
        var next: UInt8 = 0
        return sizes.map { size in (0..<size).map { _ in next &+= 1; return next } }
    }

    /// Runs `GatheredWrite.writeAll` against a fake `writev` that takes at most `limit(call)`
    /// bytes per call (`-EINTR` when it returns 0). Returns what was written and the failure.
    static func write(_ pieces: [[UInt8]], limit: (Int) -> Int) -> (written: [UInt8], failure: Int32?, calls: Int, counted: Int) {
        var written: [UInt8] = []
        var calls = 0
        let buffers = pieces.map { piece -> UnsafeMutableRawBufferPointer in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: piece.count, alignment: 1)
            piece.withUnsafeBytes { buffer.copyMemory(from: $0) }
            return buffer
        }
        defer { buffers.forEach { $0.deallocate() } }
        // An empty piece is given with no address at all, as an empty Swift buffer may be.
        let (counted, failure) = buffers.map { $0.count == 0 ? UnsafeRawBufferPointer(start: nil, count: 0) : UnsafeRawBufferPointer($0) }
            .withUnsafeBufferPointer { list in
            GatheredWrite.writeAll(list) { vectors, count in
                #expect(count >= 1 && count <= Int32(GatheredWrite.maximumVectors))
                calls += 1
                var budget = limit(calls)
                if budget == 0 { return -Int(EINTR) }
                if budget < 0 { return budget }
                var taken = 0
                for i in 0..<Int(count) where budget > 0 {
                    let vector = vectors[i]
                    let take = min(budget, vector.iov_len)
                    if take > 0 {
                        written.append(contentsOf: UnsafeRawBufferPointer(start: vector.iov_base, count: take))
                    }
                    budget -= take
                    taken += take
                }
                return taken
            }
        }
        #expect(counted == written.count)
        return (written, failure, calls, counted)
    }

    @Test func wholeWritesTakeOneCall() {
        let pieces = Self.pieces([16_400, 16_400, 0, 7, 16_400])
        let result = Self.write(pieces) { _ in Int.max }
        #expect(result.failure == nil)
        #expect(result.written == pieces.flatMap { $0 })
        #expect(result.calls == 1)
    }

    @Test(arguments: [1, 5, 4096, 16_399, 16_400, 16_401, 40_000])
    func shortWritesResumeMidPiece(limit: Int) {
        let pieces = Self.pieces([0, 16_400, 0, 3, 16_400, 0, 0, 16_400, 1, 0])
        let result = Self.write(pieces) { _ in limit }
        #expect(result.failure == nil)
        #expect(result.written == pieces.flatMap { $0 })
    }

    @Test func interruptionsAreRetriedAndErrorsReported() {
        let pieces = Self.pieces([1000, 2000, 3000])
        let interrupted = Self.write(pieces) { call in call % 2 == 1 ? 0 : 700 }
        #expect(interrupted.failure == nil)
        #expect(interrupted.written == pieces.flatMap { $0 })

        let full = Self.write(pieces) { call in call == 1 ? 1500 : -Int(ENOSPC) }
        #expect(full.failure == ENOSPC)
        #expect(full.counted == 1500)
        #expect(full.written == Array(pieces.flatMap { $0 }.prefix(1500)))
    }

    @Test func morePiecesThanOneCallTakes() {
        let pieces = Self.pieces([Int](repeating: 3, count: 2500) + [0])
        let result = Self.write(pieces) { _ in Int.max }
        #expect(result.failure == nil)
        #expect(result.written == pieces.flatMap { $0 })
        #expect(result.calls == 3)
    }

    @Test func nothingToWriteMakesNoCall() {
        #expect(Self.write([], limit: { _ in Int.max }).calls == 0)
        #expect(Self.write(Self.pieces([0, 0]), limit: { _ in Int.max }).calls == 0)
    }

    /// Through a real pipe: a gathered write from `OutputTarget` arrives whole and in order.
    @Test func realPipe() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let pieces = Self.pieces([10, 0, 4000, 33])
        let target = try OutputTarget.open("/dev/fd/\(fds[1])", force: false, mode: 0o600, applyUmask: false)
        close(fds[1])
        try pieces[0].withUnsafeBytes { a in
            try pieces[1].withUnsafeBytes { b in
                try pieces[2].withUnsafeBytes { c in
                    try pieces[3].withUnsafeBytes { d in
                        try [a, b, c, d].withUnsafeBufferPointer { try target.write(gathering: $0) }
                    }
                }
            }
        }
        try target.commit()
        var received = [UInt8](repeating: 0, count: 5000)
        let count = received.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
        #expect(count == 4043)
        #expect(Array(received.prefix(max(0, count))) == pieces.flatMap { $0 })
        #expect(target.bytesWritten == 4043)
    }
}
