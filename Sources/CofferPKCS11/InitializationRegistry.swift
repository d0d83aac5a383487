internal import CPKCS11
import Synchronization

/// Process-wide bookkeeping of which modules this library has initialized.
///
/// `C_Initialize`/`C_Finalize` act on the whole process, not on one
/// ``PKCS11Module`` value: if two values for the same module each called
/// `C_Finalize`, dropping one would tear down sessions (and log out the
/// user) underneath the other. So initialization is reference-counted per
/// module (identified by its function list address, which `dlopen` makes
/// unique per loaded module), and `C_Finalize` runs only when the last user
/// goes away — and only if this library was the one that initialized it.
enum InitializationRegistry {
    private struct Entry {
        var users: Int
        /// `false` when another component of the process had already
        /// initialized the module; finalizing it would break that component.
        var ownsInitialization: Bool
    }

    private static let entries = Mutex<[UInt: Entry]>([:])

    /// Initializes the module on first use; later calls only count users.
    static func acquire(_ key: UInt, _ functions: FunctionTable) throws(PKCS11Error) {
        try entries.withLock { (entries) throws(PKCS11Error) in
            if entries[key] != nil {
                entries[key]!.users += 1
                return
            }
            // CKF_OS_LOCKING_OK: the module may use native OS locks, which
            // makes module-level calls safe from any thread. Sessions are
            // still single-threaded; PKCS11Session serializes those itself.
            var arguments = CK_C_INITIALIZE_ARGS(
                CreateMutex: nil, DestroyMutex: nil, LockMutex: nil, UnlockMutex: nil,
                flags: CK_FLAGS(CKF_OS_LOCKING_OK), pReserved: nil)
            let rv = withUnsafeMutablePointer(to: &arguments) { functions.initialize($0) }
            switch rv {
            case CK_RV(CKR_OK):
                entries[key] = Entry(users: 1, ownsInitialization: true)
            case CK_RV(CKR_CRYPTOKI_ALREADY_INITIALIZED):
                entries[key] = Entry(users: 1, ownsInitialization: false)
            default:
                throw PKCS11Error(.initializationFailed, function: "C_Initialize", returnValue: rv)
            }
        }
    }

    /// Drops one user; finalizes the module when the last one leaves.
    static func release(_ key: UInt, _ functions: FunctionTable) {
        entries.withLock { entries in
            guard var entry = entries[key] else { return }
            entry.users -= 1
            if entry.users > 0 {
                entries[key] = entry
                return
            }
            entries[key] = nil
            if entry.ownsInitialization {
                _ = functions.finalize(nil)
            }
        }
    }
}
