import Foundation
import Testing
@testable import SSHTransport

/// known_hosts parsing and matching, as OpenSSH does it (no network).
struct KnownHostsTests {
    // An ed25519 and an ECDSA public key (made with ssh-keygen).
    static let ed = "AAAAC3NzaC1lZDI1NTE5AAAAIOaDKyGcoQkpVm07GBZaXLL/+W6VXlZvlC5WfN7xCDwB"
    static let other = "AAAAC3NzaC1lZDI1NTE5AAAAIGY64+N4jb+omWD7A/zzOTkdv/NFvvLa9F24GMFsaO/s"
    var edKey: PublicKeyBlob { PublicKeyBlob(base64: Substring(Self.ed))! }
    var otherKey: PublicKeyBlob { PublicKeyBlob(base64: Substring(Self.other))! }

    @Test func keyTypeAndFingerprintAreReadFromTheBlob() {
        #expect(edKey.keyType == "ssh-ed25519")
        #expect(edKey.fingerprint.hasPrefix("SHA256:"))
        #expect(!edKey.fingerprint.hasSuffix("="))
        #expect(edKey.fingerprint.count == 7 + 43)
    }

    @Test func plainEntryMatchesOnlyPort22() {
        let hosts = KnownHosts.parse("10.0.0.1 ssh-ed25519 \(Self.ed)\n", file: "kh")
        #expect(hosts.verify(host: "10.0.0.1", port: 22, key: edKey) == .known(hosts.entries[0]))
        // OpenSSH looks up [10.0.0.1]:2222 for another port; libssh2 1.10 would wrongly match.
        #expect(hosts.verify(host: "10.0.0.1", port: 2222, key: edKey) == .unknown)
    }

    @Test func bracketedEntryMatchesItsPort() {
        let hosts = KnownHosts.parse("[10.0.0.1]:2222 ssh-ed25519 \(Self.ed)", file: "kh")
        #expect(hosts.verify(host: "10.0.0.1", port: 2222, key: edKey) == .known(hosts.entries[0]))
        #expect(hosts.verify(host: "10.0.0.1", port: 22, key: edKey) == .unknown)
    }

    @Test func hashedEntryMatchesTheHashedName() {
        // |1|salt|HMAC-SHA1(salt, "rs1.example"), computed as ssh-keygen -H does.
        let salt: [UInt8] = Array(0..<20)
        let hash = Digest.hmacSHA1(key: salt, message: Array("rs1.example".utf8))
        let line = "|1|\(Data(salt).base64EncodedString())|\(Data(hash).base64EncodedString()) ssh-ed25519 \(Self.ed)"
        let hosts = KnownHosts.parse(line, file: "kh")
        #expect(hosts.verify(host: "rs1.example", port: 22, key: edKey) == .known(hosts.entries[0]))
        #expect(hosts.verify(host: "RS1.example", port: 22, key: edKey) == .known(hosts.entries[0]))
        #expect(hosts.verify(host: "rs2.example", port: 22, key: edKey) == .unknown)
    }

    @Test func anotherKeyOfTheSameTypeIsAChangeWithItsLine() {
        let text = "# comment\n\nrs1 ssh-ed25519 \(Self.other)\n"
        let hosts = KnownHosts.parse(text, file: "/x/known_hosts")
        guard case let .changed(entry) = hosts.verify(host: "rs1", port: 22, key: edKey) else {
            Issue.record("expected a change"); return
        }
        #expect(entry.line == 3)
        #expect(entry.file == "/x/known_hosts")
    }

    @Test func patternsWildcardsAndNegation() {
        let hosts = KnownHosts.parse("*.lab,!bad.lab,10.0.0.? ssh-ed25519 \(Self.ed)", file: "kh")
        #expect(hosts.verify(host: "rs1.lab", port: 22, key: edKey) != .unknown)
        #expect(hosts.verify(host: "bad.lab", port: 22, key: edKey) == .unknown)
        #expect(hosts.verify(host: "10.0.0.7", port: 22, key: edKey) != .unknown)
        #expect(hosts.verify(host: "10.0.0.17", port: 22, key: edKey) == .unknown)
    }

    @Test func revokedKeyIsRefusedEvenWhenAlsoListed() {
        let hosts = KnownHosts.parse("rs1 ssh-ed25519 \(Self.ed)\n@revoked rs1 ssh-ed25519 \(Self.ed)", file: "kh")
        guard case let .revoked(entry) = hosts.verify(host: "rs1", port: 22, key: edKey) else {
            Issue.record("expected revoked"); return
        }
        #expect(entry.line == 2)
    }

    @Test func knownKeyTypesComeInFileOrder() {
        let text = "rs1 ssh-ed25519 \(Self.ed)\nrs1 ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBA==\n"
        #expect(KnownHosts.parse(text, file: "kh").knownKeyTypes(host: "rs1", port: 22) == ["ssh-ed25519", "ecdsa-sha2-nistp256"])
    }

    @Test func malformedLinesAreSkipped() {
        let hosts = KnownHosts.parse("garbage\nrs1 ssh-ed25519 !!!notbase64\n@weird rs1 ssh-ed25519 \(Self.ed)\nrs1 ssh-ed25519 \(Self.ed)", file: "kh")
        #expect(hosts.entries.map(\.line) == [4])
    }

    @Test func appendedLineStartsOnItsOwnLine() throws {
        let file = try temporaryFolder() + "/sub/known_hosts"
        try KnownHosts.append("a ssh-ed25519 \(Self.ed)", to: file)
        let handle = FileHandle(forWritingAtPath: file)!
        handle.seekToEndOfFile(); handle.write(Data("b ssh-ed25519 \(Self.ed)".utf8)); handle.closeFile()
        try KnownHosts.append(KnownHosts.line(host: "10.0.0.1", port: 2222, key: edKey), to: file)
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[2] == "[10.0.0.1]:2222 ssh-ed25519 \(Self.ed)")
    }
}
