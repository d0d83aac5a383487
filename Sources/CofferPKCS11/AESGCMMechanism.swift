internal import CPKCS11

/// Builds the `CKM_AES_GCM` mechanism with its `CK_GCM_PARAMS`.
///
/// Parameters are fixed to a 96-bit IV and a 128-bit tag: the sizes
/// NIST SP 800-38D recommends, and the only ones Coffer uses, so a short tag
/// cannot be negotiated by accident.
///
/// p11-kit's (v2.40) `CK_GCM_PARAMS` is
/// `{ pIv, ulIvLen, ulIvBits, pAAD, ulAADLen, ulTagBits }`. SoftHSM2 uses
/// `ulIvLen` (bytes); other modules read `ulIvBits`, so both are set.
enum AESGCMMechanism {
    static let ivLength = 12
    static let tagLength = 16

    /// Calls `body` with the mechanism; its pointers are valid only inside
    /// `body`, which must therefore make both the `Init` and the data call.
    static func with<R>(
        iv: [UInt8], additionalData: [UInt8], _ body: (inout CK_MECHANISM) -> R
    ) -> R {
        // CK_GCM_PARAMS is input-only; its pointers lack `const` in C only.
        iv.withUnsafeBufferPointer { ivBytes in
            additionalData.withUnsafeBufferPointer { aadBytes in
                var parameters = CK_GCM_PARAMS(
                    pIv: UnsafeMutablePointer(mutating: ivBytes.baseAddress),
                    ulIvLen: CK_ULONG(ivBytes.count),
                    ulIvBits: CK_ULONG(ivBytes.count * 8),
                    pAAD: UnsafeMutablePointer(mutating: aadBytes.baseAddress),
                    ulAADLen: CK_ULONG(aadBytes.count),
                    ulTagBits: CK_ULONG(tagLength * 8))
                return withUnsafeMutablePointer(to: &parameters) { parametersPointer in
                    var mechanism = CK_MECHANISM(
                        mechanism: CK_MECHANISM_TYPE(CKM_AES_GCM),
                        pParameter: UnsafeMutableRawPointer(parametersPointer),
                        ulParameterLen: CK_ULONG(MemoryLayout<CK_GCM_PARAMS>.size))
                    return body(&mechanism)
                }
            }
        }
    }

    static func validate(iv: [UInt8]) throws(PKCS11Error) {
        guard iv.count == ivLength else {
            throw PKCS11Error(.invalidArgument, detail: "AES-GCM IV must be 12 bytes")
        }
    }
}
