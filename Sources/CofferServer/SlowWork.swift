/// Runs slow work in a detached task: scrypt over an API key or an unseal passphrase (tens to
/// hundreds of milliseconds of CPU on purpose), generating key material (RSA-4096: up to
/// seconds) and sealing it (an HSM round trip with a PKCS#11 root key).
///
/// The server's handlers run on the NIO event loops (``EventLoopTaskExecutor``); a detached task
/// does not inherit that preference and runs on Swift's global pool instead, so one slow check
/// does not stall every other connection that shares the caller's loop.
enum SlowWork {
    static func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await Task.detached(operation: body).value
    }
}
