import NIOCore
import NIOPosix

/// Runs the server's request handling on the NIO event loops that do its I/O, instead of Swift's
/// global cooperative pool.
///
/// Hummingbird reads each request from an event loop and hands it to an async handler; by default
/// that handler runs on the cooperative pool, so every request crosses threads at least twice
/// (event loop → pool to handle it, pool → event loop to write the answer), each crossing a
/// queue, a lock and often a futex wake. On a small machine those crossings cost more than the
/// cryptography. With this executor preferred for the whole server, a job resumed from an event
/// loop runs on that same loop, so a handler resumed by its connection's reads runs on the
/// connection's loop and its writes go straight to the channel. A job resumed from elsewhere (the
/// SQLite driver's thread, a cache load, a detached scrypt check) goes to the next loop, which
/// may not be the connection's: correct, one thread crossing more.
///
/// The price is that anything blocking blocks a loop. Nothing on the request path blocks for long:
/// store reads hit the cache or go through the database driver's own threads, and slow work —
/// scrypt, key generation, HSM sealing, the rotation scheduler's passes — runs in detached tasks
/// (``SlowWork``), which do not inherit a task executor preference and so stay on the cooperative
/// pool.
public final class EventLoopTaskExecutor: TaskExecutor {
    private let group: MultiThreadedEventLoopGroup

    public init(group: MultiThreadedEventLoopGroup = .singleton) {
        self.group = group
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        // The loop we are on when a loop resumes us (no cross-thread wake); otherwise the next one.
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? group.next()
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
