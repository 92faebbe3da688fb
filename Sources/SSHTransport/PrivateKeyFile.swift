import Foundation

/// What can be learnt from a private key file without its passphrase: its algorithm, whether it
/// is encrypted, and (for OpenSSH-format keys) the public key. Used to give a precise reason when
/// authentication cannot work, before libssh2 answers with a bare number.
public struct PrivateKeyFile: Sendable, Equatable {
    public enum Algorithm: String, Sendable, Equatable {
        case ed25519 = "ED25519", ecdsa = "ECDSA", rsa = "RSA", dsa = "DSA", unknown = "unknown"
    }

    public let algorithm: Algorithm
    public let isEncrypted: Bool
    public let publicKey: PublicKeyBlob?

    public var fingerprint: String? { publicKey?.fingerprint }

    /// Describes the key the way `ssh-keygen -l` does: `ED25519 SHA256:…`.
    public var summary: String {
        [algorithm.rawValue, fingerprint].compactMap { $0 }.joined(separator: " ")
    }

    public static func parse(_ text: String) -> PrivateKeyFile? {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let header = lines.first(where: { $0.hasPrefix("-----BEGIN ") }) else { return nil }
        switch header {
        case "-----BEGIN OPENSSH PRIVATE KEY-----":
            let body = lines.filter { !$0.hasPrefix("-----") }.joined()
            guard let data = Data(base64Encoded: body) else { return nil }
            return parseOpenSSH([UInt8](data))
        case "-----BEGIN RSA PRIVATE KEY-----":
            return PrivateKeyFile(algorithm: .rsa, isEncrypted: text.contains("ENCRYPTED"), publicKey: nil)
        case "-----BEGIN EC PRIVATE KEY-----":
            return PrivateKeyFile(algorithm: .ecdsa, isEncrypted: text.contains("ENCRYPTED"), publicKey: nil)
        case "-----BEGIN DSA PRIVATE KEY-----":
            return PrivateKeyFile(algorithm: .dsa, isEncrypted: text.contains("ENCRYPTED"), publicKey: nil)
        case "-----BEGIN ENCRYPTED PRIVATE KEY-----":
            return PrivateKeyFile(algorithm: .unknown, isEncrypted: true, publicKey: nil)
        case "-----BEGIN PRIVATE KEY-----":
            return PrivateKeyFile(algorithm: .unknown, isEncrypted: false, publicKey: nil)
        default:
            return nil
        }
    }

    /// `openssh-key-v1\0`, cipher, kdf, kdf options, key count, then the first public key.
    private static func parseOpenSSH(_ bytes: [UInt8]) -> PrivateKeyFile? {
        let magic = Array("openssh-key-v1".utf8) + [0]
        var reader = SSHWireReader(bytes)
        guard reader.readBytes(magic.count) == magic,
              let cipher = reader.readString(),
              reader.readString() != nil,   // kdf name
              reader.readString() != nil,   // kdf options
              let count = reader.readUInt32(), count >= 1,
              let publicBytes = reader.readString() else { return nil }
        let publicKey = PublicKeyBlob(publicBytes)
        return PrivateKeyFile(algorithm: algorithm(ofKeyType: publicKey.keyType),
                              isEncrypted: cipher != Array("none".utf8),
                              publicKey: publicKey)
    }

    static func algorithm(ofKeyType type: String) -> Algorithm {
        switch type {
        case "ssh-ed25519": return .ed25519
        case _ where type.hasPrefix("ecdsa-sha2-"): return .ecdsa
        case "ssh-rsa": return .rsa
        case "ssh-dss": return .dsa
        default: return .unknown
        }
    }
}
