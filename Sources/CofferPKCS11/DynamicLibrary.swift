internal import Glibc

/// A shared object opened with `dlopen`.
///
/// Security choices:
/// - Only absolute paths are accepted. A bare file name would make the
///   dynamic loader search `LD_LIBRARY_PATH` and the system directories, so
///   whoever controls the environment could substitute the "HSM" that holds
///   Coffer's root key.
/// - `RTLD_NOW` resolves every symbol up front, so a broken module fails at
///   load time rather than in the middle of a key operation.
/// - `RTLD_LOCAL` keeps the module's symbols (and those of the crypto
///   library it links) out of the global namespace.
/// - `RTLD_NODELETE` keeps the code mapped after `dlclose`: PKCS#11 modules
///   commonly register `atexit` handlers and thread-local destructors (via
///   OpenSSL, for SoftHSM2) that would otherwise jump into unmapped memory at
///   process exit.
struct DynamicLibrary: @unchecked Sendable {
    // @unchecked: the handle is an opaque token owned by the dynamic loader,
    // whose functions are thread-safe; it is never mutated here.
    private let handle: UnsafeMutableRawPointer

    init(path: String) throws(PKCS11Error) {
        guard path.hasPrefix("/") else {
            throw PKCS11Error(.moduleLoadFailed, detail: "module path must be absolute")
        }
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            throw PKCS11Error(.moduleLoadFailed, function: "dlopen", detail: Self.lastError())
        }
        self.handle = handle
    }

    /// Address of `name` in this library, or `nil` if it does not export it.
    func symbol(named name: String) -> UnsafeMutableRawPointer? {
        dlsym(handle, name)
    }

    /// Drops this reference; see the type's note on `RTLD_NODELETE`.
    func close() {
        dlclose(handle)
    }

    private static func lastError() -> String {
        guard let message = dlerror() else { return "unknown dynamic loader error" }
        return String(cString: message)
    }
}
