/// The single error type thrown by CofferPKCS11.
///
/// Callers branch on ``code``; the PKCS#11 return value is kept for
/// diagnostics only, because modules disagree on which `CKR_*` value they
/// report for the same condition.
///
/// Security: an error never carries a PIN, key bytes, plaintext or any other
/// caller-supplied secret. Its text is built only from this library's fixed
/// strings, the PKCS#11 function name and return value, and — for
/// ``Code/moduleLoadFailed`` only — the dynamic loader's message, which names
/// the configured module path (configuration, not a secret).
public struct PKCS11Error: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable classification of a failure. New cases may be added.
    public enum Code: String, Sendable, Equatable {
        /// The module file could not be loaded (missing, not absolute, not a
        /// shared object) or has no `C_GetFunctionList`.
        case moduleLoadFailed
        /// The module's function list lacks a function this library needs.
        case functionMissing
        /// `C_Initialize` failed.
        case initializationFailed
        /// No present token carries the requested label.
        case tokenNotFound
        /// More than one present token carries the requested label.
        case ambiguousToken
        /// `C_Login` rejected the PIN or the user could not be logged in.
        case loginFailed
        /// The key handle does not (or no longer) refer to a usable key.
        case keyNotFound
        /// More than one key carries the label, or a key with that label
        /// already exists when generating.
        case duplicateKey
        /// A caller-supplied argument is malformed (for example an IV that is
        /// not 12 bytes, or a key found through a different session).
        case invalidArgument
        /// AES-GCM decryption failed: ciphertext, tag, IV, key or additional
        /// data do not match. No plaintext is released.
        case authenticationFailed
        /// The session has been closed.
        case sessionClosed
        /// Any other PKCS#11 failure.
        case operationFailed
    }

    /// What kind of failure this is.
    public let code: Code
    /// The PKCS#11 function that failed, e.g. `"C_Login"`, or `nil` if the
    /// failure was detected before calling into the module.
    public let function: String?
    /// The `CK_RV` value returned by ``function``, if any.
    public let returnValue: UInt?
    /// A fixed explanatory text chosen by this library (never caller data).
    public let detail: String?

    init(_ code: Code, function: String? = nil, returnValue: UInt? = nil, detail: String? = nil) {
        self.code = code
        self.function = function
        self.returnValue = returnValue
        self.detail = detail
    }

    /// Symbolic name of ``returnValue`` such as `"CKR_PIN_INCORRECT"`, or its
    /// hexadecimal value when the name is not in this library's table.
    public var returnValueName: String? {
        returnValue.map(ReturnValueName.describe)
    }

    public var description: String {
        var text = "PKCS#11 error \(code.rawValue)"
        if let function {
            text += ": \(function)"
            if let name = returnValueName { text += " returned \(name)" }
        }
        if let detail { text += " (\(detail))" }
        return text
    }
}
