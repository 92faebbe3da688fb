import CLibSSH2
import Foundation

/// The two digests the transport needs, from the libcrypto libssh2 is built on.
enum Digest {
    static func sha256(_ data: [UInt8]) -> [UInt8] {
        precondition(librariesInitialised, "libcrypto or libssh2 could not be initialised")
        var out = [UInt8](repeating: 0, count: 32)
        let ok = data.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { lvs_sha256(input.baseAddress, input.count, $0.baseAddress) }
        }
        precondition(ok == 1, "libcrypto SHA-256 failed")
        return out
    }

    static func hmacSHA1(key: [UInt8], message: [UInt8]) -> [UInt8] {
        precondition(librariesInitialised, "libcrypto or libssh2 could not be initialised")
        var out = [UInt8](repeating: 0, count: 20)
        let ok = key.withUnsafeBufferPointer { k in
            message.withUnsafeBufferPointer { m in
                out.withUnsafeMutableBufferPointer {
                    lvs_hmac_sha1(k.baseAddress, Int32(k.count), m.baseAddress, m.count, $0.baseAddress)
                }
            }
        }
        precondition(ok == 1, "libcrypto HMAC-SHA1 failed")
        return out
    }
}

/// A public key as SSH puts it on the wire: `string type, ...`.
public struct PublicKeyBlob: Sendable, Equatable, Hashable {
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public init?(base64 text: Substring) {
        guard let data = Data(base64Encoded: String(text)) else { return nil }
        self.bytes = [UInt8](data)
    }

    /// The algorithm name the blob starts with, e.g. `ssh-ed25519`.
    public var keyType: String {
        var reader = SSHWireReader(bytes)
        return reader.readString().map { String(decoding: $0, as: UTF8.self) } ?? "unknown"
    }

    /// `SHA256:…` as `ssh-keygen -l` and OpenSSH's messages print it.
    public var fingerprint: String {
        let b64 = Data(Digest.sha256(bytes)).base64EncodedString()
        return "SHA256:" + b64.replacingOccurrences(of: "=", with: "")
    }

    public var base64: String { Data(bytes).base64EncodedString() }
}

/// Reads the big-endian length-prefixed fields of SSH's wire format.
struct SSHWireReader {
    private let bytes: [UInt8]
    private(set) var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func readUInt32() -> UInt32? {
        guard offset + 4 <= bytes.count else { return nil }
        let value = bytes[offset..<offset + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        offset += 4
        return value
    }

    mutating func readString() -> [UInt8]? {
        guard let length = readUInt32(), offset + Int(length) <= bytes.count else { return nil }
        defer { offset += Int(length) }
        return Array(bytes[offset..<offset + Int(length)])
    }

    mutating func readBytes(_ count: Int) -> [UInt8]? {
        guard offset + count <= bytes.count else { return nil }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }
}
