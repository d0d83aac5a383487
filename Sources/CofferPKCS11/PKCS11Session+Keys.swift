internal import CPKCS11

extension PKCS11Session {
    /// Returns the AES secret key labelled `label`, or `nil` if there is none.
    ///
    /// - Throws: ``PKCS11Error/Code/duplicateKey`` if several keys carry the
    ///   label: choosing one arbitrarily could encrypt under the wrong key.
    public func findAESKey(label: String) throws(PKCS11Error) -> PKCS11Key? {
        try Self.validate(label: label)
        return try withSession { (session) throws(PKCS11Error) in
            try findAESKey(label: label, in: session)
        }
    }

    /// Generates a 256-bit AES key on the token, labelled `label`.
    ///
    /// The key is created as a persistent (`CKA_TOKEN`), private, sensitive,
    /// non-extractable key usable only for encryption and decryption:
    /// non-extractability is the point — the key value never leaves the
    /// HSM, so stealing Coffer's host or backups does not reveal it.
    ///
    /// - Throws: ``PKCS11Error/Code/duplicateKey`` if an AES key with this
    ///   label already exists, so a second key can never shadow the first.
    public func generateAESKey(label: String) throws(PKCS11Error) -> PKCS11Key {
        try Self.validate(label: label)
        // Alone in the process (``TokenObjectGate``), so the duplicate-label check and the
        // creation are also one step here.
        return try withSessionCreatingObjects { (session) throws(PKCS11Error) in
            if try findAESKey(label: label, in: session) != nil {
                throw PKCS11Error(.duplicateKey, detail: "a key with this label already exists")
            }
            var template = AttributeTemplate()
            template.append(CKA_CLASS, .ulong(CKO_SECRET_KEY))
            template.append(CKA_KEY_TYPE, .ulong(CKK_AES))
            template.append(CKA_TOKEN, .bool(true))
            template.append(CKA_PRIVATE, .bool(true))
            template.append(CKA_SENSITIVE, .bool(true))
            template.append(CKA_EXTRACTABLE, .bool(false))
            template.append(CKA_ENCRYPT, .bool(true))
            template.append(CKA_DECRYPT, .bool(true))
            // Encrypt and decrypt only: a root key that could wrap, unwrap, derive or sign
            // would let a stolen PIN do more with it than Coffer ever does.
            template.append(CKA_WRAP, .bool(false))
            template.append(CKA_UNWRAP, .bool(false))
            template.append(CKA_DERIVE, .bool(false))
            template.append(CKA_SIGN, .bool(false))
            template.append(CKA_VERIFY, .bool(false))
            template.append(CKA_VALUE_LEN, .ulong(32))
            template.append(CKA_LABEL, .bytes(Array(label.utf8)))

            var mechanism = CK_MECHANISM(mechanism: CK_MECHANISM_TYPE(CKM_AES_KEY_GEN), pParameter: nil, ulParameterLen: 0)
            var key = CK_OBJECT_HANDLE(CK_INVALID_HANDLE)
            let rv = template.withAttributes { attributes in
                module.functions.generateKey(
                    session, &mechanism, attributes.baseAddress, CK_ULONG(attributes.count), &key)
            }
            try check(rv, "C_GenerateKey")
            return PKCS11Key(label: label, handle: UInt(key), sessionSerial: serial)
        }
    }

    /// Reads the key's security attributes from the token.
    public func keyProperties(_ key: PKCS11Key) throws(PKCS11Error) -> PKCS11KeyProperties {
        try requireOwnKey(key)
        return try withSession { (session) throws(PKCS11Error) in
            let functions = module.functions
            var template = AttributeTemplate()
            template.append(CKA_SENSITIVE, .bool(false))
            template.append(CKA_EXTRACTABLE, .bool(false))
            template.append(CKA_VALUE_LEN, .ulong(0))
            let (rv, sensitive, extractable, length) = template.withAttributes { attributes in
                let rv = functions.getAttributeValue(
                    session, CK_OBJECT_HANDLE(key.handle), attributes.baseAddress, CK_ULONG(attributes.count))
                guard rv == CK_RV(CKR_OK) else { return (rv, false, true, UInt(0)) }
                return (rv, attributes[0].boolValue, attributes[1].boolValue, attributes[2].ulongValue)
            }
            try checkKeyCall(rv, "C_GetAttributeValue")

            // Length-only probe of CKA_VALUE (pValue = NULL): a protected key
            // answers CKR_ATTRIBUTE_SENSITIVE; no key bytes are ever copied.
            var probe = CK_ATTRIBUTE(type: CK_ATTRIBUTE_TYPE(CKA_VALUE), pValue: nil, ulValueLen: 0)
            let probeResult = functions.getAttributeValue(session, CK_OBJECT_HANDLE(key.handle), &probe, 1)
            let readable: Bool
            switch probeResult {
            case CK_RV(CKR_OK): readable = true
            case CK_RV(CKR_ATTRIBUTE_SENSITIVE): readable = false
            default: try checkKeyCall(probeResult, "C_GetAttributeValue"); readable = true
            }

            return PKCS11KeyProperties(
                isSensitive: sensitive, isExtractable: extractable,
                valueLength: Int(length), valueIsReadable: readable)
        }
    }

    // MARK: - Locked helpers (caller holds the session lock)

    private func findAESKey(label: String, in session: CK_SESSION_HANDLE) throws(PKCS11Error) -> PKCS11Key? {
        let functions = module.functions
        var template = AttributeTemplate()
        template.append(CKA_CLASS, .ulong(CKO_SECRET_KEY))
        template.append(CKA_KEY_TYPE, .ulong(CKK_AES))
        template.append(CKA_LABEL, .bytes(Array(label.utf8)))
        let initResult = template.withAttributes { attributes in
            functions.findObjectsInit(session, attributes.baseAddress, CK_ULONG(attributes.count))
        }
        try check(initResult, "C_FindObjectsInit")

        // Ask for two: one more than we want, to detect ambiguity.
        var found = [CK_OBJECT_HANDLE](repeating: 0, count: 2)
        var count: CK_ULONG = 0
        let findResult = found.withUnsafeMutableBufferPointer {
            functions.findObjects(session, $0.baseAddress, CK_ULONG($0.count), &count)
        }
        // Always end the search, or the session stays in "find" state.
        let finalResult = functions.findObjectsFinal(session)
        try check(findResult, "C_FindObjects")
        try check(finalResult, "C_FindObjectsFinal")

        switch count {
        case 0: return nil
        case 1: return PKCS11Key(label: label, handle: UInt(found[0]), sessionSerial: serial)
        default: throw PKCS11Error(.duplicateKey, detail: "several keys have the requested label")
        }
    }

    private static func validate(label: String) throws(PKCS11Error) {
        guard !label.isEmpty else {
            throw PKCS11Error(.invalidArgument, detail: "key label must not be empty")
        }
    }
}

/// Like `check`, but reports an invalid object handle as
/// ``PKCS11Error/Code/keyNotFound`` (e.g. the key was deleted).
func checkKeyCall(_ rv: CK_RV, _ function: String) throws(PKCS11Error) {
    switch rv {
    case CK_RV(CKR_OK):
        return
    case CK_RV(CKR_OBJECT_HANDLE_INVALID), CK_RV(CKR_KEY_HANDLE_INVALID):
        throw PKCS11Error(.keyNotFound, function: function, returnValue: UInt(rv))
    default:
        throw PKCS11Error(.operationFailed, function: function, returnValue: UInt(rv))
    }
}
