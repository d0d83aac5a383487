import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// Runs a transformation over standard input one line at a time, writing one output line per
/// input line — the shape of `coffer fernet` and `coffer token`, for scripts and migrations.
///
/// A line ends at LF; a CR before it is dropped (files edited on Windows), and a last line
/// without LF still counts. The first line that fails stops the run with "line N: …", so every
/// output line written before it corresponds to an input line that succeeded, in order: a
/// script can tell exactly how far a batch got.
enum LineFilter {
    /// Longest accepted line. Fernet and signed tokens for small secrets are far shorter; the
    /// limit keeps a hostile or binary input from growing memory without bound.
    static let maximumLineByteCount = 16 * 1024 * 1024

    static func run(_ input: InputSource, _ transform: ([UInt8]) throws -> [UInt8]) throws {
        let out = try OutputTarget.open(nil, force: true, mode: 0, applyUmask: false)
        var pending: [UInt8] = []
        var output: [UInt8] = []
        var lineNumber = 0
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)

        func process(_ line: ArraySlice<UInt8>) throws {
            lineNumber += 1
            var bytes = Array(line)
            if bytes.last == 0x0D { bytes.removeLast() }
            do {
                output += try transform(bytes)
                output.append(0x0A)
            } catch {
                // Lines already done stay valid output; flush them before reporting.
                try out.write(output)
                let failure = CLIError.from(error)
                throw CLIError("line \(lineNumber): \(failure.message)", status: failure.status)
            }
            if output.count >= 64 * 1024 {
                try out.write(output)
                output.removeAll(keepingCapacity: true)
            }
        }

        while true {
            let count = try chunk.withUnsafeMutableBytes { try input.read(into: $0) }
            if count == 0 { break }
            pending += chunk[..<count]
            var start = pending.startIndex
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                try process(pending[start..<newline])
                start = newline + 1
            }
            pending.removeSubrange(..<start)
            guard pending.count <= maximumLineByteCount else {
                throw CLIError("line \(lineNumber + 1) is longer than \(maximumLineByteCount) bytes", status: ExitStatus.invalidInput)
            }
        }
        if !pending.isEmpty { try process(pending[...]) }
        try out.write(output)
    }

    /// The whole of `input` as one item (`--whole`), for a single message that may contain line
    /// breaks or arbitrary bytes.
    static func readWhole(_ input: InputSource) throws -> [UInt8] {
        try input.readAll(limit: maximumLineByteCount)
    }
}

/// How message bytes appear on a line: as they are, or as standard base64 when they may hold
/// line breaks or binary data.
enum LineEncoding: String, ExpressibleByArgument {
    case raw, base64

    func decode(_ line: [UInt8]) throws -> [UInt8] {
        switch self {
        case .raw:
            return line
        case .base64:
            guard let data = Data(base64Encoded: Data(line)) else {
                throw CLIError("not valid base64", status: ExitStatus.invalidInput)
            }
            return Array(data)
        }
    }

    /// The line for `message`; in raw form a message containing a line break cannot be written
    /// as one line and is refused rather than silently splitting the output.
    func encode(_ message: [UInt8]) throws -> [UInt8] {
        switch self {
        case .raw:
            guard !message.contains(0x0A), !message.contains(0x0D) else {
                throw CLIError("the message contains a line break; use --encoding base64 or --whole", status: ExitStatus.invalidInput)
            }
            return message
        case .base64:
            return Array(Data(message).base64EncodedString().utf8)
        }
    }
}
