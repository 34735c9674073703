import Synchronization

/// A value derived from the database (the regions' parsed outlines), rebuilt
/// when its version changes. One build at a time: after a change, concurrent requests wait for
/// one build instead of each doing it.
final class VersionedCache<Value: Sendable>: Sendable {
    private let state = Mutex<(version: Int64, value: Value)?>(nil)

    init() {}

    /// The cached value if it has this version; otherwise `build`'s, built while others wait.
    func value(version: Int64, build: () throws -> Value) throws -> Value {
        try state.withLock { cached in
            if let cached, cached.version == version { return cached.value }
            let value = try build()
            cached = (version, value)
            return value
        }
    }
}
