import CLibSSH2
import Foundation
import Glibc

/// A host reached through another (OpenSSH's ProxyJump): the jump connection opens a
/// `direct-tcpip` channel to the host's address, and a task on the jump connection's thread
/// pumps that channel to one end of a local socket pair; the inner session speaks SSH over the
/// other end as if it were a TCP socket. Host keys are checked on every hop, each against its
/// own known_hosts entry, and each hop has its own timeouts.
extension SSHConnection {
    /// Connects to `target` through `jump` (an open connection to the jump host).
    public static func connect(to target: SSHTarget, options: SSHOptions = SSHOptions(), through jump: SSHConnection) async throws -> SSHConnection {
        try await connect(to: target, options: options) {
            try await jump.tunnel(to: target.host, port: target.port, timeout: options.connectTimeout)
        }
    }

    /// Opens a channel to `host:port` from this host and answers the local end of a socket pair
    /// that carries it (closed by whoever uses it; the channel closes with it).
    func tunnel(to host: String, port: Int, timeout: Duration) async throws -> Int32 {
        try ensureOpen()
        let deadline = ContinuousClock.now + timeout
        let destination = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let timedOut = SSHError.tunnelFailed(jump: endpoint, destination: destination, reason: "no answer within \(timeout.seconds) s")
        let channel: OpaquePointer = try await exclusively(.channelOpen) {
            while true {
                try ensureOpen()
                if let channel = lvs_channel_direct_tcpip(session, host, Int32(port)) { return channel }
                let rc = lastErrno()
                if rc == LIBSSH2_ERROR_EAGAIN { try await pause(deadline: deadline, timedOut: timedOut); continue }
                if rc == LIBSSH2_ERROR_CHANNEL_FAILURE {
                    // sshd says why: "administratively prohibited" (AllowTcpForwarding no), or the
                    // connect error it met ("Connection refused", "No route to host").
                    throw SSHError.tunnelFailed(jump: endpoint, destination: destination, reason: lastErrorMessage())
                }
                throw lose(during: "opening a tunnel to \(destination)", rc: rc)
            }
        }
        var ends: [Int32] = [-1, -1]
        guard lvs_socketpair(&ends) == 0 else {
            _ = libssh2_channel_free(channel)
            throw SSHError.tunnelFailed(jump: endpoint, destination: destination, reason: "socketpair: \(String(cString: strerror(errno)))")
        }
        tunnelDescriptors.insert(ends[1])
        Task { await self.pump(channel, ends[1]) }
        return ends[0]
    }

    /// Moves bytes both ways between the channel and the socket until either side ends.
    private func pump(_ channel: OpaquePointer, _ socket: Int32) async {
        var toSocket: [UInt8] = []
        var toChannel: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 32 * 1024)
        let forever = SSHError.closed(endpoint: endpoint)
        defer {
            tunnelDescriptors.remove(socket)
            tunnelWriters.remove(socket)
            Glibc.close(socket)
            // Once the session is closed it has freed its channels itself.
            if session != nil {
                if lost == nil { _ = libssh2_channel_close(channel) }
                _ = libssh2_channel_free(channel)
            }
        }
        while lost == nil {
            // Reading or writing the channel drains the socket for the whole session: bytes that
            // came for this channel meanwhile wait in libssh2's queue, and only another turn
            // takes them (see `readAvailable`).
            let receivedBefore = counter.pointee.received
            var progressed = false
            if toSocket.isEmpty {
                let count = buffer.withUnsafeMutableBufferPointer { p in
                    p.withMemoryRebound(to: CChar.self) { lvs_channel_read(channel, 0, $0.baseAddress, $0.count) }
                }
                if count > 0 { toSocket = Array(buffer[0..<count]); progressed = true }
                else if count < 0 && count != Int(LIBSSH2_ERROR_EAGAIN) { return }
                else if count == Int(LIBSSH2_ERROR_EAGAIN) && halfWritten {
                    // Reading sent a window adjustment the socket did not take whole: the read
                    // must finish it before any other packet is sent.
                    guard waitWritable() else { return }
                    continue
                }
                else if libssh2_channel_eof(channel) != 0 { return }   // the far host closed the connection
            }
            if !toSocket.isEmpty {
                let sent = toSocket.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent > 0 { toSocket.removeFirst(sent); progressed = true }
                else if errno != EAGAIN { return }
                // A full socket: wake when the inner session has read some of it.
                if toSocket.isEmpty { tunnelWriters.remove(socket) } else { tunnelWriters.insert(socket) }
            }
            if toChannel.isEmpty {
                let count = buffer.withUnsafeMutableBytes { Glibc.recv(socket, $0.baseAddress, $0.count, 0) }
                if count > 0 { toChannel = Array(buffer[0..<count]); progressed = true }
                else if count == 0 { return }   // the inner session closed its end
                else if errno != EAGAIN { return }
            }
            if !toChannel.isEmpty {
                let written = toChannel.withUnsafeBufferPointer { p in
                    p.withMemoryRebound(to: CChar.self) { buffer in flushing { lvs_channel_write(channel, buffer.baseAddress, buffer.count) } }
                }
                if written > 0 { toChannel.removeFirst(written); progressed = true }
                else if written != Int(LIBSSH2_ERROR_EAGAIN) { return }
            }
            if !progressed && counter.pointee.received == receivedBefore {
                do { try await pause(deadline: ContinuousClock.now + .seconds(3600), timedOut: forever) } catch { return }
            }
        }
    }
}
