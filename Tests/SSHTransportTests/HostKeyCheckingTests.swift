import Foundation
import LVSLab
import Testing
@testable import SSHTransport

/// Host-key checking against real sshd: strict (default), accept-new, off.
struct HostKeyCheckingTests {
    private func options(_ lab: Lab, knownHosts: String, mode: HostKeyChecking = .strict) -> SSHOptions {
        var options = lab.sshOptions
        options.knownHostsFiles = [knownHosts]
        options.hostKeyChecking = mode
        return options
    }

    @Test func knownKeyConnects() async throws {
        try await Lab.with(hosts: 1) { lab in
            let connection = try await SSHConnection.connect(to: lab.hosts[0].target, options: lab.sshOptions)
            #expect(await connection.hostKey == lab.hosts[0].hostKeys[0])
            await connection.close()
        }
    }

    @Test func unknownKeyIsRefusedWithItsFingerprint() async throws {
        try await Lab.with(hosts: 1) { lab in
            let empty = try temporaryFolder() + "/known_hosts"
            let host = lab.hosts[0]
            let error = await expectSSHError {
                _ = try await SSHConnection.connect(to: host.target, options: options(lab, knownHosts: empty))
            }
            #expect(error == .hostKeyUnknown(endpoint: host.target.description, keyType: "ssh-ed25519",
                                             fingerprint: host.hostKeys[0].fingerprint, knownHostsFile: empty))
            #expect(error?.description.contains(host.hostKeys[0].fingerprint) == true)
            #expect(!FileManager.default.fileExists(atPath: empty), "strict mode must not write known_hosts")
        }
    }

    @Test func changedKeyIsRefusedNamingTheLine() async throws {
        try await Lab.with(hosts: 2) { lab in
            // known_hosts claims host1's address has host2's key.
            let file = try temporaryFolder() + "/known_hosts"
            let line = "# first line\n\(lab.hosts[0].address) ssh-ed25519 \(lab.hosts[1].hostKeys[0].base64)\n"
            try line.write(toFile: file, atomically: true, encoding: .utf8)
            for mode in [HostKeyChecking.strict, .acceptNew] {
                let error = await expectSSHError {
                    _ = try await SSHConnection.connect(to: lab.hosts[0].target, options: options(lab, knownHosts: file, mode: mode))
                }
                #expect(error == .hostKeyChanged(endpoint: lab.hosts[0].target.description, keyType: "ssh-ed25519",
                                                 fingerprint: lab.hosts[0].hostKeys[0].fingerprint, knownHostsFile: file, line: 2))
                #expect(error?.description.contains("\(file):2") == true)
            }
        }
    }

    @Test func acceptNewRecordsTheKeyThenStrictAcceptsIt() async throws {
        try await Lab.with([LabHostSpec("web", sshPort: 2222)]) { lab in
            let file = try temporaryFolder() + "/known_hosts"
            let first = try await SSHConnection.connect(to: lab.hosts[0].target, options: options(lab, knownHosts: file, mode: .acceptNew))
            await first.close()
            let written = try String(contentsOfFile: file, encoding: .utf8)
            #expect(written == "[\(lab.hosts[0].address)]:2222 ssh-ed25519 \(lab.hosts[0].hostKeys[0].base64)\n")
            let second = try await SSHConnection.connect(to: lab.hosts[0].target, options: options(lab, knownHosts: file))
            await second.close()
        }
    }

    @Test func offConnectsWithoutAnyKnownHosts() async throws {
        try await Lab.with(hosts: 1) { lab in
            let connection = try await SSHConnection.connect(
                to: lab.hosts[0].target, options: options(lab, knownHosts: "/nonexistent/known_hosts", mode: .off))
            #expect(try await connection.run("hostname").standardOutput == "host1\n")
            await connection.close()
        }
    }

    @Test func hashedKnownHostsEntryIsHonoured() async throws {
        try await Lab.with(hosts: 1) { lab in
            let file = try temporaryFolder() + "/known_hosts"
            try FileManager.default.copyItem(atPath: lab.knownHostsFile, toPath: file)
            try await Shell.bashChecked("ssh-keygen -q -H -f \(file) && rm -f \(file).old", what: "ssh-keygen -H")
            #expect(try String(contentsOfFile: file, encoding: .utf8).hasPrefix("|1|"))
            let connection = try await SSHConnection.connect(to: lab.hosts[0].target, options: options(lab, knownHosts: file))
            await connection.close()
        }
    }

    /// libssh2 prefers ECDSA; a server with both keys whose ed25519 key alone is known must still
    /// be recognised (we ask for the known type first).
    @Test func ed25519OnlyEntryForAServerThatAlsoHasECDSA() async throws {
        try await Lab.with([LabHostSpec("both", hostKeyTypes: ["ecdsa", "ed25519"])]) { lab in
            let host = lab.hosts[0]
            let file = try temporaryFolder() + "/known_hosts"
            try "\(host.address) ssh-ed25519 \(host.hostKeys[1].base64)\n".write(toFile: file, atomically: true, encoding: .utf8)
            let connection = try await SSHConnection.connect(to: host.target, options: options(lab, knownHosts: file))
            #expect(await connection.hostKey?.keyType == "ssh-ed25519")
            await connection.close()
        }
    }

    /// A name without a port only vouches for port 22, as in OpenSSH.
    @Test func entryWithoutPortDoesNotVouchForAnotherPort() async throws {
        try await Lab.with([LabHostSpec("web", sshPort: 2222)]) { lab in
            let host = lab.hosts[0]
            let file = try temporaryFolder() + "/known_hosts"
            try "\(host.address) ssh-ed25519 \(host.hostKeys[0].base64)\n".write(toFile: file, atomically: true, encoding: .utf8)
            let error = await expectSSHError {
                _ = try await SSHConnection.connect(to: host.target, options: options(lab, knownHosts: file))
            }
            guard case .hostKeyUnknown = error else { Issue.record("expected unknown, got \(String(describing: error))"); return }
        }
    }

    @Test func revokedKeyIsRefused() async throws {
        try await Lab.with(hosts: 1) { lab in
            let host = lab.hosts[0]
            let file = try temporaryFolder() + "/known_hosts"
            try "\(host.address) ssh-ed25519 \(host.hostKeys[0].base64)\n@revoked * ssh-ed25519 \(host.hostKeys[0].base64)\n"
                .write(toFile: file, atomically: true, encoding: .utf8)
            let error = await expectSSHError {
                _ = try await SSHConnection.connect(to: host.target, options: options(lab, knownHosts: file))
            }
            guard case let .hostKeyRevoked(_, _, _, _, line) = error else { Issue.record("expected revoked"); return }
            #expect(line == 2)
        }
    }
}
