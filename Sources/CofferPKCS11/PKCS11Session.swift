internal import CPKCS11
import Synchronization

/// A logged-in, read-write session on one token, identified by its label.
///
/// A PKCS#11 session handle must not be used by two threads at once, and
/// multi-part operations (`C_EncryptInit` then `C_Encrypt`) must not
/// interleave. Every call therefore runs under one lock per session, which is
/// what makes sharing a session between concurrent tasks safe. For more
/// parallelism, open more sessions.
///
/// The session is closed by ``close()`` or when the value is released.
/// Closing a token's last session logs the user out of it.
public final class PKCS11Session: Sendable {
    /// The module this session belongs to; holding it keeps it initialized.
    public let module: PKCS11Module
    /// Distinguishes this session from all others in the process, so that
    /// a key handle cannot be used with a session that did not produce it.
    let serial: UInt64
    private let handle: Mutex<CK_SESSION_HANDLE?>

    private static let serials = Atomic<UInt64>(0)

    /// Opens a read-write session on the token labelled `tokenLabel` and logs
    /// in as the normal user.
    ///
    /// Prefer this overload: the PIN is read in place and never copied, and
    /// the caller can wipe its array afterwards.
    ///
    /// - Note: PKCS#11 login state is shared by every session of the process
    ///   on the same token. If a user is already logged in there
    ///   (`CKR_USER_ALREADY_LOGGED_IN`), the token does not check `pin`
    ///   again; the session simply shares the existing login.
    /// - Throws: ``PKCS11Error`` with code ``PKCS11Error/Code/tokenNotFound``,
    ///   ``PKCS11Error/Code/ambiguousToken``, ``PKCS11Error/Code/loginFailed``
    ///   or ``PKCS11Error/Code/operationFailed``.
    public init(module: PKCS11Module, tokenLabel: String, pin: [UInt8]) throws(PKCS11Error) {
        let session = try TokenObjectGate.shared.sharing { () throws(PKCS11Error) in
            try Self.openAndLogIn(module: module, tokenLabel: tokenLabel, pin: pin)
        }
        self.module = module
        self.serial = Self.serials.add(1, ordering: .relaxed).newValue
        self.handle = Mutex(session)
    }

    private static func openAndLogIn(module: PKCS11Module, tokenLabel: String, pin: [UInt8]) throws(PKCS11Error) -> CK_SESSION_HANDLE {
        let functions = module.functions
        let slot = try TokenLookup.slot(labeled: tokenLabel, functions: functions)

        var session = CK_SESSION_HANDLE(CK_INVALID_HANDLE)
        let openResult = functions.openSession(
            slot, CK_FLAGS(CKF_SERIAL_SESSION | CKF_RW_SESSION), nil, nil, &session)
        try check(openResult, "C_OpenSession")

        let loginResult = pin.withUnsafeBufferPointer { pinBytes in
            // C_Login only reads the PIN; the C prototype just lacks `const`.
            functions.login(session, CK_USER_TYPE(CKU_USER),
                            UnsafeMutablePointer(mutating: pinBytes.baseAddress),
                            CK_ULONG(pinBytes.count))
        }
        switch loginResult {
        case CK_RV(CKR_OK), CK_RV(CKR_USER_ALREADY_LOGGED_IN):
            break
        default:
            _ = functions.closeSession(session)
            throw PKCS11Error(.loginFailed, function: "C_Login", returnValue: loginResult)
        }
        return session
    }

    /// Opens a session with a PIN given as a string (sent as its UTF-8 bytes).
    ///
    /// The temporary byte copy is wiped after login; the `String` itself
    /// cannot be wiped, so prefer the `[UInt8]` overload where possible.
    public convenience init(module: PKCS11Module, tokenLabel: String, pin: String) throws(PKCS11Error) {
        var pinBytes = Array(pin.utf8)
        defer { zeroize(&pinBytes) }
        try self.init(module: module, tokenLabel: tokenLabel, pin: pinBytes)
    }

    deinit {
        close()
    }

    /// Closes the session. Later calls on it throw
    /// ``PKCS11Error/Code/sessionClosed``. Closing twice is harmless.
    public func close() {
        let functions = module.functions
        TokenObjectGate.shared.sharing {
            handle.withLock { session in
                guard let open = session else { return }
                _ = functions.closeSession(open)
                session = nil
            }
        }
    }

    /// Runs `body` with exclusive use of the session handle (and beside any other session's
    /// calls, but never beside an object creation: ``TokenObjectGate``).
    func withSession<R: Sendable>(
        _ body: (CK_SESSION_HANDLE) throws(PKCS11Error) -> R
    ) throws(PKCS11Error) -> R {
        try TokenObjectGate.shared.sharing { () throws(PKCS11Error) -> R in
            try withSessionHandle(body)
        }
    }

    /// ``withSession(_:)`` for a call that creates token objects: nothing else runs meanwhile.
    func withSessionCreatingObjects<R: Sendable>(
        _ body: (CK_SESSION_HANDLE) throws(PKCS11Error) -> R
    ) throws(PKCS11Error) -> R {
        try TokenObjectGate.shared.exclusively { () throws(PKCS11Error) -> R in
            try withSessionHandle(body)
        }
    }

    private func withSessionHandle<R: Sendable>(
        _ body: (CK_SESSION_HANDLE) throws(PKCS11Error) -> R
    ) throws(PKCS11Error) -> R {
        try handle.withLock { (session) throws(PKCS11Error) -> R in
            guard let open = session else { throw PKCS11Error(.sessionClosed) }
            return try body(open)
        }
    }

    /// Rejects keys found through another session: handles are only
    /// meaningful to the session (or application) that obtained them, and a
    /// stale handle could silently name a different key.
    func requireOwnKey(_ key: PKCS11Key) throws(PKCS11Error) {
        guard key.sessionSerial == serial else {
            throw PKCS11Error(.invalidArgument, detail: "key was obtained through a different session")
        }
    }
}

/// Throws ``PKCS11Error`` unless `rv` is `CKR_OK`.
func check(
    _ rv: CK_RV, _ function: String, _ code: PKCS11Error.Code = .operationFailed
) throws(PKCS11Error) {
    guard rv == CK_RV(CKR_OK) else {
        throw PKCS11Error(code, function: function, returnValue: UInt(rv))
    }
}
