import Foundation
import Testing
@testable import SSHTransport

/// Reading what a private key is, without its passphrase.
struct PrivateKeyFileTests {
    @Test(arguments: [("ed25519", PrivateKeyFile.Algorithm.ed25519), ("ecdsa", .ecdsa), ("rsa", .rsa)])
    func algorithmAndEncryption(type: String, algorithm: PrivateKeyFile.Algorithm) async throws {
        let folder = try temporaryFolder()
        let plain = try await generateKey(type, in: folder, name: "plain")
        let locked = try await generateKey(type, passphrase: "secret", in: folder, name: "locked")
        let plainKey = try #require(PrivateKeyFile.parse(String(contentsOfFile: plain, encoding: .utf8)))
        let lockedKey = try #require(PrivateKeyFile.parse(String(contentsOfFile: locked, encoding: .utf8)))
        #expect(plainKey.algorithm == algorithm)
        #expect(!plainKey.isEncrypted)
        #expect(lockedKey.algorithm == algorithm)
        #expect(lockedKey.isEncrypted)
        // The fingerprint is the one ssh-keygen prints.
        let printed = try await LVSLabShell.fingerprint(plain + ".pub")
        #expect(plainKey.fingerprint == printed)
    }

    @Test func pemRSAKeyIsRecognised() {
        let key = PrivateKeyFile.parse("-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n")
        #expect(key?.algorithm == .rsa)
    }

    @Test func textThatIsNoKey() {
        #expect(PrivateKeyFile.parse("ssh-ed25519 AAAA user@host") == nil)
    }
}
