internal import CPKCS11

/// A PKCS#11 module (for example SoftHSM2 or a vendor HSM client library)
/// loaded at run time and initialized for use from any thread.
///
/// The module is loaded with `dlopen` from a configured absolute path rather
/// than linked at build time, so the same Coffer binary can talk to whichever
/// HSM an operator deploys. The module is finalized when the last
/// ``PKCS11Module`` value for it (and every ``PKCS11Session`` opened through
/// it, which keeps it alive) has been released.
public final class PKCS11Module: @unchecked Sendable {
    // @unchecked: all stored state is immutable after init. The function
    // pointers are plain C entry points; the module is initialized with
    // CKF_OS_LOCKING_OK, under which PKCS#11 requires module-level calls to
    // be thread-safe. Per-session calls are serialized by PKCS11Session.
    let functions: FunctionTable
    private let library: DynamicLibrary
    private let registryKey: UInt

    /// Loads the module at `path` and calls `C_Initialize`.
    ///
    /// - Parameter path: Absolute path of the module's shared object, e.g.
    ///   `/usr/lib/softhsm/libsofthsm2.so`. Relative paths are refused; see
    ///   the security note on library search paths in `DynamicLibrary`.
    /// - Throws: ``PKCS11Error`` with code ``PKCS11Error/Code/moduleLoadFailed``,
    ///   ``PKCS11Error/Code/functionMissing`` or
    ///   ``PKCS11Error/Code/initializationFailed``.
    ///   `CKR_CRYPTOKI_ALREADY_INITIALIZED` is not an error: another part of
    ///   the process initialized the module first, and it stays theirs to
    ///   finalize.
    public init(path: String) throws(PKCS11Error) {
        let library = try DynamicLibrary(path: path)
        do {
            let list = try Self.functionList(of: library)
            let functions = try FunctionTable(list.pointee)
            let registryKey = UInt(bitPattern: list)
            try InitializationRegistry.acquire(registryKey, functions)
            self.library = library
            self.functions = functions
            self.registryKey = registryKey
        } catch {
            library.close()
            throw error
        }
    }

    deinit {
        InitializationRegistry.release(registryKey, functions)
        library.close()
    }

    private static func functionList(
        of library: DynamicLibrary
    ) throws(PKCS11Error) -> UnsafeMutablePointer<CK_FUNCTION_LIST> {
        guard let symbol = library.symbol(named: "C_GetFunctionList") else {
            throw PKCS11Error(.moduleLoadFailed, function: "dlsym",
                              detail: "module does not export C_GetFunctionList")
        }
        let getFunctionList = unsafeBitCast(symbol, to: CK_C_GetFunctionList.self)
        var list: UnsafeMutablePointer<CK_FUNCTION_LIST>?
        let rv = getFunctionList(&list)
        guard rv == CK_RV(CKR_OK), let list else {
            throw PKCS11Error(.moduleLoadFailed, function: "C_GetFunctionList", returnValue: rv)
        }
        return list
    }
}
