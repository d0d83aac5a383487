import CofferCrypto
import CofferStore
import Logging
import ServiceLifecycle

/// Rotates keys whose automatic rotation period has passed, every `interval`.
///
/// Safe on every node at once: ``KeyStore/rotateIfDue(_:)`` re-checks the due time inside the
/// transaction that holds the key's row, so however many nodes' schedulers find a key due, it is
/// rotated exactly once (tested in the store's conformance suite on SQLite and PostgreSQL).
public struct RotationScheduler: Service {
    let store: KeyStore
    let interval: Duration
    let logger: Logger

    public init(store: KeyStore, interval: Duration = .seconds(60), logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelledOrShuttingDown {
            // Detached: a pass generates and seals new versions (RSA generation takes up to
            // seconds), which must not run on an event loop (see SlowWork).
            _ = await Task.detached { await self.runOnce() }.value
            // Wakes at once on SIGTERM: a sleeping scheduler must not hold up a graceful shutdown.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// One pass; returns the keys this node rotated.
    @discardableResult
    public func runOnce() async -> [KeyIdentifier] {
        guard !store.isSealed else {
            if store.sealedAfterRootKeyRotationElsewhere {
                logSealedAfterRotationElsewhere()
            }
            return []
        }
        var rotated: [KeyIdentifier] = []
        do {
            for name in try await store.keysDueForRotation() {
                if let record = try await store.rotateIfDue(name) {
                    rotated.append(name)
                    logger.info("rotated key on schedule", metadata: ["key": "\(name)", "version": "\(record.primaryVersion.rawValue)"])
                }
            }
        } catch {
            if store.sealedAfterRootKeyRotationElsewhere {
                logSealedAfterRotationElsewhere()
            } else {
                logger.warning("scheduled rotation pass failed", metadata: ["error.type": "\(type(of: error))"])
            }
        }
        return rotated
    }
}

extension RotationScheduler {
    /// Said on every pass while it lasts: API answers say only `store_sealed`.
    func logSealedAfterRotationElsewhere() {
        logger.error("this node sealed itself: another process rotated the store's root key; restart it with the new root key (or unseal it with the new passphrase)")
    }
}

extension Task where Success == Never, Failure == Never {
    static var isCancelledOrShuttingDown: Bool { Task.isCancelled || Task.isShuttingDownGracefully }
}
