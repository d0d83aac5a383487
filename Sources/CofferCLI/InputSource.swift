import CofferCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// Where a command reads from: a file or standard input.
struct InputSource {
    let fd: Int32
    let name: String
    /// The size in bytes, when the input is a regular file (for progress and random access).
    let size: Int?

    /// Opens `path`, or standard input for `nil` or `-`.
    static func open(_ path: String?) throws -> InputSource {
        guard let path, path != "-" else { return InputSource(fd: STDIN_FILENO, name: "standard input", size: regularFileSize(STDIN_FILENO)) }
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CLIError.io("open", path, errno: errno) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw CLIError.io("read", path, errno: errno) }
        if info.st_mode & S_IFMT == S_IFDIR {
            _ = Glibc.close(fd)
            throw CLIError.io("read", path, errno: EISDIR)
        }
        return InputSource(fd: fd, name: path, size: regularFileSize(fd))
    }

    private static func regularFileSize(_ fd: Int32) -> Int? {
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return Int(info.st_size)
    }

    /// Reads up to `buffer.count` bytes; 0 at the end of input.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw CLIError.io("read", name, errno: errno) }
        }
    }

    /// Reads until `buffer` is full or the input ends.
    func readFully(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            let count = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            if count == 0 { break }
            filled += count
        }
        return filled
    }

    /// Reads the whole input (for small files such as identity files), at most `limit` bytes.
    func readAll(limit: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            if count == 0 { return bytes }
            bytes += chunk[..<count]
            guard bytes.count <= limit else {
                throw CLIError("\(name) is larger than \(limit) bytes", status: ExitStatus.invalidInput)
            }
        }
    }

    func close() {
        if fd != STDIN_FILENO { _ = Glibc.close(fd) }
    }
}

/// A regular file as ``RandomAccessCiphertext``: `--range` reads only the chunks it needs.
struct FileCiphertext: RandomAccessCiphertext {
    let input: InputSource
    let count: Int

    func read(from offset: Int, count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        try bytes.withUnsafeMutableBytes { buffer in
            while filled < count {
                let result = pread(input.fd, buffer.baseAddress! + filled, count - filled, off_t(offset + filled))
                if result < 0 && errno == EINTR { continue }
                guard result > 0 else { throw CLIError.io("read", input.name, errno: result < 0 ? errno : EIO) }
                filled += result
            }
        }
        return bytes
    }
}
