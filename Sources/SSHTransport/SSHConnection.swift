import CLibSSH2
import Foundation
import Glibc

/// libcrypto without its exit-time cleanup (`lvs_crypto_init`), then libssh2_init, exactly once
/// per process (Swift initialises globals lazily and atomically); everything that uses either
/// checks it first. SIGPIPE is ignored first: libssh2 writes to its socket with a plain send(),
/// so a peer gone at the wrong moment (an sshd dropping a connection under load) ended the whole
/// process (a `down` of 300 hosts exited 141); ignored, the write fails with EPIPE and only that
/// host's connection fails.
let librariesInitialised: Bool = {
    signal(SIGPIPE, SIG_IGN)
    return lvs_crypto_init() == 1 && libssh2_init(0) == 0
}()

/// One SSH connection to one host: a libssh2 session driven in non-blocking mode on a thread of
/// its own (see `ThreadExecutor`). Commands, uploads and downloads share the session; up to
/// `maxChannels` channels are open at once.
public actor SSHConnection {
    public nonisolated let target: SSHTarget
    public nonisolated let options: SSHOptions
    /// The key the server proved it holds, once connected.
    public internal(set) var hostKey: PublicKeyBlob?
    /// How many request/response exchanges (commands, transfers, answers received from a started
    /// command) this connection has made.
    public internal(set) var roundTrips = 0
    /// 2 when the first key exchange failed and a fresh connection was needed (see `connect`).
    public private(set) var handshakeAttempts = 1

    nonisolated let executor: ThreadExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    /// The CPU time the connection's thread has used: what it costs, its tunnels' pumping
    /// included, apart from whatever else the process runs.
    public nonisolated var threadCPUTime: Duration { executor.threadCPUTime }

    var session: OpaquePointer?
    var sftp: OpaquePointer?
    var socket: Int32 = -1
    var authenticated = false
    var lost: SSHError?
    var openChannels = 0
    var channelWaiters: [CheckedContinuation<Void, Never>] = []
    /// Deadlines of the tasks waiting in `pause`, and how many of them yielded at each count of
    /// received bytes.
    var pauseDeadlines: [Int: ContinuousClock.Instant] = [:]
    var nextPauseToken = 0
    var idleYielders: [Int64: Int] = [:]
    let counter = UnsafeMutablePointer<lvs_io_counter>.allocate(capacity: 1)
    /// Operations whose progress libssh2 keeps per session (or per SFTP instance), not per call.
    enum SessionLock: Hashable { case channelOpen, sftp }
    var heldLocks: Set<SessionLock> = []
    /// Local ends of tunnels this connection pumps (polled with its socket), and those waiting to
    /// write.
    var tunnelDescriptors: Set<Int32> = []
    var tunnelWriters: Set<Int32> = []
    /// The last poll woke for a tunnel's local end: its pump (maybe not the task that polled)
    /// has bytes to move.
    var tunnelReady = false
    /// Commands started with `start` and not yet finished.
    var commands: [Int: RemoteCommandState] = [:]
    var nextCommandID = 0
    var lockWaiters: [(SessionLock, CheckedContinuation<Void, Never>)] = []

    var endpoint: String { target.description }

    private init(target: SSHTarget, options: SSHOptions) {
        self.target = target
        self.options = options
        self.executor = ThreadExecutor(name: "ssh \(target)")
        counter.initialize(to: lvs_io_counter(received: 0))
    }

    /// Connects, checks the host key and logs in, each step bounded by its timeout.
    public static func connect(to target: SSHTarget, options: SSHOptions = SSHOptions()) async throws -> SSHConnection {
        try await connect(to: target, options: options, socket: nil)
    }

    /// With `socket`, the session runs over what it answers (a tunnel) instead of a TCP connection.
    static func connect(to target: SSHTarget, options: SSHOptions, socket: (() async throws -> Int32)?) async throws -> SSHConnection {
        precondition(librariesInitialised, "libcrypto or libssh2 could not be initialised")
        var attempt = 1
        while true {
            let connection = SSHConnection(target: target, options: options)
            do {
                let given = try await socket?()
                try await connection.open(socket: given)
                await connection.setHandshakeAttempts(attempt)
                return connection
            } catch {
                await connection.close()
                // Measured: one of 30 simultaneous handshakes on a loaded 2-core machine failed
                // libssh2 1.10's key exchange (-8, and in another run -1). A fresh connection then
                // succeeds: try once more. The same for a connection the server reset as soon as it
                // was made (2 of 300 lab hosts' sshd at once, 2 cores): nothing was said yet.
                if attempt == 1, await connection.worthOneMoreTry { attempt += 1; continue }
                throw error
            }
        }
    }

    private func setHandshakeAttempts(_ attempts: Int) { handshakeAttempts = attempts }

    /// Whether the handshake failed in the key exchange itself (worth one fresh try).
    var keyExchangeFailed = false
    /// Whether the server reset the TCP connection as it was made (worth one fresh try).
    var peerReset = false
    var worthOneMoreTry: Bool { keyExchangeFailed || peerReset }

    isolated deinit {
        if let sftp { libssh2_sftp_shutdown(sftp) }
        if let session { libssh2_session_free(session) }
        if socket >= 0 { Glibc.close(socket) }
        counter.deallocate()
        executor.finish()
    }

    private func open(socket given: Int32?) throws {
        socket = try given ?? TCPSocket.connect(host: target.host, port: target.port,
                                                timeout: options.connectTimeout, endpoint: endpoint, peerReset: &peerReset)
        guard let session = lvs_session_init(counter) else {
            throw SSHError.handshakeFailed(endpoint: endpoint, reason: "libssh2 could not allocate a session")
        }
        self.session = session
        libssh2_session_set_blocking(session, 0)

        let knownHosts = KnownHosts.load(files: options.knownHostsFiles.map(expandTilde))
        preferHostKeyTypes(knownHosts.knownKeyTypes(host: target.host, port: target.port))

        let deadline = ContinuousClock.now + options.handshakeTimeout
        try retrying(until: deadline, onTimeout: .handshakeTimedOut(endpoint: endpoint, seconds: options.handshakeTimeout.seconds)) {
            libssh2_session_handshake(session, socket)
        } failure: { rc in
            keyExchangeFailed = true   // -8 and, once, -1 were seen mid key exchange under load
            return .handshakeFailed(endpoint: endpoint, reason: handshakeFailureReason(rc))
        }
        try verifyHostKey(knownHosts)
        try authenticate(deadline: ContinuousClock.now + options.handshakeTimeout)
        authenticated = true
        libssh2_keepalive_config(session, 1, UInt32(max(1, options.keepaliveInterval.seconds)))
    }

    /// Closes the session politely (best effort) and frees it.
    public func close() {
        guard let session else { return }
        if let sftp {
            _ = libssh2_sftp_shutdown(sftp)
            self.sftp = nil
        }
        if lost == nil {
            let deadline = ContinuousClock.now + .seconds(2)
            try? retrying(until: deadline, onTimeout: .closed(endpoint: endpoint)) {
                libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, "bye", "")
            } failure: { _ in .closed(endpoint: endpoint) }
        }
        // The session frees its channels: forget started commands, so `abandon` cannot free twice.
        commands.removeAll()
        libssh2_session_free(session)
        self.session = nil
        if socket >= 0 { Glibc.close(socket); socket = -1 }
        lost = lost ?? .closed(endpoint: endpoint)
        let waiters = channelWaiters
        channelWaiters.removeAll()
        waiters.forEach { $0.resume() }
        let lockedOut = lockWaiters
        lockWaiters.removeAll()
        lockedOut.forEach { $0.1.resume() }
    }

    // MARK: - Host key

    /// libssh2 prefers ECDSA; if known_hosts holds only an ed25519 key, the server would be asked
    /// for the wrong type and the host would read as unknown. Ask for the known types first.
    private func preferHostKeyTypes(_ known: [String]) {
        let supported = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"]
        let ordered = known.filter(supported.contains) + supported.filter { !known.contains($0) }
        _ = libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, ordered.joined(separator: ","))
    }

    private func verifyHostKey(_ knownHosts: KnownHosts) throws {
        var length = 0
        var type: Int32 = 0
        guard let raw = libssh2_session_hostkey(session, &length, &type) else {
            throw SSHError.handshakeFailed(endpoint: endpoint, reason: "the server sent no host key")
        }
        let key = PublicKeyBlob(Array(UnsafeRawBufferPointer(start: raw, count: length).bindMemory(to: UInt8.self)))
        hostKey = key
        guard options.hostKeyChecking != .off else { return }
        let primaryFile = expandTilde(options.knownHostsFiles.first ?? "~/.ssh/known_hosts")
        switch knownHosts.verify(host: target.host, port: target.port, key: key) {
        case .known:
            return
        case let .revoked(entry):
            throw SSHError.hostKeyRevoked(endpoint: endpoint, keyType: key.keyType, fingerprint: key.fingerprint,
                                          knownHostsFile: entry.file, line: entry.line)
        case let .changed(entry):
            throw SSHError.hostKeyChanged(endpoint: endpoint, keyType: key.keyType, fingerprint: key.fingerprint,
                                          knownHostsFile: entry.file, line: entry.line)
        case .unknown where options.hostKeyChecking == .acceptNew:
            try? KnownHosts.append(KnownHosts.line(host: target.host, port: target.port, key: key), to: primaryFile)
        case .unknown:
            throw SSHError.hostKeyUnknown(endpoint: endpoint, keyType: key.keyType, fingerprint: key.fingerprint,
                                          knownHostsFile: primaryFile)
        }
    }

    private func handshakeFailureReason(_ rc: Int32) -> String {
        switch rc {
        case LIBSSH2_ERROR_KEX_FAILURE:
            return "no key exchange or host key algorithm in common (libssh2 1.10 cannot use a server whose only host key is RSA; give the server an ed25519 or ECDSA host key) [libssh2 \(rc)]"
        case LIBSSH2_ERROR_SOCKET_DISCONNECT, LIBSSH2_ERROR_SOCKET_RECV, LIBSSH2_ERROR_BANNER_RECV:
            return "the server closed the connection before the handshake finished (not an SSH server, or it refused us: MaxStartups, tcp wrappers) [libssh2 \(rc)]"
        default:
            return "\(lastErrorMessage()) [libssh2 \(rc)]"
        }
    }

    // MARK: - Non-blocking plumbing

    func lastErrorMessage() -> String {
        guard let session else { return "no session" }
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        libssh2_session_last_error(session, &message, &length, 0)
        return message.map { String(cString: $0) } ?? "unknown libssh2 error"
    }

    func lastErrno() -> Int32 { session.map { libssh2_session_last_errno($0) } ?? LIBSSH2_ERROR_SOCKET_DISCONNECT }

    /// Calls `operation` until it stops answering EAGAIN, waiting on the socket in between.
    func retrying(until deadline: ContinuousClock.Instant, onTimeout: @autoclosure () -> SSHError,
                  _ operation: () -> Int32, failure: (Int32) -> SSHError) throws {
        while true {
            let rc = operation()
            if rc == LIBSSH2_ERROR_EAGAIN {
                guard waitForSocket(until: deadline) else { throw onTimeout() }
                continue
            }
            if rc < 0 { throw failure(rc) }
            return
        }
    }

    /// Blocks on the socket in the direction libssh2 needs, at most until `deadline` (and, when
    /// work arrives from another thread, until then). Sends due keepalives while only waiting to read.
    /// Returns false once the deadline has passed.
    @discardableResult
    func waitForSocket(until deadline: ContinuousClock.Instant) -> Bool {
        let now = ContinuousClock.now
        guard now < deadline, let session else { return false }
        let directions = libssh2_session_block_directions(session)
        var events: Int16 = 0
        if directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { events |= Int16(POLLIN) }
        if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { events |= Int16(POLLOUT) }
        var wait = deadline - now
        // A keepalive may only be sent when no packet of ours is half-written.
        if authenticated && events & Int16(POLLOUT) == 0 {
            var next: Int32 = 0
            if libssh2_keepalive_send(session, &next) == 0, next > 0 {
                wait = min(wait, .seconds(Int64(next)))
            }
        }
        var descriptors = [
            pollfd(fd: socket, events: events == 0 ? Int16(POLLIN) : events, revents: 0),
            pollfd(fd: executor.wakeDescriptor, events: Int16(POLLIN), revents: 0),
        ] + tunnelDescriptors.map {
            pollfd(fd: $0, events: Int16(POLLIN) | (tunnelWriters.contains($0) ? Int16(POLLOUT) : 0), revents: 0)
        }
        _ = poll(&descriptors, nfds_t(descriptors.count), Int32(clamping: max(1, wait.milliseconds)))
        if descriptors[1].revents != 0 { executor.drainWakeups() }
        tunnelReady = descriptors.dropFirst(2).contains { $0.revents != 0 }
        return true
    }

    func ensureOpen() throws {
        if let lost { throw lost }
    }
}
