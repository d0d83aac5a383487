internal import CPKCS11
internal import Glibc

extension PKCS11Session {
    /// Encrypts `plaintext` with AES-256-GCM inside the token.
    ///
    /// - Parameters:
    ///   - iv: 12 bytes that must never repeat for the same key. GCM loses
    ///     both confidentiality and integrity if an IV is reused, and the
    ///     token cannot check this — the caller owns IV uniqueness (random
    ///     from a CSPRNG, or a persistent counter).
    ///   - additionalData: Authenticated but not encrypted; the same bytes
    ///     must be given to ``decryptAESGCM(key:iv:additionalData:ciphertextAndTag:)``.
    /// - Returns: Ciphertext followed by the 16-byte authentication tag.
    public func encryptAESGCM(
        key: PKCS11Key, iv: [UInt8], additionalData: [UInt8], plaintext: [UInt8]
    ) throws(PKCS11Error) -> [UInt8] {
        try requireOwnKey(key)
        try AESGCMMechanism.validate(iv: iv)
        return try withSession { (session) throws(PKCS11Error) in
            try run(session, key: key, iv: iv, additionalData: additionalData, input: plaintext,
                    outputCapacity: plaintext.count + AESGCMMechanism.tagLength, decrypting: false)
        }
    }

    /// Decrypts and authenticates AES-256-GCM output inside the token.
    ///
    /// Plaintext is returned only after the token has verified the tag.
    ///
    /// - Throws: ``PKCS11Error/Code/authenticationFailed`` if the ciphertext,
    ///   tag, IV, additional data or key do not match what was encrypted.
    public func decryptAESGCM(
        key: PKCS11Key, iv: [UInt8], additionalData: [UInt8], ciphertextAndTag: [UInt8]
    ) throws(PKCS11Error) -> [UInt8] {
        try requireOwnKey(key)
        try AESGCMMechanism.validate(iv: iv)
        guard ciphertextAndTag.count >= AESGCMMechanism.tagLength else {
            throw PKCS11Error(.authenticationFailed, detail: "input is shorter than the GCM tag")
        }
        return try withSession { (session) throws(PKCS11Error) in
            try run(session, key: key, iv: iv, additionalData: additionalData, input: ciphertextAndTag,
                    outputCapacity: ciphertextAndTag.count - AESGCMMechanism.tagLength, decrypting: true)
        }
    }

    /// One single-part GCM operation: `C_*Init` then `C_Encrypt`/`C_Decrypt`,
    /// both under the session lock held by the caller.
    private func run(
        _ session: CK_SESSION_HANDLE, key: PKCS11Key, iv: [UInt8], additionalData: [UInt8],
        input: [UInt8], outputCapacity: Int, decrypting: Bool
    ) throws(PKCS11Error) -> [UInt8] {
        let functions = module.functions
        let initialize = decrypting ? functions.decryptInit : functions.encryptInit
        let operate = decrypting ? functions.decrypt : functions.encrypt

        // Never hand the module a NULL output buffer: PKCS#11 treats that as
        // a length query and returns CKR_OK without encrypting or — worse —
        // without authenticating anything.
        var output = [UInt8](repeating: 0, count: max(outputCapacity, 1))
        var outputLength: CK_ULONG = 0

        let (initResult, operationResult) = AESGCMMechanism.with(
            iv: iv, additionalData: additionalData
        ) { mechanism -> (CK_RV, CK_RV) in
            let initResult = initialize(session, &mechanism, CK_OBJECT_HANDLE(key.handle))
            guard initResult == CK_RV(CKR_OK) else { return (initResult, CK_RV(CKR_OK)) }

            var attempts = 0
            while true {
                attempts += 1
                let rv = withInputPointer(input) { inputPointer, inputLength in
                    output.withUnsafeMutableBufferPointer { outputBuffer in
                        outputLength = CK_ULONG(outputBuffer.count)
                        return operate(session, inputPointer, inputLength, outputBuffer.baseAddress, &outputLength)
                    }
                }
                // The operation stays active after CKR_BUFFER_TOO_SMALL;
                // allow one retry at the size the module asked for.
                guard rv == CK_RV(CKR_BUFFER_TOO_SMALL), attempts == 1,
                      Int(outputLength) > output.count else { return (CK_RV(CKR_OK), rv) }
                output = [UInt8](repeating: 0, count: Int(outputLength))
            }
        }

        try checkKeyCall(initResult, decrypting ? "C_DecryptInit" : "C_EncryptInit")
        guard operationResult == CK_RV(CKR_OK), Int(outputLength) <= output.count else {
            zeroize(&output)
            let function = decrypting ? "C_Decrypt" : "C_Encrypt"
            if decrypting && Self.authenticationFailures.contains(operationResult) {
                throw PKCS11Error(.authenticationFailed, function: function, returnValue: UInt(operationResult))
            }
            throw PKCS11Error(.operationFailed, function: function, returnValue: UInt(operationResult))
        }
        truncate(&output, to: Int(outputLength))
        return output
    }

    /// `C_Decrypt` results (after a successful `C_DecryptInit`) that mean
    /// "the tag did not verify". PKCS#11 3.0 modules return
    /// `CKR_AEAD_DECRYPT_FAILED`; 2.40 modules `CKR_ENCRYPTED_DATA_INVALID`
    /// (or `..._LEN_RANGE` for truncated input). SoftHSM2 2.6 reports a tag
    /// mismatch as plain `CKR_GENERAL_ERROR`, so that is included too: for an
    /// AEAD decryption any such failure must be treated as "not authentic"
    /// anyway, and the raw value stays in ``PKCS11Error/returnValue`` for
    /// diagnosis.
    private static let authenticationFailures: Set<CK_RV> = [
        CK_RV(ReturnValueName.aeadDecryptFailed),
        CK_RV(CKR_ENCRYPTED_DATA_INVALID),
        CK_RV(CKR_ENCRYPTED_DATA_LEN_RANGE),
        CK_RV(CKR_GENERAL_ERROR),
    ]
}

/// Gives the module a valid address even for empty input (some modules,
/// SoftHSM2 included, reject a NULL data pointer). The input is only read;
/// the C prototype merely lacks `const`, so no copy of it is made.
private func withInputPointer<R>(
    _ bytes: [UInt8], _ body: (UnsafeMutablePointer<UInt8>, CK_ULONG) -> R
) -> R {
    bytes.withUnsafeBufferPointer { buffer in
        if let base = buffer.baseAddress {
            return body(UnsafeMutablePointer(mutating: base), CK_ULONG(buffer.count))
        }
        var placeholder: UInt8 = 0
        return body(&placeholder, 0)
    }
}

/// Shrinks `bytes` in place, wiping the discarded tail first so no
/// plaintext lingers in the array's spare capacity.
private func truncate(_ bytes: inout [UInt8], to count: Int) {
    guard count < bytes.count else { return }
    bytes.withUnsafeMutableBufferPointer { buffer in
        explicit_bzero(buffer.baseAddress! + count, buffer.count - count)
    }
    bytes.removeLast(bytes.count - count)
}
