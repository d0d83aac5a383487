import CofferCrypto
import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// Temporary output files to delete if the process is interrupted (SIGINT, SIGTERM, SIGHUP),
/// so Ctrl-C never leaves a partial plaintext file behind.
final class TemporaryFiles: @unchecked Sendable {
    static let shared = TemporaryFiles()

    // Guarded by `lock`; read from a signal-handling dispatch queue.
    private var paths: Set<String> = []
    private let lock = Lock()
    private var sources: [DispatchSourceSignal] = []

    func register(_ path: String) {
        lock.withLock { _ = paths.insert(path) }
    }

    func unregister(_ path: String) {
        lock.withLock { _ = paths.remove(path) }
    }

    /// Installs the handlers; call once at start-up.
    func installSignalHandlers() {
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [self] in
                let pending = lock.withLock { paths }
                for path in pending { unlink(path) }
                Terminal.printError("interrupted\(pending.isEmpty ? "" : "; partial output removed")")
                _exit(ExitStatus.interrupted)
            }
            source.resume()
            sources.append(source)
        }
    }
}
