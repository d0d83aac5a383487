import ArgumentParser

/// The exit statuses of every `coffer` command (also in the README and `coffer --help`).
enum ExitStatus {
    /// Everything worked.
    static let success: Int32 = 0
    /// Decryption or verification failed: wrong key or passphrase, no matching identity, or a
    /// corrupted, truncated, tampered or non-Coffer input. One status, one message: no oracle.
    static let decryptionFailed: Int32 = 1
    /// An input was invalid: a malformed recipient or identity file, a bad range, a hostile
    /// scrypt work factor.
    static let invalidInput: Int32 = 2
    /// Reading or writing failed: a missing or unreadable file, a full disk.
    static let ioFailure: Int32 = 3
    /// Coffer refused to do something unsafe without --force: overwrite a file, write binary
    /// data to a terminal.
    static let refused: Int32 = 4
    /// The command line itself was wrong (set by swift-argument-parser).
    static let usage: Int32 = 64
    /// Interrupted by a signal (Ctrl-C); partial output files were removed.
    static let interrupted: Int32 = 130

    static let helpText = """
        EXIT STATUS
          0    success
          1    decryption failed: wrong key or passphrase, no matching
               identity, or the input is corrupted, truncated, tampered
               with or not a Coffer file; invalid or expired token
          2    invalid input: malformed recipient, identity or key file,
               bad range, hostile scrypt cost
          3    I/O failure: missing or unreadable input, cannot write the
               output, disk full
          4    refused without --force: overwriting a file, binary data
               to a terminal
          64   usage error
          130  interrupted; partial output removed

        ENVIRONMENT
          COFFER_PASSPHRASE            passphrase for -p and keygen
          COFFER_IDENTITY_PASSPHRASE   passphrase of identity files (-i, -y)
          COFFER_IDENTITY_WRAPPING_KEY_FILE
                                       wrapping key file of identity files
          COFFER_RING_PASSPHRASE       passphrase of key ring files
          COFFER_FERNET_KEYS           Fernet keys, comma-separated, first
                                       encrypts (coffer fernet)
          COFFER_TOKEN_KEYS            signing keys, ID:KEY entries
                                       (coffer token)
        """
}
