#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The text-safe ("armored") form of a Coffer stream, for mail, chat and terminals:
///
/// ```
/// -----BEGIN COFFER ENCRYPTED FILE-----
/// base64 (RFC 4648 §4, padded), 64 characters per line, the last line 4–64
/// -----END COFFER ENCRYPTED FILE-----
/// ```
///
/// Lines end in LF; a CR before an LF is tolerated when reading. Nothing but one line ending
/// may follow the end line. Decoding is strict otherwise (exact line lengths, no whitespace
/// inside, canonical padding), so every stream has exactly one armored form.
public enum Armor {
    public static let beginLine = "-----BEGIN COFFER ENCRYPTED FILE-----"
    public static let endLine = "-----END COFFER ENCRYPTED FILE-----"
    static let bytesPerLine = 48
    static let charactersPerLine = 64
    /// Longer lines are rejected at once, so a hostile input cannot grow the line buffer.
    static let maximumLineLength = 80

    /// Whether `prefix` (at least the first 11 bytes) starts like an armored file.
    public static func isArmored(_ prefix: some Collection<UInt8>) -> Bool {
        prefix.starts(with: "-----BEGIN ".utf8) || "-----BEGIN ".utf8.starts(with: prefix)
    }

    /// Armors bytes already in memory.
    public static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var encoder = ArmorEncoder()
        var out: [UInt8] = []
        bytes.withUnsafeBytes { encoder.update($0, into: &out) }
        encoder.finish(into: &out)
        return out
    }

    /// Removes the armor from a whole document in memory.
    public static func decode(_ text: [UInt8]) throws -> [UInt8] {
        var decoder = ArmorDecoder()
        var out: [UInt8] = []
        try text.withUnsafeBytes { try decoder.update($0, into: &out) }
        try decoder.finish(into: &out)
        return out
    }
}

/// Streaming armor encoder: constant memory, output in 64-character lines.
public struct ArmorEncoder {
    private var pending: [UInt8] = []
    private var started = false

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        start(&out)
        pending.append(contentsOf: bytes)
        let whole = pending.count / Armor.bytesPerLine * Armor.bytesPerLine
        guard whole > 0 else { return }
        emit(pending[..<whole], into: &out)
        pending.removeFirst(whole)
    }

    public mutating func finish(into out: inout [UInt8]) {
        start(&out)
        if !pending.isEmpty { emit(pending[...], into: &out) }
        pending = []
        out.append(contentsOf: Array(Armor.endLine.utf8) + [0x0A])
    }

    private mutating func start(_ out: inout [UInt8]) {
        guard !started else { return }
        started = true
        out.append(contentsOf: Array(Armor.beginLine.utf8) + [0x0A])
    }

    private func emit(_ bytes: ArraySlice<UInt8>, into out: inout [UInt8]) {
        out.append(contentsOf: Data(bytes).base64EncodedData(options: [.lineLength64Characters, .endLineWithLineFeed]))
        out.append(0x0A)
    }
}

/// Streaming armor decoder. Any deviation from the canonical form throws
/// ``CofferCryptoError/Code/authenticationFailed`` like every other malformed ciphertext.
public struct ArmorDecoder {
    private enum State { case begin, body, afterShortLine, trailer }
    private var state = State.begin
    private var line: [UInt8] = []
    private var batch: [UInt8] = []

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) throws {
        for byte in bytes {
            if byte == 0x0A {
                try endOfLine(into: &out)
            } else {
                guard state != .trailer, line.count <= Armor.maximumLineLength else { throw CofferCryptoError.authenticationFailed }
                line.append(byte)
            }
        }
        if batch.count >= 64 * 1024 { try flush(into: &out) }
    }

    public mutating func finish(into out: inout [UInt8]) throws {
        if !line.isEmpty { try endOfLine(into: &out) }
        guard state == .trailer else { throw CofferCryptoError.authenticationFailed }
        try flush(into: &out)
    }

    private mutating func endOfLine(into out: inout [UInt8]) throws {
        defer { line.removeAll(keepingCapacity: true) }
        if line.last == 0x0D { line.removeLast() }
        switch state {
        case .begin:
            guard line.elementsEqual(Armor.beginLine.utf8) else { throw CofferCryptoError.authenticationFailed }
            state = .body
        case .body, .afterShortLine:
            if line.elementsEqual(Armor.endLine.utf8) {
                state = .trailer
                return
            }
            guard state == .body, !line.isEmpty, line.count <= Armor.charactersPerLine, line.count % 4 == 0 else {
                throw CofferCryptoError.authenticationFailed
            }
            if let padding = line.firstIndex(of: UInt8(ascii: "=")) {
                // Padding only at the very end of the last line (its bits are checked on flush).
                guard padding >= line.count - 2 else { throw CofferCryptoError.authenticationFailed }
                state = .afterShortLine
            } else if line.count < Armor.charactersPerLine {
                // A short line ends the body.
                state = .afterShortLine
            }
            batch.append(contentsOf: line)
            if state == .afterShortLine { try flush(into: &out) }
        case .trailer:
            throw CofferCryptoError.authenticationFailed
        }
    }

    private mutating func flush(into out: inout [UInt8]) throws {
        guard !batch.isEmpty else { return }
        guard let data = Data(base64Encoded: Data(batch)) else { throw CofferCryptoError.authenticationFailed }
        // Canonical padding bits: the last group must re-encode to itself.
        let tail = batch.suffix(4)
        let tailByteCount = 3 - tail.reversed().prefix(while: { $0 == UInt8(ascii: "=") }).count
        guard Data(data.suffix(tailByteCount)).base64EncodedData().elementsEqual(tail) else {
            throw CofferCryptoError.authenticationFailed
        }
        out.append(contentsOf: data)
        batch.removeAll(keepingCapacity: true)
    }
}
