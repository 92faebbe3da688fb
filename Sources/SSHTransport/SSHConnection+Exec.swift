import CLibSSH2
import Foundation

/// How a remote command ended.
public enum ExitStatus: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    /// Killed by a signal (`TERM`, `KILL`, ...), as the server reported it.
    case signaled(String)
    /// The channel closed without a trustworthy status (libssh2 1.10 would say 0).
    case unknown

    public var description: String {
        switch self {
        case let .exited(code): return "exit \(code)"
        case let .signaled(name): return "killed by SIG\(name)"
        case .unknown: return "no exit status"
        }
    }
}

public struct CommandResult: Sendable {
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    public var status: ExitStatus
    public var duration: Duration

    public var standardOutput: String { String(decoding: stdout, as: UTF8.self) }
    public var standardError: String { String(decoding: stderr, as: UTF8.self) }
    public var succeeded: Bool { status == .exited(0) }
}

/// A command started with `SSHConnection.start`, fed and read in parts: a conversation with one
/// remote process (lvsctl keeps one shell per host per verb, so one process holds the host's
/// lock across several exchanges).
public struct RemoteCommand: Sendable, Hashable {
    let id: Int
    public let command: String
}

/// What `SSHConnection.receive` read: standard output up to the marker line, and whether the
/// marker came (false: the command ended first).
public struct Received: Sendable, Equatable {
    public var text: String
    public var sawMarker: Bool
}

/// A started command's channel and what it has printed so far (kept on the connection's actor).
final class RemoteCommandState {
    let channel: OpaquePointer
    let deadline: ContinuousClock.Instant
    let started: ContinuousClock.Instant
    let timedOut: SSHError
    var output: [[UInt8]] = [[], []]
    /// Standard output bytes already handed out by `receive`.
    var consumed = 0
    var eofSent = false

    init(channel: OpaquePointer, started: ContinuousClock.Instant, deadline: ContinuousClock.Instant, timedOut: SSHError) {
        self.channel = channel
        self.started = started
        self.deadline = deadline
        self.timedOut = timedOut
    }
}

extension SSHConnection {
    /// Runs `command` through the user's shell on the host, feeding `stdin` if given, and reads
    /// stdout and stderr together (never one then the other: that deadlocks once the unread one
    /// fills its channel window).
    public func run(_ command: String, stdin: [UInt8]? = nil, timeout: Duration? = nil) async throws -> CommandResult {
        let started = try await start(command, timeout: timeout)
        roundTrips += 1
        do {
            if let stdin { try await send(stdin, to: started) }
            return try await finish(started)
        } catch {
            abandon(started)
            throw error
        }
    }

    /// Starts `command` and leaves its standard input open: `send` parts to it, `receive` its
    /// answers, then `finish` (or `abandon`) it. It holds one of the connection's channels until then.
    public func start(_ command: String, timeout: Duration? = nil) async throws -> RemoteCommand {
        try ensureOpen()
        let started = ContinuousClock.now
        let limit = timeout ?? options.commandTimeout
        let deadline = started + limit
        let timedOut = SSHError.commandTimedOut(endpoint: endpoint, command: command, seconds: limit.seconds)
        try await acquireChannel()
        let channel: OpaquePointer
        do {
            // libssh2 keeps a channel open's progress in the session: one open at a time.
            channel = try await exclusively(.channelOpen) { try await openChannel(deadline: deadline, timedOut: timedOut) }
        } catch {
            releaseChannel()
            throw error
        }
        do {
            try await step(deadline: deadline, timedOut: timedOut, during: command) { lvs_channel_exec(channel, command) }
        } catch {
            freeChannel(channel)
            releaseChannel()
            throw error
        }
        nextCommandID += 1
        commands[nextCommandID] = RemoteCommandState(channel: channel, started: started, deadline: deadline, timedOut: timedOut)
        return RemoteCommand(id: nextCommandID, command: command)
    }

    /// Writes `bytes` to the command's standard input (reading its output meanwhile).
    public func send(_ bytes: [UInt8], to command: RemoteCommand) async throws {
        let state = try commandState(command)
        var pending = ArraySlice(bytes)
        while !pending.isEmpty {
            var progressed = false
            let written = pending.withUnsafeBufferPointer { p in
                p.withMemoryRebound(to: CChar.self) { buffer in flushing { lvs_channel_write(state.channel, buffer.baseAddress, buffer.count) } }
            }
            if written > 0 { pending = pending.dropFirst(written); progressed = true }
            else if written != Int(LIBSSH2_ERROR_EAGAIN) { throw lose(during: command.command, rc: Int32(written)) }
            if try readAvailable(state, during: command.command) { progressed = true }
            if libssh2_channel_eof(state.channel) != 0 && !pending.isEmpty {
                throw SSHError.connectionLost(endpoint: endpoint, during: "`\(SSHError.abbreviate(command.command))`",
                                              reason: "the command ended before reading all its input")
            }
            if !progressed { try await pause(deadline: state.deadline, timedOut: state.timedOut) }
        }
    }

    /// Reads the command's standard output until a line that starts with `marker`, or until the
    /// command ends; answers the text before that line. Counted as a round trip unless it reads
    /// on in an answer already counted.
    public func receive(from command: RemoteCommand, untilLine marker: String, newExchange: Bool = true) async throws -> Received {
        let state = try commandState(command)
        if newExchange { roundTrips += 1 }
        let needle = Array(marker.utf8)
        var searchFrom = state.consumed
        while true {
            if let found = Self.lineStart(needle, in: state.output[0], from: searchFrom, lineStartAfter: state.consumed) {
                let text = String(decoding: state.output[0][state.consumed..<found], as: UTF8.self)
                let lineEnd = state.output[0][found...].firstIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? state.output[0].count
                state.consumed = lineEnd
                return Received(text: text, sawMarker: true)
            }
            searchFrom = max(state.consumed, state.output[0].count - needle.count - 1)
            if libssh2_channel_eof(state.channel) != 0 {
                _ = try readAvailable(state, during: command.command)
                if Self.lineStart(needle, in: state.output[0], from: searchFrom, lineStartAfter: state.consumed) != nil { continue }
                let text = String(decoding: state.output[0][state.consumed...], as: UTF8.self)
                state.consumed = state.output[0].count
                return Received(text: text, sawMarker: false)
            }
            if try !readAvailable(state, during: command.command) {
                try await pause(deadline: state.deadline, timedOut: state.timedOut)
            }
        }
    }

    /// Closes the command's standard input, reads the rest of its output, and answers how it
    /// ended (its whole output, including what `receive` already handed out).
    public func finish(_ command: RemoteCommand) async throws -> CommandResult {
        let state = try commandState(command)
        defer { abandon(command) }
        while true {
            var progressed = false
            if !state.eofSent {
                let rc = Int32(flushing { Int(libssh2_channel_send_eof(state.channel)) })
                if rc == 0 { state.eofSent = true; progressed = true }
                else if rc != LIBSSH2_ERROR_EAGAIN { throw lose(during: command.command, rc: rc) }
            }
            if try readAvailable(state, during: command.command) { progressed = true }
            if libssh2_channel_eof(state.channel) != 0 { break }
            if !progressed { try await pause(deadline: state.deadline, timedOut: state.timedOut) }
        }
        // The server sends exit-status (or exit-signal) before it closes the channel; only a clean
        // close makes libssh2's status trustworthy.
        var status = ExitStatus.unknown
        var closed = true
        do {
            try await step(deadline: state.deadline, timedOut: state.timedOut, during: command.command) { libssh2_channel_close(state.channel) }
            try await step(deadline: state.deadline, timedOut: state.timedOut, during: command.command) { libssh2_channel_wait_closed(state.channel) }
        } catch {
            closed = false
        }
        if let signal = exitSignal(state.channel) {
            status = .signaled(signal)
        } else if closed {
            status = .exited(libssh2_channel_get_exit_status(state.channel))
        }
        return CommandResult(stdout: state.output[0], stderr: state.output[1], status: status,
                             duration: ContinuousClock.now - state.started)
    }

    /// Frees the command's channel without waiting for it to end (its input is closed with it).
    public func abandon(_ command: RemoteCommand) {
        guard let state = commands.removeValue(forKey: command.id) else { return }
        freeChannel(state.channel)
        releaseChannel()
    }

    private func commandState(_ command: RemoteCommand) throws -> RemoteCommandState {
        try ensureOpen()
        guard let state = commands[command.id] else {
            throw SSHError.channelFailed(endpoint: endpoint, reason: "`\(SSHError.abbreviate(command.command))` has already finished")
        }
        return state
    }

    /// Reads whatever stdout and stderr hold now; true if anything came, the channel's end
    /// included, or if the session took in bytes meanwhile. Each is a way for what the caller
    /// waits for to be in libssh2's queue rather than the socket, where a caller that then
    /// waited on the socket would wait for nothing more to come (until the next keepalive,
    /// 9-10 s): a read can take in the end without any data (a shell that ended a moment after
    /// its last output), and the read of stderr drains the socket for the whole session, so
    /// stdout that arrives after stdout was read waits in the queue (seen as a director's
    /// last output waiting 7.5 s, once in a few no-op `up`s of 1 000 services).
    private func readAvailable(_ state: RemoteCommandState, during command: String) throws -> Bool {
        let endedBefore = libssh2_channel_eof(state.channel) != 0
        let receivedBefore = counter.pointee.received
        var progressed = false
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        for stream in 0...1 {
            while true {
                let count = buffer.withUnsafeMutableBufferPointer { p in
                    p.withMemoryRebound(to: CChar.self) { lvs_channel_read(state.channel, Int32(stream), $0.baseAddress, $0.count) }
                }
                if count > 0 { state.output[stream] += buffer[0..<count]; progressed = true; continue }
                if count < 0 && count != Int(LIBSSH2_ERROR_EAGAIN) { throw lose(during: command, rc: Int32(count)) }
                break
            }
        }
        return progressed || (!endedBefore && libssh2_channel_eof(state.channel) != 0) || counter.pointee.received != receivedBefore
    }

    /// Where a line starting with `needle` begins in `bytes`, looking from `from` (a line starts
    /// at `lineStartAfter` or after a newline).
    static func lineStart(_ needle: [UInt8], in bytes: [UInt8], from: Int, lineStartAfter start: Int) -> Int? {
        guard !needle.isEmpty, bytes.count - from >= needle.count else { return nil }
        var index = max(from, start)
        while index + needle.count <= bytes.count {
            if (index == start || bytes[index - 1] == UInt8(ascii: "\n")) && bytes[index..<index + needle.count].elementsEqual(needle) {
                return index
            }
            index += 1
        }
        return nil
    }

    // MARK: - Channels

    func acquireChannel() async throws {
        while openChannels >= max(1, options.maxChannels) {
            await withCheckedContinuation { channelWaiters.append($0) }
            try ensureOpen()
        }
        openChannels += 1
    }

    func releaseChannel() {
        openChannels -= 1
        if !channelWaiters.isEmpty { channelWaiters.removeFirst().resume() }
    }

    private func openChannel(deadline: ContinuousClock.Instant, timedOut: SSHError) async throws -> OpaquePointer {
        while true {
            try ensureOpen()
            if let channel = lvs_channel_open_session(session) { return channel }
            let rc = lastErrno()
            if rc == LIBSSH2_ERROR_CHANNEL_FAILURE && openChannels > 1 {
                // sshd frees a session slot a little after the channel closes, so it may refuse
                // while our other channels wind down: try again after they make progress.
                try await pause(deadline: deadline, timedOut: timedOut)
                continue
            }
            guard rc == LIBSSH2_ERROR_EAGAIN else {
                if rc == LIBSSH2_ERROR_CHANNEL_FAILURE {
                    throw SSHError.channelFailed(endpoint: endpoint, reason: "the server refused a new channel (MaxSessions reached?): \(lastErrorMessage())")
                }
                throw lose(during: "opening a channel", rc: rc)
            }
            try await pause(deadline: deadline, timedOut: timedOut)
        }
    }

    private func freeChannel(_ channel: OpaquePointer) {
        // Freeing may need to send a close; give it a moment, never block long on a dead server.
        let deadline = ContinuousClock.now + .milliseconds(lost == nil ? 250 : 0)
        while libssh2_channel_free(channel) == LIBSSH2_ERROR_EAGAIN {
            guard lost == nil, waitForSocket(until: deadline) else { return }
        }
    }

    private func exitSignal(_ channel: OpaquePointer) -> String? {
        var name: UnsafeMutablePointer<CChar>?
        var nameLength = 0
        guard libssh2_channel_get_exit_signal(channel, &name, &nameLength, nil, nil, nil, nil) == 0, let name else { return nil }
        defer { libssh2_free(session, name) }
        return String(cString: name)
    }

    /// Calls `call` again while it leaves a packet half-written (EAGAIN with the session blocked
    /// outbound), waiting only for the socket to take more. libssh2 refuses any other packet
    /// until the same call finishes that one, so no other task may run in between: this thread
    /// is shared by every channel of the session (tunnels included).
    func flushing(_ call: () -> Int) -> Int {
        while true {
            let rc = call()
            guard rc == Int(LIBSSH2_ERROR_EAGAIN), halfWritten, waitWritable() else { return rc }
        }
    }

    /// A packet of ours is half-written (only the call that began it may go on).
    var halfWritten: Bool {
        guard let session else { return false }
        return libssh2_session_block_directions(session) & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0
    }

    /// Waits until the socket takes more bytes (nothing else: not other channels' readiness).
    func waitWritable() -> Bool {
        var descriptor = pollfd(fd: socket, events: Int16(POLLOUT), revents: 0)
        return poll(&descriptor, 1, Int32(clamping: options.commandTimeout.milliseconds)) > 0 && lost == nil
    }

    /// Calls a libssh2 function until it is done, pausing on EAGAIN.
    @discardableResult
    func step(deadline: ContinuousClock.Instant, timedOut: SSHError, during: String, _ call: () -> Int32) async throws -> Int32 {
        while true {
            try ensureOpen()
            let rc = call()
            if rc == LIBSSH2_ERROR_EAGAIN { try await pause(deadline: deadline, timedOut: timedOut); continue }
            if rc < 0 { throw lose(during: during, rc: rc) }
            return rc
        }
    }

    /// Waits until this task's channel may have something to do.
    ///
    /// Every task on this connection shares one thread. A task blocks in `poll` only when each
    /// job queued behind it is another task that already yielded with no bytes received since
    /// (so it too can only wait for the socket); otherwise it yields, letting queued work run
    /// and letting channels read what an earlier read buffered for them. The poll ends at the
    /// earliest deadline of any waiting task, or when work arrives from another thread.
    func pause(deadline: ContinuousClock.Instant, timedOut: SSHError) async throws {
        if let session, libssh2_session_block_directions(session) & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 {
            // Our packet is half-written: libssh2 refuses any other packet until this same call
            // finishes it, so nobody else may run until the socket takes the rest.
            guard waitForSocket(until: deadline) else { throw timedOut }
            try ensureOpen()
            return
        }
        let token = nextPauseToken
        nextPauseToken += 1
        pauseDeadlines[token] = deadline
        defer { pauseDeadlines[token] = nil }
        let received = Int64(counter.pointee.received)
        if executor.pendingJobCount > idleYielders[received, default: 0] {
            idleYielders[received, default: 0] += 1
            await Task.yield()
            idleYielders[received, default: 1] -= 1
            if idleYielders[received] == 0 { idleYielders[received] = nil }
        } else {
            waitForSocket(until: pauseDeadlines.values.min() ?? deadline)
            // What woke the poll may be another task's tunnel, which the socket's byte count
            // does not show: let that task run before polling again.
            if tunnelReady { await Task.yield() }
        }
        if ContinuousClock.now >= deadline { throw timedOut }
        try ensureOpen()
    }

    /// Runs `body` while no other task holds `lock` (which guards libssh2 state kept per session).
    func exclusively<T>(_ lock: SessionLock, _ body: () async throws -> T) async throws -> T {
        while heldLocks.contains(lock) {
            await withCheckedContinuation { lockWaiters.append((lock, $0)) }
            try ensureOpen()
        }
        heldLocks.insert(lock)
        defer {
            heldLocks.remove(lock)
            if let next = lockWaiters.firstIndex(where: { $0.0 == lock }) { lockWaiters.remove(at: next).1.resume() }
        }
        return try await body()
    }

    /// Turns a libssh2 failure into a connection error, and marks the session unusable when the
    /// connection itself is gone.
    func lose(during: String, rc: Int32) -> SSHError {
        let reason: String
        switch rc {
        case LIBSSH2_ERROR_SOCKET_DISCONNECT: reason = "the server closed the connection (sshd killed or restarted?)"
        case LIBSSH2_ERROR_SOCKET_RECV, LIBSSH2_ERROR_SOCKET_SEND: reason = "network error: \(lastErrorMessage())"
        default: reason = "\(lastErrorMessage()) [libssh2 \(rc)]"
        }
        let error = SSHError.connectionLost(endpoint: endpoint, during: "`\(SSHError.abbreviate(during))`", reason: reason)
        if [LIBSSH2_ERROR_SOCKET_DISCONNECT, LIBSSH2_ERROR_SOCKET_RECV, LIBSSH2_ERROR_SOCKET_SEND].contains(rc) {
            lost = error
        }
        return error
    }
}
