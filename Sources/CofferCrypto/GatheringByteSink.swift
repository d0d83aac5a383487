/// Receives several consecutive pieces of output at once, in order. The buffers are valid only
/// during the call.
///
/// The streaming types seal or open a batch of chunks at a time; handing the whole batch over in
/// one call lets a file writer issue one `writev(2)` for it instead of one `write(2)` per 16 KiB
/// chunk (65 536 system calls per GiB).
public typealias GatheringByteSink = (UnsafeBufferPointer<UnsafeRawBufferPointer>) throws -> Void

/// Runs `body` with a gathering sink that hands each piece to `sink` in turn: how the
/// streaming types' one-piece forms call their gathering forms.
func withGathering<R>(_ sink: ByteSink, _ body: (GatheringByteSink) throws -> R) throws -> R {
    // `sink` is only called during `body`.
    try withoutActuallyEscaping(sink) { sink in try body { pieces in for piece in pieces { try sink(piece) } } }
}

/// The most pieces handed over in one call: ``gather(count:_:into:)`` nests one
/// `withUnsafeBytes` per piece, so a batch on a machine with many cores (16 chunks per thread)
/// is handed over in groups rather than nesting hundreds of frames deep.
let maximumGatheredPieces = 64

/// Calls `sink` with `count` pieces in order — once, or once per group of
/// ``maximumGatheredPieces`` — where `piece(i, use)` lends piece `i`'s bytes to `use` (for bytes
/// only reachable inside a `withUnsafeBytes`). Each piece's `withUnsafeBytes` is entered before
/// the next, so all of a group stay valid during its call to `sink`.
func gather(
    count: Int, _ piece: (Int, (UnsafeRawBufferPointer) throws -> Void) throws -> Void, into sink: GatheringByteSink
) throws {
    // `piece` and `sink` are only called during this function (the compiler cannot see that
    // through the recursion).
    try withoutActuallyEscaping(piece) { piece in
        try withUnsafeTemporaryAllocation(of: UnsafeRawBufferPointer.self, capacity: min(count, maximumGatheredPieces)) { list in
            var start = 0
            while start < count {
                let end = min(count, start + maximumGatheredPieces)
                func lend(from i: Int) throws {
                    guard i < end else {
                        return try sink(UnsafeBufferPointer(rebasing: list[0..<(end - start)]))
                    }
                    try piece(i) { bytes in
                        list.initializeElement(at: i - start, to: bytes)
                        try lend(from: i + 1)
                    }
                }
                try lend(from: start)
                start = end
            }
        }
    }
}

/// Hands a single piece to a gathering sink.
func give(_ bytes: UnsafeRawBufferPointer, to sink: GatheringByteSink) throws {
    try withUnsafeTemporaryAllocation(of: UnsafeRawBufferPointer.self, capacity: 1) { list in
        list.initializeElement(at: 0, to: bytes)
        try sink(UnsafeBufferPointer(list))
    }
}
