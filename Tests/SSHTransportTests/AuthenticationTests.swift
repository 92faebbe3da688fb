import Foundation
import LVSLab
import Testing
@testable import SSHTransport

/// Each way of logging in, and a sentence a person understands for each way it fails.
struct AuthenticationTests {
    /// Logs in with `auth`, returns the failure reasons (empty on success).
    private func attempt(_ lab: Lab, _ auth: [AuthMethod]) async -> [String] {
        do {
            let connection = try await SSHConnection.connect(to: lab.hosts[0].target, options: options(lab, auth: auth))
            let whoami = try await connection.run("whoami").standardOutput
            #expect(whoami == "root\n")
            await connection.close()
            return []
        } catch let SSHError.authenticationFailed(_, _, attempts) {
            return attempts
        } catch {
            Issue.record("unexpected \(error)")
            return ["unexpected"]
        }
    }

    @Test(arguments: ["ed25519", "ecdsa"])
    func keyFile(type: String) async throws {
        try await Lab.with(hosts: 1) { lab in
            let key = try await generateKey(type, in: try temporaryFolder())
            try lab.authorize(publicKey: publicKeyLine(of: key))
            #expect(await attempt(lab, [.privateKey(path: key, passphrase: .none)]) == [])
        }
    }

    @Test func encryptedKeyWithPassphraseFromEnvironment() async throws {
        try await Lab.with(hosts: 1) { lab in
            let key = try await generateKey("ed25519", passphrase: "open sesame", in: try temporaryFolder())
            try lab.authorize(publicKey: publicKeyLine(of: key))
            setenv("LVSCTL_TEST_PASSPHRASE_OK", "open sesame", 1)
            let ok = await attempt(lab, [.privateKey(path: key, passphrase: .environment("LVSCTL_TEST_PASSPHRASE_OK", promptIfTerminal: false))])
            #expect(ok == [])
            let wrong = await attempt(lab, [.privateKey(path: key, passphrase: .literal("not it"))])
            #expect(wrong == ["key \(key): wrong passphrase (the key could not be decrypted)"])
            let missing = await attempt(lab, [.privateKey(path: key, passphrase: .environment("LVSCTL_TEST_UNSET_VARIABLE", promptIfTerminal: false))])
            #expect(missing == ["key \(key) is encrypted and no passphrase was given: set LVSCTL_TEST_UNSET_VARIABLE, run from a terminal to be asked, or load the key into ssh-agent"])
        }
    }

    @Test func encryptedECDSAKey() async throws {
        try await Lab.with(hosts: 1) { lab in
            let key = try await generateKey("ecdsa", passphrase: "pw", in: try temporaryFolder())
            try lab.authorize(publicKey: publicKeyLine(of: key))
            #expect(await attempt(lab, [.privateKey(path: key, passphrase: .literal("pw"))]) == [])
        }
    }

    @Test func missingKeyFileAndKeyNotAuthorized() async throws {
        try await Lab.with(hosts: 1) { lab in
            let folder = try temporaryFolder()
            let stranger = try await generateKey("ed25519", in: folder)
            let fingerprint = try await LVSLabShell.fingerprint(stranger + ".pub")
            let reasons = await attempt(lab, [.privateKey(path: folder + "/nope", passphrase: .none), .privateKey(path: stranger, passphrase: .none)])
            #expect(reasons == [
                "key \(folder)/nope: no such file",
                "key \(stranger) (ED25519 \(fingerprint)) was not accepted by the server: add its public key to root's authorized_keys",
            ])
        }
    }

    /// libssh2 1.10 signs with SHA-1 only; OpenSSH 9.2 refuses that. Say so before trying.
    @Test func rsaKeyIsExplained() async throws {
        try await Lab.with(hosts: 1) { lab in
            let key = try await generateKey("rsa", in: try temporaryFolder())
            try lab.authorize(publicKey: publicKeyLine(of: key))
            let reasons = await attempt(lab, [.privateKey(path: key, passphrase: .none)])
            #expect(reasons.count == 1)
            #expect(reasons.first?.contains("is an RSA key: libssh2 1.10 (Debian 12) signs only with SHA-1") == true)
            #expect(reasons.first?.contains("ssh-keygen -t ed25519") == true)
        }
    }

    @Test func password() async throws {
        try await Lab.with(hosts: 1) { lab in
            #expect(await attempt(lab, [.password(lab.rootPassword)]) == [])
            #expect(await attempt(lab, [.password("wrong")]) == ["password: rejected by the server"])
        }
    }

    @Test func agent() async throws {
        try await Lab.with(hosts: 1) { lab in
            let folder = try temporaryFolder()
            let socket = folder + "/agent.sock"
            let started = try await Shell.bashChecked("ssh-agent -a \(socket) -s", what: "ssh-agent")
            let pid = try #require(started.stdout.firstMatch(of: /SSH_AGENT_PID=(\d+)/).map { String($0.1) })
            defer { kill(pid_t(pid)!, SIGTERM) }
            // An empty agent.
            #expect(await attempt(lab, [.agent(socket: socket)]) == ["ssh-agent at \(socket): the agent holds no keys (add one with ssh-add)"])
            // The lab's key in the agent.
            try await Shell.bashChecked("SSH_AUTH_SOCK=\(socket) ssh-add -q \(lab.privateKey)", what: "ssh-add")
            #expect(await attempt(lab, [.agent(socket: socket)]) == [])
            // No agent there at all.
            let gone = await attempt(lab, [.agent(socket: folder + "/missing.sock")])
            #expect(gone == ["ssh-agent at \(folder)/missing.sock: cannot connect (is the agent running? is SSH_AUTH_SOCK stale?)"])
        }
    }

    @Test func failuresAreListedOneLinePerMethod() async throws {
        try await Lab.with(hosts: 1) { lab in
            let error = await expectSSHError {
                _ = try await SSHConnection.connect(to: lab.hosts[0].target, options: options(lab, auth: [.password("x"), .privateKey(path: "/nonexistent/key", passphrase: .none)]))
            }
            #expect(error?.description == "cannot log in to \(lab.hosts[0].target) as root:\n  - password: rejected by the server\n  - key /nonexistent/key: no such file")
        }
    }
}
