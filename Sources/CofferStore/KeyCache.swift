#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CofferCrypto

/// The per-node cache of key records and unsealed key versions: bounded, and every entry
/// expires after the TTL.
///
/// Why both bounds: the capacity caps the unsealed material a node holds in memory, and the TTL
/// caps how long a node can go on using a version another node disabled or destroyed if the
/// change notification (PostgreSQL `LISTEN`) was missed. Local changes and notifications evict
/// at once; the TTL is the worst case (docs/CONFIGURATION.md, `store.cache`).
final class KeyCache: @unchecked Sendable {
    struct Entry<Value> {
        var value: Value
        var expires: Date
        var lastUse: UInt64
    }

    struct CachedVersion: Sendable {
        let material: KeyMaterial
        let state: KeyVersionState
    }

    private let lock = Lock()
    private let capacity: Int
    private let ttl: Duration
    private var records: [String: Entry<KeyRecord>] = [:]
    private var versions: [String: [UInt32: Entry<CachedVersion>]] = [:]
    private var versionCount = 0
    private var tick: UInt64 = 0
    private(set) var hits: UInt64 = 0
    private(set) var misses: UInt64 = 0
    /// Changed by every eviction of a name (and `epoch` by evicting everything): a load that
    /// began before one must not cache what it read, and a request that misses after one must
    /// not join it (it may predate the change). Per name, so a change to one key (a peer's
    /// notification) does not stop the loads of every other key from being shared and cached.
    struct Stamp: Equatable {
        let epoch: UInt64
        let generation: UInt64
    }
    private var epoch: UInt64 = 0
    private var generations: [String: UInt64] = [:]

    /// Under `lock`.
    private func stamp(_ name: String) -> Stamp { Stamp(epoch: epoch, generation: generations[name] ?? 0) }
    /// Loads under way, one per entry (a record: `version` nil): when an entry expires under
    /// load, the requests that miss it together wait for one read of the store instead of each
    /// making their own.
    private struct LoadKey: Hashable {
        let name: String
        let version: UInt32?
    }
    private struct Loads<Value: Sendable> {
        var running: [LoadKey: (stamp: Stamp, task: Task<Value, any Error>)] = [:]
    }
    private var recordLoads = Loads<KeyRecord>()
    private var versionLoads = Loads<CachedVersion>()

    init(capacity: Int, ttl: Duration) {
        self.capacity = max(0, capacity)
        self.ttl = ttl
    }

    var statistics: (hits: UInt64, misses: UInt64) { lock.withLock { (hits, misses) } }

    /// Under `lock`; counts the hit or the miss.
    private func liveRecord(_ name: String, now: Date, usable: (KeyRecord) -> Bool) -> KeyRecord? {
        guard let entry = records[name], entry.expires > now, usable(entry.value) else {
            misses += 1
            return nil
        }
        hits += 1
        tick += 1
        records[name]!.lastUse = tick
        return entry.value
    }

    func store(_ record: KeyRecord, now: Date) {
        lock.withLock { insert(record, now: now) }
    }

    /// Where `name` stands now: pass it to ``store(_:now:ifUnchangedSince:)`` after a read.
    func stamp(of name: String) -> Stamp { lock.withLock { stamp(name) } }

    /// Caches `record` unless its name was evicted since `started` (the read may predate that).
    func store(_ record: KeyRecord, now: Date, ifUnchangedSince started: Stamp) {
        lock.withLock { if started == stamp(record.name.rawValue) { insert(record, now: now) } }
    }

    /// Under `lock`.
    private func insert(_ record: KeyRecord, now: Date) {
        guard capacity > 0 else { return }
        tick += 1
        records[record.name.rawValue] = Entry(value: record, expires: now.addingTimeInterval(ttlSeconds), lastUse: tick)
        if records.count > capacity { evictRecords(now: now) }
    }

    func version(_ name: String, _ version: UInt32, now: Date) -> CachedVersion? {
        lock.withLock { liveVersion(name, version, now: now) }
    }

    /// Under `lock`; counts the hit or the miss.
    private func liveVersion(_ name: String, _ version: UInt32, now: Date) -> CachedVersion? {
        guard let entry = versions[name]?[version], entry.expires > now else {
            misses += 1
            return nil
        }
        hits += 1
        tick += 1
        versions[name]![version]!.lastUse = tick
        return entry.value
    }

    func store(_ name: String, _ version: UInt32, _ value: CachedVersion, now: Date) {
        lock.withLock { insert(name, version, value, now: now) }
    }

    /// Under `lock`.
    private func insert(_ name: String, _ version: UInt32, _ value: CachedVersion, now: Date) {
        guard capacity > 0 else { return }
        tick += 1
        if versions[name]?[version] == nil { versionCount += 1 }
        versions[name, default: [:]][version] = Entry(value: value, expires: now.addingTimeInterval(ttlSeconds), lastUse: tick)
        if versionCount > capacity { evictVersions(now: now) }
    }

    /// The cached record if it is live and `usable`; otherwise the result of `load`, shared with
    /// every request that misses while it runs, and cached unless an eviction came meanwhile.
    func record(
        _ name: String, now: Date, usable: @escaping (KeyRecord) -> Bool, load: @escaping @Sendable () async throws -> KeyRecord
    ) async throws -> KeyRecord {
        try await shared(
            LoadKey(name: name, version: nil), \.recordLoads, cached: { $0.liveRecord(name, now: now, usable: usable) },
            insert: { $0.insert($1, now: now) }, load: load)
    }

    /// The cached version if live; otherwise the result of `load`, shared and cached as above.
    func version(
        _ name: String, _ version: UInt32, now: Date, load: @escaping @Sendable () async throws -> CachedVersion
    ) async throws -> CachedVersion {
        try await shared(
            LoadKey(name: name, version: version), \.versionLoads, cached: { $0.liveVersion(name, version, now: now) },
            insert: { $0.insert(name, version, $1, now: now) }, load: load)
    }

    /// A hit (`cached`, under the lock), else the load under way for `key` if it began after the
    /// name's last eviction, else a new load that this caller owns: it removes the load when done
    /// and caches the value only if no eviction came meanwhile.
    private func shared<Value: Sendable>(
        _ key: LoadKey, _ loads: ReferenceWritableKeyPath<KeyCache, Loads<Value>>, cached: (KeyCache) -> Value?,
        insert: (KeyCache, Value) -> Void, load: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let (hit, task, owned): (Value?, Task<Value, any Error>?, Stamp?) = lock.withLock {
            if let value = cached(self) { return (value, nil, nil) }
            let current = stamp(key.name)
            if let running = self[keyPath: loads].running[key], running.stamp == current { return (nil, running.task, nil) }
            let task = Task { try await load() }
            self[keyPath: loads].running[key] = (current, task)
            return (nil, task, current)
        }
        if let hit { return hit }
        guard let task else { preconditionFailure("a lookup is a hit or a load") }
        guard let started = owned else { return try await task.value }
        let result = await task.result
        lock.withLock {
            if self[keyPath: loads].running[key]?.task == task { self[keyPath: loads].running[key] = nil }
            if case .success(let value) = result, started == stamp(key.name) { insert(self, value) }
        }
        return try result.get()
    }

    /// Drops everything cached about `name` (after a local change or a peer's notification).
    func evict(_ name: String) {
        lock.withLock {
            generations[name, default: 0] += 1
            records.removeValue(forKey: name)
            versionCount -= versions.removeValue(forKey: name)?.count ?? 0
        }
    }

    func evictAll() {
        lock.withLock {
            epoch += 1
            generations.removeAll()
            records.removeAll()
            versions.removeAll()
            versionCount = 0
        }
    }

    private var ttlSeconds: TimeInterval {
        TimeInterval(ttl.components.seconds) + TimeInterval(ttl.components.attoseconds) / 1e18
    }

    /// Expired entries first, then the least recently used quarter: amortised O(log n) per insert.
    private func evictRecords(now: Date) {
        records = records.filter { $0.value.expires > now }
        guard records.count > capacity else { return }
        let victims = records.sorted { $0.value.lastUse < $1.value.lastUse }.prefix(max(1, capacity / 4))
        for (name, _) in victims { records.removeValue(forKey: name) }
    }

    private func evictVersions(now: Date) {
        var all: [(String, UInt32, UInt64)] = []
        for (name, byVersion) in versions {
            for (version, entry) in byVersion {
                if entry.expires <= now { versions[name]![version] = nil } else { all.append((name, version, entry.lastUse)) }
            }
        }
        versions = versions.filter { !$0.value.isEmpty }
        versionCount = all.count
        guard versionCount > capacity else { return }
        for (name, version, _) in all.sorted(by: { $0.2 < $1.2 }).prefix(max(1, capacity / 4)) {
            versions[name]![version] = nil
            versionCount -= 1
        }
        versions = versions.filter { !$0.value.isEmpty }
    }
}
