internal import CPKCS11

/// The PKCS#11 entry points this library calls, copied out of the module's
/// `CK_FUNCTION_LIST` once at load time.
///
/// Resolving every function up front means a module that lacks one fails
/// with ``PKCS11Error/Code/functionMissing`` when it is loaded, not half way
/// through generating or using the root key.
struct FunctionTable {
    let initialize: CK_C_Initialize
    let finalize: CK_C_Finalize
    let getSlotList: CK_C_GetSlotList
    let getTokenInfo: CK_C_GetTokenInfo
    let openSession: CK_C_OpenSession
    let closeSession: CK_C_CloseSession
    let login: CK_C_Login
    let findObjectsInit: CK_C_FindObjectsInit
    let findObjects: CK_C_FindObjects
    let findObjectsFinal: CK_C_FindObjectsFinal
    let generateKey: CK_C_GenerateKey
    let getAttributeValue: CK_C_GetAttributeValue
    let encryptInit: CK_C_EncryptInit
    let encrypt: CK_C_Encrypt
    let decryptInit: CK_C_DecryptInit
    let decrypt: CK_C_Decrypt

    init(_ list: CK_FUNCTION_LIST) throws(PKCS11Error) {
        initialize = try Self.require(list.C_Initialize, "C_Initialize")
        finalize = try Self.require(list.C_Finalize, "C_Finalize")
        getSlotList = try Self.require(list.C_GetSlotList, "C_GetSlotList")
        getTokenInfo = try Self.require(list.C_GetTokenInfo, "C_GetTokenInfo")
        openSession = try Self.require(list.C_OpenSession, "C_OpenSession")
        closeSession = try Self.require(list.C_CloseSession, "C_CloseSession")
        login = try Self.require(list.C_Login, "C_Login")
        findObjectsInit = try Self.require(list.C_FindObjectsInit, "C_FindObjectsInit")
        findObjects = try Self.require(list.C_FindObjects, "C_FindObjects")
        findObjectsFinal = try Self.require(list.C_FindObjectsFinal, "C_FindObjectsFinal")
        generateKey = try Self.require(list.C_GenerateKey, "C_GenerateKey")
        getAttributeValue = try Self.require(list.C_GetAttributeValue, "C_GetAttributeValue")
        encryptInit = try Self.require(list.C_EncryptInit, "C_EncryptInit")
        encrypt = try Self.require(list.C_Encrypt, "C_Encrypt")
        decryptInit = try Self.require(list.C_DecryptInit, "C_DecryptInit")
        decrypt = try Self.require(list.C_Decrypt, "C_Decrypt")
    }

    private static func require<F>(_ function: F?, _ name: String) throws(PKCS11Error) -> F {
        guard let function else {
            throw PKCS11Error(.functionMissing, function: name, detail: "module does not provide this function")
        }
        return function
    }
}
