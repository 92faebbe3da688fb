import CLibSSH2
import Foundation
import Glibc

/// A non-blocking TCP connection with a connect timeout, for libssh2 to drive.
enum TCPSocket {
    /// - peerReset: set when the server reset a connection it had just accepted (an sshd past its
    ///   MaxStartups, or under load, drops new connections so): worth one fresh try.
    static func connect(host: String, port: Int, timeout: Duration, endpoint: String, peerReset: inout Bool) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = lvs_sock_stream()
        hints.ai_flags = AI_ADDRCONFIG
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw SSHError.resolveFailed(host: host, reason: String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(list) }

        let deadline = ContinuousClock.now + timeout
        var lastError = "no address"
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | lvs_sock_cloexec(), info.pointee.ai_protocol)
            guard fd >= 0 else { lastError = String(cString: strerror(errno)); continue }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var one: Int32 = 1
            // Small command round trips: send at once rather than wait to fill a segment.
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return fd }
            guard errno == EINPROGRESS else {
                lastError = String(cString: strerror(errno)); close(fd); continue
            }
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let remaining = deadline - ContinuousClock.now
            let ready = poll(&pfd, 1, Int32(max(0, remaining.milliseconds)))
            if ready == 0 {
                close(fd)
                throw SSHError.connectTimedOut(endpoint: endpoint, seconds: timeout.seconds)
            }
            var soError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
            if ready > 0 && soError == 0 { return fd }
            if soError == ECONNRESET { peerReset = true }
            lastError = String(cString: strerror(soError != 0 ? soError : errno))
            close(fd)
        }
        throw SSHError.connectFailed(endpoint: endpoint, reason: lastError)
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (s, atto) = components
        return s * 1000 + atto / 1_000_000_000_000_000
    }
    var seconds: Double { Double(milliseconds) / 1000 }
}
