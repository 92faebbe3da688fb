import CLibSSH2
import Foundation

/// Logging in: each configured method in turn, and for each failure one sentence saying why.
extension SSHConnection {
    func authenticate(deadline: ContinuousClock.Instant) throws {
        let offered = try serverAuthMethods(deadline: deadline)
        if libssh2_userauth_authenticated(session) != 0 { return }   // "none" was enough
        var attempts: [String] = []
        for method in options.authentication {
            let outcome: AuthOutcome
            switch method {
            case let .agent(socket):
                outcome = offered.contains("publickey") ? try agentLogin(socket: socket, deadline: deadline)
                    : .failed("ssh-agent: the server does not accept public keys (it offers: \(offered.joined(separator: ", ")))")
            case let .privateKey(path, passphrase):
                outcome = offered.contains("publickey") ? try keyFileLogin(path: expandTilde(path), passphrase: passphrase, deadline: deadline)
                    : .failed("key \(path): the server does not accept public keys (it offers: \(offered.joined(separator: ", ")))")
            case let .password(password):
                outcome = offered.contains("password") ? try passwordLogin(password, deadline: deadline)
                    : .failed("password: the server does not allow password authentication (it offers: \(offered.joined(separator: ", ")))")
            }
            switch outcome {
            case .succeeded: return
            case let .failed(reason): attempts.append(reason)
            }
        }
        throw SSHError.authenticationFailed(endpoint: endpoint, user: target.user, attempts: attempts)
    }

    enum AuthOutcome { case succeeded, failed(String) }

    private func serverAuthMethods(deadline: ContinuousClock.Instant) throws -> [String] {
        while true {
            if let list = libssh2_userauth_list(session, target.user, UInt32(target.user.utf8.count)) {
                return String(cString: list).split(separator: ",").map(String.init)
            }
            if libssh2_userauth_authenticated(session) != 0 { return [] }
            guard lastErrno() == LIBSSH2_ERROR_EAGAIN else {
                throw SSHError.connectionLost(endpoint: endpoint, during: "authentication", reason: lastErrorMessage())
            }
            guard waitForSocket(until: deadline) else {
                throw SSHError.handshakeTimedOut(endpoint: endpoint, seconds: options.handshakeTimeout.seconds)
            }
        }
    }

    /// Runs one libssh2 authentication call to completion; answers its final return code.
    private func authCall(deadline: ContinuousClock.Instant, _ call: () -> Int32) throws -> Int32 {
        while true {
            let rc = call()
            guard rc == LIBSSH2_ERROR_EAGAIN else { return rc }
            guard waitForSocket(until: deadline) else {
                throw SSHError.handshakeTimedOut(endpoint: endpoint, seconds: options.handshakeTimeout.seconds)
            }
        }
    }

    private func isConnectionFailure(_ rc: Int32) -> Bool {
        [LIBSSH2_ERROR_SOCKET_DISCONNECT, LIBSSH2_ERROR_SOCKET_RECV, LIBSSH2_ERROR_SOCKET_SEND, LIBSSH2_ERROR_SOCKET_TIMEOUT].contains(rc)
    }

    private func agentLogin(socket: String?, deadline: ContinuousClock.Instant) throws -> AuthOutcome {
        let socketPath = socket ?? ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"]
        guard let socketPath, !socketPath.isEmpty else {
            return .failed("ssh-agent: SSH_AUTH_SOCK is not set, so there is no agent to ask")
        }
        guard let agent = libssh2_agent_init(session) else { return .failed("ssh-agent: libssh2 could not create an agent handle") }
        defer {
            libssh2_agent_disconnect(agent)
            libssh2_agent_free(agent)
        }
        libssh2_agent_set_identity_path(agent, socketPath)
        guard libssh2_agent_connect(agent) == 0 else {
            return .failed("ssh-agent at \(socketPath): cannot connect (is the agent running? is SSH_AUTH_SOCK stale?)")
        }
        guard libssh2_agent_list_identities(agent) == 0 else {
            return .failed("ssh-agent at \(socketPath): cannot list its keys")
        }
        var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
        var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
        var tried: [String] = []
        var rsaSkipped = 0
        while libssh2_agent_get_identity(agent, &identity, previous) == 0, let current = identity {
            previous = current
            let blob = PublicKeyBlob(Array(UnsafeBufferPointer(start: current.pointee.blob, count: Int(current.pointee.blob_len))))
            if blob.keyType == "ssh-rsa" { rsaSkipped += 1; continue }
            let rc = try authCall(deadline: deadline) { libssh2_agent_userauth(agent, target.user, current) }
            if rc == 0 { return .succeeded }
            if isConnectionFailure(rc) {
                throw SSHError.connectionLost(endpoint: endpoint, during: "authentication", reason: lastErrorMessage())
            }
            tried.append("\(PrivateKeyFile.algorithm(ofKeyType: blob.keyType).rawValue) \(blob.fingerprint)")
        }
        var reason = "ssh-agent at \(socketPath): "
        if tried.isEmpty && rsaSkipped == 0 {
            reason += "the agent holds no keys (add one with ssh-add)"
        } else if tried.isEmpty {
            reason += "it holds only RSA keys, which libssh2 1.10 cannot use against OpenSSH 8.8 or newer (it signs with SHA-1); add an ed25519 or ECDSA key"
        } else {
            reason += "the server accepted none of its keys (\(tried.joined(separator: ", ")))"
        }
        return .failed(reason)
    }

    private func keyFileLogin(path: String, passphrase: Passphrase, deadline: ContinuousClock.Instant) throws -> AuthOutcome {
        guard FileManager.default.fileExists(atPath: path) else {
            return .failed("key \(path): no such file")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            return .failed("key \(path): cannot be read (check its permissions)")
        }
        guard let key = PrivateKeyFile.parse(text) else {
            return .failed("key \(path): not a private key file OpenSSH or libssh2 can read")
        }
        if key.algorithm == .rsa {
            return .failed("key \(path) is an RSA key: libssh2 1.10 (Debian 12) signs only with SHA-1 (ssh-rsa), which OpenSSH 8.8 and newer refuse. "
                + "Use an ed25519 or ECDSA key (ssh-keygen -t ed25519), or build lvsctl against libssh2 1.11 or newer")
        }
        var secret: String?
        if key.isEncrypted {
            switch resolve(passphrase, for: path) {
            case let .some(value): secret = value
            case .none:
                let variable: String
                if case let .environment(name, _) = passphrase { variable = name } else { variable = "LVSCTL_KEY_PASSPHRASE" }
                return .failed("key \(path) is encrypted and no passphrase was given: set \(variable), run from a terminal to be asked, or load the key into ssh-agent")
            }
        }
        let rc = try authCall(deadline: deadline) { lvs_userauth_keyfile(session, target.user, path, secret) }
        switch rc {
        case 0:
            return .succeeded
        case LIBSSH2_ERROR_FILE where key.isEncrypted, LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED where key.isEncrypted:
            return .failed("key \(path): wrong passphrase (the key could not be decrypted)")
        case LIBSSH2_ERROR_FILE:
            return .failed("key \(path): libssh2 could not read it (\(lastErrorMessage()))")
        case _ where isConnectionFailure(rc):
            throw SSHError.connectionLost(endpoint: endpoint, during: "authentication", reason: lastErrorMessage())
        default:
            return .failed("key \(path) (\(key.summary)) was not accepted by the server: add its public key to \(target.user)'s authorized_keys")
        }
    }

    private func passwordLogin(_ password: String, deadline: ContinuousClock.Instant) throws -> AuthOutcome {
        let rc = try authCall(deadline: deadline) { lvs_userauth_password(session, target.user, password) }
        switch rc {
        case 0: return .succeeded
        case LIBSSH2_ERROR_PASSWORD_EXPIRED: return .failed("password: it has expired; change it on the host first")
        case _ where isConnectionFailure(rc):
            throw SSHError.connectionLost(endpoint: endpoint, during: "authentication", reason: lastErrorMessage())
        default: return .failed("password: rejected by the server")
        }
    }

    private func resolve(_ passphrase: Passphrase, for path: String) -> String? {
        switch passphrase {
        case .none: return nil
        case let .literal(value): return value
        case let .environment(name, promptIfTerminal):
            if let value = ProcessInfo.processInfo.environment[name] { return value }
            guard promptIfTerminal, isatty(STDIN_FILENO) == 1, let typed = getpass("Passphrase for \(path): ") else { return nil }
            return String(cString: typed)
        }
    }
}
