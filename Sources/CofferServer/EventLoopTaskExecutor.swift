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
/// loop runs on that same loop, and writes from the handler go straight to the channel.
///
/// The price is that anything blocking blocks a loop. Nothing on the request path blocks for long:
/// store reads hit the cache or go through the database driver's own threads, and the deliberately
/// slow work — scrypt for API keys and unseal passphrases — runs in unstructured tasks, which do
/// not inherit a task executor preference and so stay on the cooperative pool.
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
