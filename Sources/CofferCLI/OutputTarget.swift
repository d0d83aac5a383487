#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// Where a command writes: standard output, or a file written atomically.
///
/// A file is written to a temporary file in the same directory (so the final rename cannot
/// cross file systems), flushed to disk, then moved into place: readers never see a partial
/// file, and on any failure — wrong key, tampering, a full disk, Ctrl-C — the temporary file is
/// removed and nothing is left behind. Without `force` an existing file is never replaced, and
/// the check is made again atomically at the end (`link(2)` fails if the name appeared meanwhile).
final class OutputTarget {
    let name: String
    let fd: Int32
    private let finalPath: String?
    private var temporaryPath: String?
    private let force: Bool
    /// Whether ``fd`` was opened here for a device or FIFO (closed at commit or deinit).
    private var ownsDescriptor: Bool
    /// Bytes written so far (to tell the user output on stdout is incomplete).
    private(set) var bytesWritten = 0

    var isTerminal: Bool { finalPath == nil && (fd == STDOUT_FILENO ? Terminal.stdoutIsTerminal : isatty(fd) == 1) }

    private init(name: String, fd: Int32, finalPath: String?, temporaryPath: String?, force: Bool, ownsDescriptor: Bool = false) {
        self.name = name
        self.fd = fd
        self.finalPath = finalPath
        self.temporaryPath = temporaryPath
        self.force = force
        self.ownsDescriptor = ownsDescriptor
    }

    /// Standard output for `nil` or `-`; otherwise a new temporary file beside `path` with
    /// permissions `mode` (further limited by the umask only when `applyUmask`).
    static func open(_ path: String?, force: Bool, mode: mode_t, applyUmask: Bool) throws -> OutputTarget {
        guard let path, path != "-" else {
            return OutputTarget(name: "standard output", fd: STDOUT_FILENO, finalPath: nil, temporaryPath: nil, force: force)
        }
        var info = stat()
        if stat(path, &info) == 0 {
            if info.st_mode & S_IFMT == S_IFDIR { throw CLIError.io("write", path, errno: EISDIR) }
            if info.st_mode & S_IFMT != S_IFREG {
                // A device, FIFO or socket (`-o /dev/null`, `/dev/stdout`, a named pipe) is
                // written directly, as standard output is. Renaming a temporary file over it
                // would replace it — as root, `/dev/null` itself — and there is no file content
                // to protect: decryption writes only authenticated chunks, as on standard output.
                let fd = Glibc.open(path, O_WRONLY | O_CLOEXEC)
                guard fd >= 0 else { throw CLIError.io("open", path, errno: errno) }
                return OutputTarget(name: path, fd: fd, finalPath: nil, temporaryPath: nil, force: force, ownsDescriptor: true)
            }
            if !force {
                throw CLIError("\(path) already exists; use --force to overwrite it", status: ExitStatus.refused)
            }
        }
        let (directory, base) = splitPath(path)
        var template = Array((directory + "/.\(base).coffer-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw CLIError.io("create a file in", directory, errno: errno) }
        let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        TemporaryFiles.shared.register(temporary)
        var finalMode = mode
        if applyUmask {
            let mask = umask(0)
            umask(mask)
            finalMode &= ~mask
        }
        guard fchmod(fd, finalMode) == 0 else {
            let code = errno
            Glibc.close(fd)
            unlink(temporary)
            throw CLIError.io("set permissions on", temporary, errno: code)
        }
        return OutputTarget(name: path, fd: fd, finalPath: path, temporaryPath: temporary, force: force)
    }

    /// Writes `bytes` as the whole of `path` (standard output for `nil` or `-`) atomically, with
    /// permissions `mode`; on any failure nothing is left behind.
    static func writeFile(_ path: String?, _ bytes: [UInt8], force: Bool, mode: mode_t) throws {
        let out = try open(path, force: force, mode: mode, applyUmask: false)
        do {
            try out.write(bytes)
            try out.commit()
        } catch {
            out.abandon()
            throw error
        }
    }

    /// The directory (`.` when none is given) and the last component of `path`. (Done by hand:
    /// Foundation's NSString path methods crash on some one-character names on Linux.)
    static func splitPath(_ path: String) -> (directory: String, base: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let count = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if count < 0 {
                if errno == EINTR { continue }
                throw CLIError.io("write", name, errno: errno)
            }
            offset += count
        }
        bytesWritten += bytes.count
    }

    /// Writes `pieces` in order, with one `writev` where the kernel takes them all at once.
    func write(gathering pieces: UnsafeBufferPointer<UnsafeRawBufferPointer>) throws {
        let fd = self.fd
        let (written, failure) = GatheredWrite.writeAll(pieces) { vectors, count in
            let written = Glibc.writev(fd, vectors, count)
            return written < 0 ? -Int(errno) : written
        }
        // Counted even on failure: part of a batch may be out, and the user is told so.
        bytesWritten += written
        if let failure { throw CLIError.io("write", name, errno: failure) }
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Makes the output visible: for a file, flush it to disk and move it into place.
    func commit() throws {
        if ownsDescriptor {
            ownsDescriptor = false
            guard Glibc.close(fd) == 0 else { throw CLIError.io("write", name, errno: errno) }
            return
        }
        guard let finalPath, let temporaryPath else { return }
        guard fsync(fd) == 0 else { throw CLIError.io("write", finalPath, errno: errno) }
        guard Glibc.close(fd) == 0 else { throw CLIError.io("write", finalPath, errno: errno) }
        if force {
            guard rename(temporaryPath, finalPath) == 0 else { throw CLIError.io("write", finalPath, errno: errno) }
        } else {
            // link(2) refuses to replace an existing name, closing the race with the early check.
            guard link(temporaryPath, finalPath) == 0 else {
                if errno == EEXIST {
                    throw CLIError("\(finalPath) already exists; use --force to overwrite it", status: ExitStatus.refused)
                }
                throw CLIError.io("write", finalPath, errno: errno)
            }
            unlink(temporaryPath)
        }
        TemporaryFiles.shared.unregister(temporaryPath)
        self.temporaryPath = nil
        // Persist the directory entry too, so an acknowledged file survives a power cut.
        let directoryFD = Glibc.open(Self.splitPath(finalPath).directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            Glibc.close(directoryFD)
        }
    }

    /// Removes a temporary file after a failure. Safe to call more than once.
    func abandon() {
        guard let temporaryPath else { return }
        Glibc.close(fd)
        unlink(temporaryPath)
        TemporaryFiles.shared.unregister(temporaryPath)
        self.temporaryPath = nil
    }

    deinit {
        abandon()
        if ownsDescriptor { Glibc.close(fd) }
    }
}
